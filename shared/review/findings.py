"""One finding, whichever analyser made it: ruff, bandit, our structural rules, shellcheck, hadolint,
zizmor, the secrets check or the model."""

from __future__ import annotations

from typing import Literal

from pydantic import BaseModel, Field

Severity = Literal["critical", "high", "medium", "low", "info"]
FindingSource = Literal["ruff", "bandit", "rules", "secrets", "model", "shellcheck", "hadolint", "zizmor"]
SEVERITY_ORDER: tuple[Severity, ...] = ("critical", "high", "medium", "low", "info")


class Finding(BaseModel):
    severity: Severity
    category: str = Field(max_length=80)
    title: str = Field(max_length=300)
    detail: str = Field(max_length=4000)
    line: int | None = Field(default=None, ge=1)
    file: str | None = None
    suggestion: str | None = Field(default=None, max_length=8000)
    source: FindingSource
    rule: str | None = Field(default=None, max_length=120)  # the analyser's rule id (F401, B602, python-ssrf, ...)


def by_severity(findings: list[Finding]) -> list[Finding]:
    """Most severe first; within a severity, by file then line (stable for equal places)."""
    return sorted(
        findings,
        key=lambda f: (SEVERITY_ORDER.index(f.severity), f.file or "", f.line or 0),
    )
