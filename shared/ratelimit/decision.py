"""What a limiter decides, and what every backend answers to."""

from __future__ import annotations

import math
from collections.abc import Sequence
from typing import NamedTuple, Protocol


class Decision(NamedTuple):
    allowed: bool
    limit: int
    remaining: int
    reset_ms: int  # unix ms (the store's clock) when the oldest counted request leaves the window
    now_ms: int
    backend: str  # "upstash", "redis" or "local" (per instance)

    @property
    def retry_after(self) -> int:
        return max(1, math.ceil((self.reset_ms - self.now_ms) / 1000))

    def headers(self) -> dict[str, str]:
        return {
            "X-RateLimit-Limit": str(self.limit),
            "X-RateLimit-Remaining": str(self.remaining),
            "X-RateLimit-Reset": str(math.ceil(self.reset_ms / 1000)),
        }


class Backend(Protocol):
    name: str

    def decide(self, key: str, limit: int, window_ms: int, earlier: Sequence[int] = ()) -> Decision:
        """`earlier`: ages (ms) of requests admitted without the store, for it to count too."""
        ...

    def ping(self) -> None: ...

    def close(self) -> None: ...
