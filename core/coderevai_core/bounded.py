"""Text cut to a limit, saying where. What an analyser, the model or a user wrote can be any length
(ruff quotes a 150,000-character name whole); a bounded place for it (a finding's title, a log line)
keeps the start and ends with MARKER, so no length of content can fail validation or flood a log."""

from __future__ import annotations

MARKER = "…"


def cut(text: str, limit: int, marker: str = MARKER) -> str:
    """`text` within `limit` characters (code points, as pydantic's max_length counts them: a cut
    never splits a character, whatever its UTF-8 length), ending with the marker when it was cut."""
    if len(text) <= limit:
        return text
    keep = max(limit - len(marker), 0)
    return text[:keep] + marker[: limit - keep]
