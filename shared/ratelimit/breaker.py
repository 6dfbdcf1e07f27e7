"""The shared store behind a circuit breaker: while it is open, decisions are the fallback's."""

from __future__ import annotations

import logging
import threading
import time

from shared.ratelimit import window
from shared.ratelimit.backends import InProcessBackend
from shared.ratelimit.decision import Backend, Decision
from shared.ratelimit.fallback import Fallback

log = logging.getLogger("coderevai.ratelimit")


class RateLimiter:
    """The shared backend behind a circuit breaker, with the per-instance fallback behind that."""

    def __init__(self, shared: Backend | None, breaker_seconds: float) -> None:
        self.shared = shared
        self.local = InProcessBackend()
        self.fallback = Fallback()
        self.breaker_seconds = breaker_seconds
        self._open_until: float | None = None  # None: closed (use the shared backend)
        self._probing = False
        self._lock = threading.Lock()

    def decide(self, key: str, limit: int, window_ms: int) -> Decision:
        if self.shared is None:
            return self.local.decide(key, limit, window_ms)
        if not self._may_try():
            return self.fallback.decide(key, limit, window_ms)
        untold = self.fallback.untold(key)
        now = window.now_ms()
        try:
            decision = self.shared.decide(key, limit, window_ms, [now - moment for moment in untold])
        except Exception as exc:
            self._trip(exc)
            return self.fallback.decide(key, limit, window_ms)
        self.fallback.reported(key, decision, window_ms, untold)
        self._recover()
        return decision

    @property
    def open(self) -> bool:
        return self._open_until is not None

    def _may_try(self) -> bool:
        with self._lock:
            if self._open_until is None:
                return True
            if time.monotonic() < self._open_until or self._probing:
                return False
            self._probing = True  # half open: one request probes, the others stay local
            return True

    def _trip(self, exc: Exception) -> None:
        with self._lock:
            first = self._open_until is None
            self._open_until = time.monotonic() + self.breaker_seconds
            self._probing = False
        if first:
            log.warning(
                "rate limiter: %s store failed (%s: %s); per-instance limits for the next %g s",
                self.shared.name if self.shared else "shared",
                type(exc).__name__,
                str(exc)[:200],
                self.breaker_seconds,
            )

    def _recover(self) -> None:
        if self._open_until is None:
            return
        with self._lock:
            self._open_until, self._probing = None, False
        log.warning("rate limiter: %s store reachable again", self.shared.name if self.shared else "shared")

    def close(self) -> None:
        if self.shared is not None:
            self.shared.close()
