"""A review of a change keeps the findings on its changed lines, or a few lines around them: the
server for `files[].changedLines` (shared/repo/changed_lines.py), the command line for `--diff`."""

from __future__ import annotations

from collections.abc import Mapping, Sequence

from pydantic import BaseModel, ConfigDict, Field, model_validator

from coderevai_core.findings import Finding

CONTEXT_LINES = 3  # a finding this close to a changed line is about the change (a call's arguments, its guard)


class LineRange(BaseModel):
    model_config = ConfigDict(extra="forbid", defer_build=True)

    start: int = Field(ge=1)
    end: int = Field(ge=1)

    @model_validator(mode="after")
    def _ordered(self) -> LineRange:
        if self.end < self.start:
            raise ValueError("end must not be before start")
        return self


ChangedLines = Mapping[str, Sequence[LineRange]]  # path -> its changed ranges; absent: the whole file


def on_changed_lines(findings: list[Finding], changed: ChangedLines) -> list[Finding]:
    """The findings about the change: in a file without ranges, all; in a file with ranges, those
    within CONTEXT_LINES of one (a finding about the whole file, with no line, stays)."""
    return [finding for finding in findings if about_change(finding.file, finding.line, changed)]


def not_shown(count: int) -> str:
    """What a change's review says of the findings it left out: their count, never their text."""
    return f"{count} finding{'s' if count != 1 else ''} on unchanged lines not shown"


def about_change(file: str | None, line: int | None, changed: ChangedLines, context: int = CONTEXT_LINES) -> bool:
    """Whether a finding at this place is about the change: within `context` lines of a changed range."""
    ranges = changed.get(file or "")
    if ranges is None or not line:
        return True
    return any(r.start - context <= line <= r.end + context for r in ranges)
