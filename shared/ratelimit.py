"""Rate limits per route, user and plan: an exact sliding window decided by one Lua script in Redis
(Upstash REST in production, a plain Redis URL elsewhere), one round trip per request.

The script reads the store's clock (TIME), keeps the times of the requests admitted within the
window, and records a request only when it is allowed, so a burst is counted exactly, instances
cannot interleave, retries while blocked do not extend the block, and `reset` is the moment the
oldest counted request leaves the window. When the store fails, a circuit breaker sends decisions
to a per-instance fallback for RATE_LIMIT_BREAKER_SECONDS, which starts from the store's last count
for the key (from zero for a key this instance has not seen) and hands what it admitted back to
the store once it answers, so an outage neither opens the gate nor denies everyone, nor adds a
timeout to every request: each instance admits at most the limit per window."""

from __future__ import annotations

import hashlib
import logging
import math
import threading
import time
from collections import deque
from collections.abc import Sequence
from typing import NamedTuple, Protocol

from shared.config import RATE_LIMITS, Settings, get_settings, note_default
from shared.errors import ApiError
from shared.plans import FREE, plan_of_user

log = logging.getLogger("coderevai.ratelimit")

# KEYS[1] the window: the admitted requests' times (the store's clock, ms) as 13-digit records,
# oldest first, in one string value. ARGV: limit, window (ms), and optionally the ages (ms before
# now, comma separated) of requests this instance admitted while the store was unreachable.
# TIME, GET and (when something changes) one SET with PX: at most 3 commands per decision, where a
# sorted set needs TIME, ZREMRANGEBYSCORE, ZCARD, ZADD, PEXPIRE and ZRANGE. A binary search finds
# the first record inside the window; the records stay sorted because a new one is never earlier
# than the last. A key left from the sorted-set version (WRONGTYPE) is converted on first use.
SLIDING_WINDOW = """
local key = KEYS[1]
local limit = tonumber(ARGV[1])
local window = tonumber(ARGV[2])
local clock = redis.call('TIME')
local now = tonumber(clock[1]) * 1000 + math.floor(tonumber(clock[2]) / 1000)
local W = 13
local function record(t)
  local digits = tostring(t)
  return string.rep('0', W - #digits) .. digits
end
local changed = false
local stored = redis.pcall('GET', key)
if type(stored) == 'table' and stored.err then
  local old = redis.call('ZRANGEBYSCORE', key, now - window + 1, '+inf', 'WITHSCORES')
  stored, changed = '', true
  for i = 2, #old, 2 do stored = stored .. record(tonumber(old[i])) end
end
stored = stored or ''
if ARGV[3] and ARGV[3] ~= '' then
  local times = {}
  for i = 1, #stored / W do times[#times + 1] = tonumber(string.sub(stored, (i - 1) * W + 1, i * W)) end
  for age in string.gmatch(ARGV[3], '%d+') do times[#times + 1] = now - tonumber(age) end
  table.sort(times)
  local parts = {}
  for i = 1, #times do parts[i] = record(times[i]) end
  stored, changed = table.concat(parts), true
end
local n = #stored / W
local function at(i) return tonumber(string.sub(stored, (i - 1) * W + 1, i * W)) end
local lo, hi = 1, n + 1
while lo < hi do
  local mid = math.floor((lo + hi) / 2)
  if at(mid) > now - window then hi = mid else lo = mid + 1 end
end
local count = n - lo + 1
local live = string.sub(stored, (lo - 1) * W + 1)
local allowed = 0
local newest = now
if count > 0 then newest = math.max(now, at(n)) end
if count < limit then
  live = live .. record(newest)
  count, allowed, changed = count + 1, 1, true
end
if changed then
  if count > 0 then
    redis.call('SET', key, live, 'PX', newest - now + window)
  else
    redis.call('DEL', key)
  end
end
local reset = now + window
if count > 0 then
  local slot = math.max(count - limit + 1, 1)
  reset = tonumber(string.sub(live, (slot - 1) * W + 1, slot * W)) + window
end
return {allowed, math.max(limit - count, 0), reset, now}
"""
SLIDING_WINDOW_SHA = hashlib.sha1(SLIDING_WINDOW.encode(), usedforsecurity=False).hexdigest()


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
        self._windows: dict[str, tuple[deque[int], int]] = {}
        self._lock = threading.Lock()
        self._calls = 0

    def decide(self, key: str, limit: int, window_ms: int) -> Decision:
        now = time.time_ns() // 1_000_000
        with self._lock:
            entries, _ = self._windows.setdefault(key, (deque(), window_ms))
            self._windows[key] = (entries, window_ms)
            while entries and entries[0] <= now - window_ms:
                entries.popleft()
            allowed = len(entries) < limit
            if allowed:
                entries.append(now)
            reset = entries[0] + window_ms if entries else now + window_ms
            remaining = max(limit - len(entries), 0)
            self._calls += 1
            if self._calls % self.SWEEP_EVERY == 0:
                self._sweep(now)
        return Decision(allowed, limit, remaining, reset, now, self.name)

    def _sweep(self, now: int) -> None:
        for key in [k for k, (entries, window) in self._windows.items() if not entries or entries[-1] <= now - window]:
            del self._windows[key]

    def close(self) -> None:
        self._windows.clear()


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
        local_now = _now_ms()
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
        now = _now_ms()
        with self._lock:
            if key not in self._reports:  # not seen here: this instance has admitted none of it yet
                self._reports[key] = (0, now, now, window_ms)
            count, oldest, latest, _ = self._reports[key]
            # The store's requests fall between its oldest and the report: expire them late, never early.
            seeded = ([oldest] if count else []) + [latest] * max(count - 1, 0)
            admitted = self._admitted.setdefault(key, [])
            admitted[:] = [moment for moment in admitted if moment > now - window_ms]
            live = sorted(moment for moment in seeded + admitted if moment > now - window_ms)
            allowed = len(live) < limit
            if allowed:
                admitted.append(now)
                live.append(now)
            slot = max(len(live) - limit, 0)
            reset = live[slot] + window_ms if live else now + window_ms
            self._count_call(now)
        return Decision(allowed, limit, max(limit - len(live), 0), reset, now, "local")

    def _count_call(self, now: int) -> None:
        self._calls += 1
        if self._calls % self.SWEEP_EVERY:
            return
        for key in [k for k, (_, _, latest, window) in self._reports.items() if latest <= now - 10 * window]:
            del self._reports[key]  # long idle: its count has left the window anyway
        for key in [k for k, times in self._admitted.items() if not times]:
            del self._admitted[key]


def _now_ms() -> int:
    return time.time_ns() // 1_000_000


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
        now = _now_ms()
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


def build_limiter(settings: Settings) -> RateLimiter:
    timeout = settings.rate_limit_timeout_seconds
    shared: Backend | None = None
    if settings.upstash_redis_rest_url and settings.upstash_redis_rest_token:
        shared = UpstashBackend(settings.upstash_redis_rest_url, settings.upstash_redis_rest_token, timeout)
    elif settings.redis_url:
        shared = RedisBackend(settings.redis_url, timeout)
    else:
        note_default("no UPSTASH_REDIS_REST_URL or REDIS_URL: rate limits are per instance (in-process)")
    return RateLimiter(shared, settings.rate_limit_breaker_seconds)


_limiter: RateLimiter | None = None
_built_for: Settings | None = None
_build_lock = threading.Lock()


def get_limiter() -> RateLimiter:
    """One limiter per instance, rebuilt when the settings are reloaded (tests)."""
    global _limiter, _built_for
    settings = get_settings()
    if _limiter is not None and _built_for is settings:
        return _limiter
    with _build_lock:
        if _limiter is None or _built_for is not settings:
            if _limiter is not None:
                _limiter.close()
            _limiter, _built_for = build_limiter(settings), settings
        return _limiter


def check_route(route: str) -> None:
    if route not in RATE_LIMITS:
        raise ValueError(f"unknown rate-limited route {route!r}; add it to RATE_LIMITS in shared/config.py")


_unknown_plans: set[tuple[str, str]] = set()


def decide(route: str, user_id: str, plan: str | None = None) -> Decision:
    """`plan` given: limit `user_id` (any identity, e.g. a client address) as that plan, no lookup."""
    settings = get_settings()
    limits = settings.rate_limits[route]
    plan = plan or plan_of_user(user_id)
    if plan not in limits:
        if (plan, route) not in _unknown_plans:
            _unknown_plans.add((plan, route))
            log.warning("plan %r has no rate limits for %s; using the free plan's", plan, route)
        plan = FREE
    window_ms = round(settings.rate_limit_window_seconds * 1000)
    return get_limiter().decide(f"{settings.rate_limit_prefix}{route}:{user_id}", limits[plan], window_ms)


def enforce(route: str, user_id: str, plan: str | None = None) -> dict[str, str]:
    """The X-RateLimit-* headers for an allowed request, or ApiError 429 with them and Retry-After."""
    decision = decide(route, user_id, plan)
    if decision.allowed:
        return decision.headers()
    window = get_settings().rate_limit_window_seconds
    per = "minute" if window == 60 else f"{window:g} seconds"
    raise ApiError(
        429,
        "RATE_LIMITED",
        f"Too many requests: {decision.limit} per {per} on this endpoint. Try again in {decision.retry_after} s.",
        retryable=True,
        headers={**decision.headers(), "Retry-After": str(decision.retry_after)},
    )
