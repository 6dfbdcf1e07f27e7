"""The check run a review leaves on the head commit: its conclusion follows `.coderevai.yml`'s
`fail_on` over the findings still open in the pull request, so branch protection can require it."""

from __future__ import annotations

from coderevai_core.findings import SEVERITY_ORDER

from shared.github_app.client import Installation

NAME = "CodeRevAI"
MAX_TEXT = 65_000  # GitHub's cap on a check run's summary is 65,535 characters


def conclusion(open_severities: dict[str, str], fail_on: str) -> str:
    if fail_on == "never":
        return "success"
    threshold = SEVERITY_ORDER.index(fail_on)
    failing = [s for s in open_severities.values() if s in SEVERITY_ORDER and SEVERITY_ORDER.index(s) <= threshold]
    return "failure" if failing else "success"


def post(github: Installation, repository: str, head_sha: str, outcome: str, title: str, summary: str) -> dict:
    body = {
        "name": NAME,
        "head_sha": head_sha,
        "status": "completed",
        "conclusion": outcome,
        "output": {"title": title[:255], "summary": summary[:MAX_TEXT]},
    }
    return github.call("POST", f"/repos/{repository}/check-runs", json=body).json()
