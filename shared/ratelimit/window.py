"""The sliding window in this instance's memory, as the store's script keeps it
(sliding_window.lua): the in-process backend and the fallback both decide here."""

from __future__ import annotations

import time

from shared.ratelimit.decision import Decision


def now_ms() -> int:
    return time.time_ns() // 1_000_000


def expire(times: list[int], now: int, window_ms: int) -> None:
    """Drop, in place, the times that have left the window (at most a limit's worth are kept)."""
    times[:] = [moment for moment in times if moment > now - window_ms]


def admit(live: list[int], limit: int, window_ms: int, now: int) -> Decision:
    """Decide on `live`, the requests counted in the window (ms, oldest first), appending `now` when
    allowed. Reset is when the slot that would let one more in frees: the oldest counted request's
    time plus the window, or a later one's when a lowered limit left more than it in the window."""
    allowed = len(live) < limit
    if allowed:
        live.append(now)
    slot = max(len(live) - limit, 0)
    reset = live[slot] + window_ms if live else now + window_ms
    return Decision(allowed, limit, max(limit - len(live), 0), reset, now, "local")
