"""Where the window is kept: Upstash REST or a plain Redis URL (the store's script decides, one round
trip each), or this instance's memory for the embedded local default."""

from __future__ import annotations

import hashlib
import threading
from collections.abc import Sequence
from pathlib import Path

from shared.ratelimit import window
from shared.ratelimit.decision import Decision

SLIDING_WINDOW = (Path(__file__).parent / "sliding_window.lua").read_text()
SLIDING_WINDOW_SHA = hashlib.sha1(SLIDING_WINDOW.encode(), usedforsecurity=False).hexdigest()


def _decision(result: list, backend: str, limit: int) -> Decision:
    allowed, remaining, reset_ms, now_ms = (int(value) for value in result)
    return Decision(bool(allowed), limit, remaining, reset_ms, now_ms, backend)


class RedisBackend:
    """A plain Redis URL through redis-py (Memorystore, self-hosted, local)."""

    name = "redis"

    def __init__(self, url: str, timeout: float) -> None:
        import redis
        from redis.backoff import NoBackoff
        from redis.retry import Retry

        # redis-py retries a command up to 10 times on a timeout by default, and a timed-out
        # script may already have run: a resent EVALSHA would count one request twice.
        pool = redis.ConnectionPool.from_url(
            url, socket_timeout=timeout, socket_connect_timeout=timeout, retry=Retry(NoBackoff(), 0)
        )
        self.client = redis.Redis(connection_pool=pool)
        self._no_script = redis.exceptions.NoScriptError

    def decide(self, key: str, limit: int, window_ms: int, earlier: Sequence[int] = ()) -> Decision:
        args = (limit, window_ms, ",".join(map(str, earlier)))
        try:
            result = self.client.evalsha(SLIDING_WINDOW_SHA, 1, key, *args)
        except self._no_script:
            result = self.client.eval(SLIDING_WINDOW, 1, key, *args)
        return _decision(result, self.name, limit)

    def ping(self) -> None:
        self.client.ping()

    def close(self) -> None:
        self.client.close()


class UpstashBackend:
    """Upstash Redis over REST through the official upstash-redis client."""

    name = "upstash"

    def __init__(self, url: str, token: str, timeout: float) -> None:
        import httpx
        from upstash_redis import Redis
        from upstash_redis.errors import UpstashError

        # rest_retries=0: the client resends a request on ANY exception, including a read timeout
        # after the script already ran. read_your_writes off: the script runs on the primary.
        self.client = Redis(url, token, rest_retries=0, allow_telemetry=False, read_your_writes=False)
        # The client builds httpx.Client(timeout=None) and has no option for it: set ours.
        http = self.client._http._client
        if not isinstance(http, httpx.Client):
            raise RuntimeError("upstash-redis changed its HTTP client; review UpstashBackend")
        http.timeout = httpx.Timeout(timeout)
        self._error = UpstashError

    def decide(self, key: str, limit: int, window_ms: int, earlier: Sequence[int] = ()) -> Decision:
        args = [str(limit), str(window_ms), ",".join(map(str, earlier))]
        try:
            result = self.client.evalsha(SLIDING_WINDOW_SHA, keys=[key], args=args)
        except self._error as exc:
            if not str(exc).startswith("NOSCRIPT"):
                raise
            result = self.client.eval(SLIDING_WINDOW, keys=[key], args=args)
        return _decision(result, self.name, limit)

    def ping(self) -> None:
        self.client.ping()

    def close(self) -> None:
        self.client.close()


class InProcessBackend:
    """The same sliding window in this instance's memory: the development default (no store)."""

    name = "local"
    SWEEP_EVERY = 1000  # decisions; drops windows with nothing left in them

    def __init__(self) -> None:
        self._windows: dict[str, tuple[list[int], int]] = {}  # key -> (admitted times, window ms)
        self._lock = threading.Lock()
        self._calls = 0

    def decide(self, key: str, limit: int, window_ms: int) -> Decision:
        now = window.now_ms()
        with self._lock:
            times = self._windows.get(key, ([], 0))[0]
            self._windows[key] = (times, window_ms)
            window.expire(times, now, window_ms)
            decision = window.admit(times, limit, window_ms, now)
            self._calls += 1
            if self._calls % self.SWEEP_EVERY == 0:
                self._sweep(now)
        return decision

    def _sweep(self, now: int) -> None:
        for key in [k for k, (times, window_ms) in self._windows.items() if not times or times[-1] <= now - window_ms]:
            del self._windows[key]

    def close(self) -> None:
        self._windows.clear()
