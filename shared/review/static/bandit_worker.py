"""bandit in a long-lived process of its own, for large files: one JSON line in (the paths), one
JSON line out (bandit's issues), for as long as the parent lives.

    python -m shared.review.static.bandit_worker

Hand-written rather than a multiprocessing pool: multiprocessing's children re-run the parent's
__main__ (the server's entry script) before they start, and this protocol is a dozen lines."""

from __future__ import annotations

import json
import sys


def main() -> None:
    from shared.review.static.python_tools import bandit_items

    bandit_items([])  # import bandit and build its plugin registry before the first request
    for line in sys.stdin:
        sys.stdout.write(json.dumps(bandit_items(json.loads(line))) + "\n")
        sys.stdout.flush()


if __name__ == "__main__":
    main()
