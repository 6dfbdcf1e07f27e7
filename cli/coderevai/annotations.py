"""Findings as GitHub Actions workflow commands (`::error file=app.py,line=5,title=...::message`):
annotations on the pull request's files that need no token. Escaped as the runner reads them
(actions/toolkit's command.ts): % CR LF in the message; also : and , in properties."""

from __future__ import annotations

COMMANDS = {"critical": "error", "high": "error", "medium": "warning", "low": "notice", "info": "notice"}


def render(findings: list[dict]) -> str:
    return "".join(command(finding) + "\n" for finding in findings)


def command(finding: dict) -> str:
    properties = {"title": f"{finding['severity']}: {finding['title']}"}
    if finding.get("file"):
        properties = {
            "file": finding["file"],
            **({"line": str(finding["line"])} if finding.get("line") else {}),
            **properties,
        }
    rule = finding.get("ruleId")
    message = finding.get("detail") or finding["title"]
    if rule:
        message += f" ({rule})"
    if finding.get("suggestion"):
        message += f"\nSuggestion: {finding['suggestion']}"
    listed = ",".join(f"{key}={escape_property(value)}" for key, value in properties.items())
    return f"::{COMMANDS.get(finding['severity'], 'warning')} {listed}::{escape_data(message)}"


def escape_data(text: str) -> str:
    return text.replace("%", "%25").replace("\r", "%0D").replace("\n", "%0A")


def escape_property(text: str) -> str:
    return escape_data(text).replace(":", "%3A").replace(",", "%2C")
