"""One finding, whichever analyser made it: ruff, bandit, our structural rules, shellcheck, hadolint,
zizmor, the secrets check or the model."""

from __future__ import annotations

from typing import Literal

from pydantic import BaseModel, Field, model_validator

Severity = Literal["critical", "high", "medium", "low", "info"]
FindingSource = Literal["ruff", "bandit", "rules", "secrets", "model", "shellcheck", "hadolint", "zizmor"]
Verdict = Literal["confirmed", "false_positive"]
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
    # Every analyser that saw this problem, `source` first (several when duplicates were merged: noise.py).
    analysers: list[FindingSource] = Field(default_factory=list)
    # The model's triage of a static finding (None: not triaged, e.g. offline), and why it dismissed one.
    verdict: Verdict | None = None
    verdictReason: str | None = Field(default=None, max_length=300)

    @model_validator(mode="after")
    def _seen_by_its_source(self) -> Finding:
        if not self.analysers:
            self.analysers = [self.source]
        return self


def by_severity(findings: list[Finding]) -> list[Finding]:
    """Most severe first; within a severity, by file then line (stable for equal places)."""
    return sorted(
        findings,
        key=lambda f: (SEVERITY_ORDER.index(f.severity), f.file or "", f.line or 0),
    )
