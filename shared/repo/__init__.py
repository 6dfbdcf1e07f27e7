"""Repository review: fetching from GitHub, choosing the files, token-budgeted batches, the
cross-file synthesis, changed-line focus and SARIF (start at review.py)."""
