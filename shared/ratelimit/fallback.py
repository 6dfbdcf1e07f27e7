"""Per-instance decisions while the store is unreachable."""

from __future__ import annotations

import threading
from collections.abc import Sequence

from shared.ratelimit import window
from shared.ratelimit.decision import Decision


class Fallback:
    """Per-instance decisions while the store is unreachable, starting from what the store last
    reported for the key (its count; its oldest request and the report's time bound when they
    leave), so that switching to it never admits more than the limit in one window on this
    instance. A key the store never reported on to this instance starts from zero: assuming a full
    window turned a store outage into an outage of every user a new instance had not met. What it
    admits is handed to the store once it answers again, so switching back does not admit more."""

    SWEEP_EVERY = 1000  # decisions; drops what is older than its window

    def __init__(self) -> None:
        # key -> (count, oldest, latest, window): store reports on this instance's clock (ms)
        self._reports: dict[str, tuple[int, int, int, int]] = {}
        self._admitted: dict[str, list[int]] = {}  # key -> times this fallback admitted, not yet told
        self._lock = threading.Lock()
        self._calls = 0

    def reported(self, key: str, decision: Decision, window_ms: int, told: Sequence[int]) -> None:
        """The store decided (and counted `told`, this fallback's admissions it was sent)."""
        local_now = window.now_ms()
        count = decision.limit - decision.remaining
        oldest = decision.reset_ms - window_ms - decision.now_ms + local_now
        with self._lock:
            self._reports[key] = (count, min(oldest, local_now), local_now, window_ms)
            if told and key in self._admitted:
                sent = set(told)
                self._admitted[key] = [moment for moment in self._admitted[key] if moment not in sent]
            self._count_call(local_now)

    def untold(self, key: str) -> list[int]:
        """The times (ms) of this fallback's admissions the store has not counted yet."""
        with self._lock:
            return list(self._admitted.get(key, ()))

    def decide(self, key: str, limit: int, window_ms: int) -> Decision:
        now = window.now_ms()
        with self._lock:
            if key not in self._reports:  # not seen here: this instance has admitted none of it yet
                self._reports[key] = (0, now, now, window_ms)
            count, oldest, latest, _ = self._reports[key]
            # The store's requests fall between its oldest and the report: expire them late, never early.
            seeded = ([oldest] if count else []) + [latest] * max(count - 1, 0)
            admitted = self._admitted.setdefault(key, [])
            window.expire(admitted, now, window_ms)
            live = sorted(seeded + admitted)
            window.expire(live, now, window_ms)
            decision = window.admit(live, limit, window_ms, now)
            if decision.allowed:
                admitted.append(now)
            self._count_call(now)
        return decision

    def _count_call(self, now: int) -> None:
        self._calls += 1
        if self._calls % self.SWEEP_EVERY:
            return
        for key in [k for k, (_, _, latest, window_ms) in self._reports.items() if latest <= now - 10 * window_ms]:
            del self._reports[key]  # long idle: its count has left the window anyway
        for key in [k for k, times in self._admitted.items() if not times]:
            del self._admitted[key]
