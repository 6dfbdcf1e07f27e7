"""Secret-bearing files (.env, keys, credentials) never leave the machine: the client runs the
server's own secrets check on them here (coderevai_core.secret_scan) and keeps only
findings, whose text names the kind and length of a secret, never a character of it."""

from __future__ import annotations

from pathlib import Path

from coderevai_core import secret_scan, selection
from coderevai_core.findings import Finding

SECRET_REASON = "may hold secrets"  # noqa: S105 (the reason text, not a secret)
SCANNED_HERE = "; checked for secrets on this machine, not sent"


def is_secret_bearing(reason: str) -> bool:
    return reason.startswith(SECRET_REASON)


def scan(paths: list[str], cwd: Path) -> list[Finding]:
    """The secrets check on each file (a binary key store is a finding by its presence; an empty file is none)."""
    found: list[Finding] = []
    for path in paths:
        with (cwd / path).open("rb") as file:
            raw = file.read(selection.MAX_FILE_BYTES)
        text, reason = selection.as_text(raw)
        if reason == "empty":
            continue
        found += secret_scan.secret_file_findings(path, text)
    return found
