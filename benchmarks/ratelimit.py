"""Rate limiter benchmark: our one-script sliding window against the seed's algorithm, over redis-py
and over the Upstash REST protocol (the official client through scripts/upstash_gateway.py).

    .venv/bin/python benchmarks/ratelimit.py [--redis redis://127.0.0.1:6379/0]

Prints, per transport: the allowed count when BURST decisions arrive at once against LIMIT; the
Redis commands each decision sent (deltas of INFO commandstats for the commands that path sends;
other clients of a shared Redis sending the same commands meanwhile would inflate them); and
sequential decisions per second with p50/p99 latency, also as a ratio to a PING over the same
transport (same client, same connection pool)."""

from __future__ import annotations

import argparse
import statistics
import sys
import threading
import time
import uuid
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

import redis  # noqa: E402
from upstash_redis import Redis as Upstash  # noqa: E402

from scripts.upstash_gateway import Gateway  # noqa: E402
from shared.ratelimit import RedisBackend, UpstashBackend  # noqa: E402

LIMIT, WINDOW_MS, BURST, THREADS = 20, 60_000, 200, 50
SEQUENTIAL = 1000
OURS = ("evalsha", "eval")
SEEDS = ("zremrangebyscore", "zadd", "zcard", "expire")


class SeedLimiter:
    """The seed's limiter, as it was: ZREMRANGEBYSCORE, ZADD member = timestamp (ms), ZCARD, EXPIRE
    in one non-atomic pipeline; allowed when the count is within the limit; fails open."""

    def __init__(self, pipeline: Callable, execute: Callable) -> None:
        self.pipeline, self.execute = pipeline, execute

    def decide(self, key: str, limit: int, window_ms: int) -> bool:
        now = int(time.time() * 1000)
        try:
            pipe = self.pipeline()
            pipe.zremrangebyscore(key, 0, now - window_ms)
            pipe.zadd(key, {str(now): now})
            pipe.zcard(key)
            pipe.expire(key, window_ms // 1000)
            return self.execute(pipe)[2] <= limit
        except Exception:
            return True


def command_calls(admin: redis.Redis, names: tuple[str, ...]) -> int:
    stats = admin.info("commandstats")
    return sum(stats.get(f"cmdstat_{name}", {}).get("calls", 0) for name in names)


def burst(decide: Callable[[str], bool], key: str) -> int:
    start = threading.Barrier(THREADS)

    def worker(share: int) -> int:
        start.wait()
        return sum(decide(key) for _ in range(share))

    with ThreadPoolExecutor(THREADS) as pool:
        return sum(pool.map(worker, [BURST // THREADS] * THREADS))


def timings(call: Callable[[], object], count: int) -> list[float]:
    for _ in range(50):  # warm the connections
        call()
    out = []
    for _ in range(count):
        started = time.perf_counter()
        call()
        out.append(time.perf_counter() - started)
    return out


def p(values: list[float], q: float) -> float:
    return statistics.quantiles(values, n=100, method="inclusive")[q - 1] * 1000


def report(transport: str, ours, seed, ping: Callable[[], object], admin: redis.Redis, prefix: str) -> None:
    before = command_calls(admin, OURS)
    ours_allowed = burst(lambda key: ours.decide(key, LIMIT, WINDOW_MS).allowed, f"{prefix}ours")
    ours_commands = (command_calls(admin, OURS) - before) / BURST
    before = command_calls(admin, SEEDS)
    seed_allowed = burst(lambda key: seed.decide(key, LIMIT, WINDOW_MS), f"{prefix}seed")
    seed_commands = (command_calls(admin, SEEDS) - before) / BURST

    key = f"{prefix}sequential"
    decisions = timings(lambda: ours.decide(key, 10**9, WINDOW_MS), SEQUENTIAL)
    pings = timings(ping, SEQUENTIAL)
    per_second = len(decisions) / sum(decisions)
    ping_per_second = len(pings) / sum(pings)

    print(f"\n[{transport}]")
    print(f"  burst of {BURST} at limit {LIMIT}: ours allowed {ours_allowed}, seed allowed {seed_allowed}")
    print(
        f"  commands per decision: ours {ours_commands:.2f} ({'+'.join(OURS)}), "
        f"seed {seed_commands:.2f} ({'+'.join(SEEDS)})"
    )
    print(
        f"  sequential: {per_second:,.0f} decisions/s ({per_second / ping_per_second:.2f}x PING's "
        f"{ping_per_second:,.0f}/s)"
    )
    for q in (50, 99):
        print(
            f"  p{q}: decision {p(decisions, q):.3f} ms, PING {p(pings, q):.3f} ms, "
            f"ratio {p(decisions, q) / p(pings, q):.2f}"
        )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--redis", default="redis://127.0.0.1:6379/0")
    args = parser.parse_args()
    prefix = f"crv:bench:{uuid.uuid4().hex[:8]}:"
    admin = redis.Redis.from_url(args.redis)
    print(f"Redis {admin.info('server')['redis_version']} at {args.redis}; keys under {prefix}")

    direct = redis.Redis.from_url(args.redis)
    report(
        "redis-py",
        RedisBackend(args.redis, timeout=5),
        SeedLimiter(lambda: direct.pipeline(transaction=False), lambda pipe: pipe.execute()),
        direct.ping,
        admin,
        prefix + "redis:",
    )

    token = uuid.uuid4().hex
    gateway = Gateway(args.redis, token).start()
    try:
        upstash = Upstash(gateway.url, token, rest_retries=0, allow_telemetry=False)
        report(
            "upstash-redis over the REST gateway",
            UpstashBackend(gateway.url, token, timeout=5),
            SeedLimiter(upstash.pipeline, lambda pipe: pipe.exec()),
            upstash.ping,
            admin,
            prefix + "upstash:",
        )
    finally:
        gateway.stop()
    for key in admin.scan_iter(f"{prefix}*"):
        admin.delete(key)


if __name__ == "__main__":
    main()
