"""The sources the last rule scans found, kept for reached_lines on the same files (bandit's findings
come after the scan): finding them again cost as much as the scan of a large file."""

from __future__ import annotations

import threading
from collections import OrderedDict

from shared.review.static.rules.taint import Sources

_RECENT_SOURCES: OrderedDict[tuple[str, str], Sources] = OrderedDict()
RECENT_SOURCES_KEPT = 8
_recent_lock = threading.Lock()


def remember(grammar: str, content: str, sources: Sources) -> None:
    with _recent_lock:
        _RECENT_SOURCES[(grammar, content)] = sources
        while len(_RECENT_SOURCES) > RECENT_SOURCES_KEPT:
            _RECENT_SOURCES.popitem(last=False)


def recall(grammar: str, content: str) -> Sources | None:
    with _recent_lock:
        return _RECENT_SOURCES.pop((grammar, content), None)
