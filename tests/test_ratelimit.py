"""The sliding window, through the real upstash-redis client against the REST gateway and through
redis-py against the real Redis: exact under a multi-process burst, slides, denied requests do not
extend a block, and separate windows stay separate."""

from __future__ import annotations

import multiprocessing
import os
import time
from concurrent.futures import ThreadPoolExecutor

import pytest

from shared import ratelimit
from tests.conftest import GATEWAY_TOKEN, REDIS_URL

STORES = ("upstash", "redis")


def store_env(store: str, gateway, prefix: str) -> dict[str, str]:
    env = {"RATE_LIMIT_PREFIX": prefix, "RATE_LIMIT_TIMEOUT_SECONDS": "5"}
    if store == "upstash":
        return {**env, "UPSTASH_REDIS_REST_URL": gateway.url, "UPSTASH_REDIS_REST_TOKEN": GATEWAY_TOKEN}
    return {**env, "REDIS_URL": REDIS_URL}


@pytest.fixture(params=STORES)
def store(request, db_env, upstash_gateway, redis_prefix):
    """Settings for one shared store; yields its backend name."""
    env = store_env(request.param, upstash_gateway, redis_prefix)
    db_env(**env)
    request.node.store_env = env
    return request.param


def _burst(env: dict[str, str], key: str, limit: int, window_ms: int, count: int, start_at: float) -> list:
    os.environ.update(env)
    from shared.config import get_settings

    get_settings.cache_clear()
    limiter = ratelimit.get_limiter()
    limiter.decide(f"{key}:warm-up", 1, window_ms)  # connect before the start line

    def one(_: int):
        decision = limiter.decide(key, limit, window_ms)
        return decision.allowed, decision.backend

    with ThreadPoolExecutor(count) as pool:
        time.sleep(max(0.0, start_at - time.time()))
        return list(pool.map(one, range(count)))


def test_a_burst_from_several_processes_admits_exactly_the_limit(request, store, redis_prefix):
    processes, per_process = 4, 50
    key = f"{redis_prefix}burst"
    start_at = time.time() + 2.0
    context = multiprocessing.get_context("spawn")
    with context.Pool(processes) as pool:
        jobs = [
            pool.apply_async(_burst, (request.node.store_env, key, 20, 60_000, per_process, start_at))
            for _ in range(processes)
        ]
        results = [decision for job in jobs for decision in job.get(timeout=60)]
    assert len(results) == 200
    assert {backend for _, backend in results} == {store}  # no decision fell back to per-instance
    assert sum(allowed for allowed, _ in results) == 20


def test_the_window_slides_one_slot_at_a_time_and_denials_do_not_extend_it(store, redis_prefix):
    limiter, key, window_ms = ratelimit.get_limiter(), f"{redis_prefix}slide", 1500
    first = limiter.decide(key, 3, window_ms)
    time.sleep(0.5)
    second = limiter.decide(key, 3, window_ms)
    third = limiter.decide(key, 3, window_ms)
    assert [first.allowed, second.allowed, third.allowed] == [True, True, True]
    assert first.backend == store
    assert (first.remaining, second.remaining, third.remaining) == (2, 1, 0)
    assert first.reset_ms == first.now_ms + window_ms
    assert third.reset_ms == first.reset_ms  # the oldest entry frees the next slot

    denials = []
    while time.time() * 1000 < first.reset_ms - 150:  # keep knocking while blocked
        denials.append(limiter.decide(key, 3, window_ms))
        time.sleep(0.05)
    assert len(denials) >= 5
    assert not any(d.allowed for d in denials)
    assert {d.reset_ms for d in denials} == {first.reset_ms}  # retries never push the reset out
    assert denials[-1].retry_after == 1

    time.sleep(max(0.0, first.reset_ms / 1000 - time.time()) + 0.05)
    freed = limiter.decide(key, 3, window_ms)
    again = limiter.decide(key, 3, window_ms)
    assert freed.allowed and freed.remaining == 0
    assert not again.allowed  # only the oldest slot freed: a sliding window, not a fixed one
    assert again.reset_ms == second.now_ms + window_ms  # now the second request is the oldest


def test_routes_and_users_have_windows_of_their_own(store, settings_env, redis_prefix):
    from shared.config import get_settings

    settings_env(RATE_LIMITS='{"review_code": {"free": 2}, "generate_diff": {"free": 2}}')
    assert get_settings().rate_limits["review_code"] == {"free": 2, "pro": 100}
    alice, bob = f"alice_{redis_prefix[-13:-1]}", f"bob_{redis_prefix[-13:-1]}"
    assert [ratelimit.decide("review_code", alice).allowed for _ in range(3)] == [True, True, False]
    assert [ratelimit.decide("generate_diff", alice).allowed for _ in range(3)] == [True, True, False]
    assert [ratelimit.decide("review_code", bob).allowed for _ in range(3)] == [True, True, False]
    assert ratelimit.decide("review_code", bob).backend == store


def test_a_lowered_limit_reports_no_negative_remaining(store, redis_prefix):
    limiter, key = ratelimit.get_limiter(), f"{redis_prefix}lowered"
    for _ in range(4):
        assert limiter.decide(key, 5, 10_000).allowed
    lowered = limiter.decide(key, 2, 10_000)
    assert not lowered.allowed
    assert (lowered.limit, lowered.remaining) == (2, 0)


def test_a_window_kept_as_a_sorted_set_by_the_previous_version_still_counts(store, redis_prefix):
    import redis

    key, direct = f"{redis_prefix}zset", redis.Redis.from_url(REDIS_URL)
    seconds, micros = direct.time()
    now = seconds * 1000 + micros // 1000
    direct.zadd(key, {"old": now - 20_000, "a": now - 3_000, "b": now - 2_000, "c": now - 1_000})
    limiter = ratelimit.get_limiter()
    converted = limiter.decide(key, 4, 10_000)  # "old" has left the window; a, b, c count
    assert (converted.backend, converted.allowed, converted.remaining) == (store, True, 0)
    assert converted.reset_ms == now - 3_000 + 10_000
    assert not limiter.decide(key, 4, 10_000).allowed
    assert direct.type(key) == b"string" and 0 < direct.pttl(key) <= 10_000


def test_unknown_routes_and_bad_limit_tables_are_refused(settings_env):
    from pydantic import ValidationError

    from shared.config import get_settings

    with pytest.raises(ValueError, match="unknown rate-limited route 'reviews'"):
        ratelimit.check_route("reviews")
    settings_env(RATE_LIMITS='{"reviews": {"free": 2}}')
    with pytest.raises(ValidationError, match="unknown route 'reviews'"):
        get_settings()
    settings_env(RATE_LIMITS='{"history": {"free": 0}}')
    with pytest.raises(ValidationError, match="at least 1"):
        get_settings()
    settings_env(RATE_LIMITS="history=5")
    with pytest.raises(ValidationError, match="RATE_LIMITS must be JSON"):
        get_settings()
    settings_env(RATE_LIMITS="")  # as copied from .env.example: the table as it is
    assert get_settings().rate_limits["history"] == {"free": 120, "pro": 600}
