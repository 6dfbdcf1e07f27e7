"""Rate limits per route, user and plan: an exact sliding window decided by one Lua script in Redis
(Upstash REST in production, a plain Redis URL elsewhere), one round trip per request.

The script reads the store's clock (TIME), keeps the times of the requests admitted within the
window, and records a request only when it is allowed, so a burst is counted exactly, instances
cannot interleave, retries while blocked do not extend the block, and `reset` is the moment the
oldest counted request leaves the window. When the store fails, a circuit breaker sends decisions
to a per-instance fallback for RATE_LIMIT_BREAKER_SECONDS, which starts from the store's last count
for the key (from zero for a key this instance has not seen) and hands what it admitted back to
the store once it answers, so an outage neither opens the gate nor denies everyone, nor adds a
timeout to every request: each instance admits at most the limit per window.

The package: sliding_window.lua (the script), backends (Upstash REST, redis-py, in-process),
window (the in-memory window, the in-process backend's and the fallback's), fallback, breaker
(RateLimiter), and here the limiter of this instance and the per-route decision."""

from __future__ import annotations

import logging
import threading

from shared.config import RATE_LIMITS, Settings, get_settings, note_default
from shared.errors import ApiError
from shared.plans import FREE, plan_of_user
from shared.ratelimit.backends import SLIDING_WINDOW, SLIDING_WINDOW_SHA, InProcessBackend, RedisBackend, UpstashBackend
from shared.ratelimit.breaker import RateLimiter
from shared.ratelimit.decision import Backend, Decision
from shared.ratelimit.fallback import Fallback

__all__ = [
    "SLIDING_WINDOW",
    "SLIDING_WINDOW_SHA",
    "Backend",
    "Decision",
    "Fallback",
    "InProcessBackend",
    "RateLimiter",
    "RedisBackend",
    "UpstashBackend",
    "build_limiter",
    "check_route",
    "decide",
    "enforce",
    "get_limiter",
]

log = logging.getLogger("coderevai.ratelimit")


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
