"""One finding, whichever analyser made it: ruff, bandit, our structural rules, shellcheck, hadolint,
zizmor, the secrets check or the model.

Its text fields are bounded (TEXT_LIMITS), and the bound is kept here, where every finding is made:
a text over its limit is cut with a marker (core/coderevai_core/bounded.py), on construction and on
`model_copy(update=...)` alike, never refused. The analysers quote the user's code (ruff puts a
150,000-character name whole into its message), so refusing would turn content into a 500; the
finding's `line` still points at the whole of it."""

from __future__ import annotations

from typing import Any, Literal

from pydantic import BaseModel, Field, model_validator

from coderevai_core.bounded import cut

Severity = Literal["critical", "high", "medium", "low", "info"]
FindingSource = Literal["ruff", "bandit", "rules", "secrets", "model", "shellcheck", "hadolint", "zizmor"]
Verdict = Literal["confirmed", "false_positive"]
SEVERITY_ORDER: tuple[Severity, ...] = ("critical", "high", "medium", "low", "info")
TEXT_LIMITS = {"category": 80, "title": 300, "detail": 4000, "suggestion": 8000, "rule": 120, "verdictReason": 300}


class Finding(BaseModel):
    severity: Severity
    category: str = Field(max_length=TEXT_LIMITS["category"])
    title: str = Field(max_length=TEXT_LIMITS["title"])
    detail: str = Field(max_length=TEXT_LIMITS["detail"])
    line: int | None = Field(default=None, ge=1)
    file: str | None = None
    suggestion: str | None = Field(default=None, max_length=TEXT_LIMITS["suggestion"])
    source: FindingSource
    # the analyser's rule id (F401, B602, python-ssrf, ...)
    rule: str | None = Field(default=None, max_length=TEXT_LIMITS["rule"])
    # Every analyser that saw this problem, `source` first (several when duplicates were merged: noise.py).
    # `[]`, not default_factory=list: pydantic copies the default per instance, and for a builtin
    # factory it reads the signature through tokenize (~2 ms at every cold start).
    analysers: list[FindingSource] = []
    # The model's triage of a static finding (None: not triaged, e.g. offline), and why it dismissed one.
    verdict: Verdict | None = None
    verdictReason: str | None = Field(default=None, max_length=TEXT_LIMITS["verdictReason"])

    @model_validator(mode="before")
    @classmethod
    def _texts_within_limits(cls, data: Any) -> Any:
        return within_limits(data) if isinstance(data, dict) else data

    @model_validator(mode="after")
    def _seen_by_its_source(self) -> Finding:
        if not self.analysers:
            self.analysers = [self.source]
        return self

    def model_copy(self, *, update: dict[str, Any] | None = None, deep: bool = False) -> Finding:
        """As pydantic's, with the update's texts cut as a new finding's are (pydantic does not
        validate an update)."""
        return super().model_copy(update=within_limits(update) if update else update, deep=deep)


def within_limits(fields: dict[str, Any]) -> dict[str, Any]:
    """`fields` with each bounded text cut to its limit (a copy when one was cut)."""
    over = {
        name: cut(value, TEXT_LIMITS[name])
        for name, value in fields.items()
        if isinstance(value, str) and name in TEXT_LIMITS and len(value) > TEXT_LIMITS[name]
    }
    return {**fields, **over} if over else fields


def by_severity(findings: list[Finding]) -> list[Finding]:
    """Most severe first; within a severity, by file then line (stable for equal places)."""
    return sorted(
        findings,
        key=lambda f: (SEVERITY_ORDER.index(f.severity), f.file or "", f.line or 0),
    )
