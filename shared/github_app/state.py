"""What the app remembers of a pull request, kept in a hidden marker in its summary comment (so a
lost database row or another region's worker sees the same): the last commit reviewed (the next
push is reviewed from there), whether reviews are paused, and the most severe finding still open
in each file (the check run's conclusion on an incremental review covers the files not read again)."""

from __future__ import annotations

import json
import re

from pydantic import BaseModel, ValidationError

MARKER = "<!-- coderevai:state {} -->"
_MARKER = re.compile(r"<!-- coderevai:state (\{.*?\}) -->", re.S)


class PullState(BaseModel):
    reviewed: str | None = None  # the head commit of the last review
    paused: bool = False
    pausedBy: str | None = None
    open: dict[str, str] = {}  # path -> the most severe finding's severity there, at `reviewed`

    def marker(self) -> str:
        return MARKER.format(
            json.dumps(self.model_dump(exclude_defaults=True), sort_keys=True).replace("--", "\\u002d\\u002d")
        )


def read(body: str | None) -> PullState:
    match = _MARKER.search(body or "")
    if not match:
        return PullState()
    try:
        return PullState.model_validate_json(match.group(1))
    except ValidationError:
        return PullState()


def write(body: str, state: PullState) -> str:
    """`body` with its state marker replaced (or added at the end)."""
    if _MARKER.search(body):
        return _MARKER.sub(lambda _m: state.marker(), body, count=1)
    return body.rstrip("\n") + "\n\n" + state.marker() + "\n"
