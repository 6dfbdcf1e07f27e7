"""The GitHub App: every pull request of an installation reviewed with no workflow to write
(docs/github-app.md). Start at webhook.py (a delivery -> a queued task) and worker.py (a task -> a
review posted on the pull request)."""
