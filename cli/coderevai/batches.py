"""Files packed into review-repo requests within the server's caps: files per request, bytes of
content per request, and bytes of the JSON body (escaping can make a body bigger than its files)."""

from __future__ import annotations

import json

from coderevai_core import selection

BODY_MARGIN = 64 * 1024  # the rest of the body: review modes, notes, keys


def entry_size(entry: dict) -> tuple[int, int]:
    """(content bytes as the server counts them, bytes in the JSON body)."""
    return len(entry["content"].encode()), len(json.dumps(entry).encode()) + 1


def pack(
    entries: list[dict],
    *,
    max_files: int = selection.MAX_FILES,
    max_bytes: int = selection.MAX_TOTAL_BYTES,
    max_body: int = selection.MAX_REQUEST_BYTES,
) -> list[list[dict]]:
    """Consecutive entries, as many per request as the caps allow (a file over a cap alone goes alone)."""
    margin = min(BODY_MARGIN, max_body // 8)  # a small stated cap leaves most of itself to the files
    batches: list[list[dict]] = []
    current: list[dict] = []
    content = body = 0
    for entry in entries:
        size, encoded = entry_size(entry)
        full = len(current) >= max_files or content + size > max_bytes or body + encoded > max_body - margin
        if current and full:
            batches.append(current)
            current, content, body = [], 0, 0
        current.append(entry)
        content += size
        body += encoded
    if current:
        batches.append(current)
    return batches


def split(batch: list[dict], max_bytes: int | None) -> list[list[dict]]:
    """A batch the server refused as too large: packed again within the cap it stated (its 413's
    maxBytes bounds both the files' bytes and the body), or halved when it stated none."""
    if max_bytes is not None:
        parts = pack(batch, max_files=len(batch), max_bytes=max_bytes, max_body=max_bytes)
        if len(parts) > 1:
            return parts
    middle = len(batch) // 2
    return [batch[:middle], batch[middle:]]
