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
    return [finding for finding in findings if _about_change(finding, changed)]


def _about_change(finding: Finding, changed: ChangedLines) -> bool:
    ranges = changed.get(finding.file or "")
    if ranges is None or finding.line is None:
        return True
    return any(r.start - CONTEXT_LINES <= finding.line <= r.end + CONTEXT_LINES for r in ranges)
