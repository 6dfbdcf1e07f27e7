"""A review of a change: each file may name its changed line ranges (`files[].changedLines`, from a
branch's diff). The model is asked to focus on them, and only findings on them, or a few lines
around them, are kept (coderevai_core.changed_lines); a file sent without ranges is reviewed whole."""

from __future__ import annotations

from coderevai_core.changed_lines import ChangedLines, LineRange

MAX_RANGES_PER_FILE = 10_000
MAX_RANGES_IN_NOTE = 50  # per file, in the note to the model; the findings filter uses them all


def focus_note(changed: ChangedLines) -> str:
    """What the requester wants looked at, added to their notes (which the prompt treats as a wish
    about focus, never as instructions)."""
    lines = ["This is a review of a change. Focus on the changed lines, and on the code around them only as far as it bears on the change:"]  # fmt: skip
    for path, ranges in changed.items():
        shown = ", ".join(_range_text(r) for r in ranges[:MAX_RANGES_IN_NOTE])
        more = f" and {len(ranges) - MAX_RANGES_IN_NOTE} more ranges" if len(ranges) > MAX_RANGES_IN_NOTE else ""
        lines.append(f"- {path}: {shown or 'no added lines'}{more}")
    return "\n".join(lines)


def _range_text(r: LineRange) -> str:
    return f"line {r.start}" if r.start == r.end else f"lines {r.start}-{r.end}"


def with_focus(custom_prompt: str | None, changed: ChangedLines) -> str | None:
    if not changed:
        return custom_prompt
    note = focus_note(changed)
    return f"{custom_prompt.strip()}\n\n{note}" if custom_prompt and custom_prompt.strip() else note
