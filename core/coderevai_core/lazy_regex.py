"""A regular expression compiled the first time it is used. The secrets check holds ~50 of them,
most needed only when the text holds something secret-shaped; compiling them all as the module
loaded cost each review function's cold start ~4 ms (issue 29)."""

from __future__ import annotations

import re
from typing import Any


class LazyRegex:
    """Stands in for `re.compile(pattern, flags)`: `search`, `match`, `finditer`, `groups`... compile
    it on first use (two threads at once may both compile it, harmlessly)."""

    __slots__ = ("_compiled", "flags", "pattern")

    def __init__(self, pattern: str, flags: int = 0) -> None:
        self.pattern, self.flags = pattern, flags
        self._compiled: re.Pattern[str] | None = None

    @property
    def is_compiled(self) -> bool:
        return self._compiled is not None

    def compile(self) -> re.Pattern[str]:
        if self._compiled is None:
            self._compiled = re.compile(self.pattern, self.flags)
        return self._compiled

    def __getattr__(self, name: str) -> Any:
        return getattr(self.compile(), name)
