"""Rate limiter benchmark: our one-script sliding window against the seed's algorithm, over redis-py
and over the Upstash REST protocol (the official client through scripts/upstash_gateway.py).

    .venv/bin/python benchmarks/ratelimit.py [--redis redis://127.0.0.1:6379/0]

Prints, per transport: the allowed count when BURST decisions arrive at once against LIMIT; the
Redis commands each decision sent and those the script executed inside Redis (deltas of INFO
commandstats; other clients of a shared Redis meanwhile would inflate them); and sequential
decisions per second with p50/p99 latency, also as a ratio to a PING over the same transport (same
client, same connection pool).

Then a slow store (a proxy in front of Redis that holds each reply back): SLOW_BEFORE requests
decided by the store at full speed, then SLOW_REQUESTS more from SLOW_THREADS threads while every
reply takes 0.4 s (under the 0.5 s RATE_LIMIT_TIMEOUT_SECONDS) or 0.6 s (over it: the script runs,
its answer is lost, the breaker opens), against SLOW_LIMIT per window: how many were allowed."""

from __future__ import annotations

import argparse
import itertools
import socket
import statistics
import sys
import threading
import time
import uuid
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from urllib.parse import urlparse

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

import redis  # noqa: E402
from upstash_redis import Redis as Upstash  # noqa: E402

from scripts.upstash_gateway import Gateway  # noqa: E402
from shared.ratelimit import RateLimiter, RedisBackend, UpstashBackend  # noqa: E402

LIMIT, WINDOW_MS, BURST, THREADS = 20, 60_000, 200, 50
SEQUENTIAL, SEQUENTIAL_KEYS = 1000, 10  # so a window holds ~105 requests, as a user's near a limit of 120
FULL_WINDOW = 600  # the largest limit in RATE_LIMITS (history, pro)
OURS = ("evalsha", "eval")
SEEDS = ("zremrangebyscore", "zadd", "zcard", "expire")
SLOW_LIMIT, SLOW_BEFORE, SLOW_REQUESTS, SLOW_THREADS = 120, 50, 300, 20


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


def command_calls(admin: redis.Redis, names: tuple[str, ...] | None = None) -> int:
    """Calls of these commands (None: of every command but INFO, the one that asks) so far."""
    stats = admin.info("commandstats")
    if names is None:
        return sum(value["calls"] for name, value in stats.items() if name != "cmdstat_info")
    return sum(stats.get(f"cmdstat_{name}", {}).get("calls", 0) for name in names)


class Counted:
    """Commands sent (`names`) and executed in all (sent ones included) over a block of decisions."""

    def __init__(self, admin: redis.Redis, names: tuple[str, ...]) -> None:
        self.admin, self.names = admin, names

    def __enter__(self) -> Counted:
        self.sent, self.all = command_calls(self.admin, self.names), command_calls(self.admin)
        return self

    def __exit__(self, *_) -> None:
        self.sent = command_calls(self.admin, self.names) - self.sent
        self.all = command_calls(self.admin) - self.all


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
    with Counted(admin, OURS) as in_burst:
        ours_allowed = burst(lambda key: ours.decide(key, LIMIT, WINDOW_MS).allowed, f"{prefix}ours")
    with Counted(admin, SEEDS) as seeds:
        seed_allowed = burst(lambda key: seed.decide(key, LIMIT, WINDOW_MS), f"{prefix}seed")

    keys = itertools.cycle([f"{prefix}sequential:{n}" for n in range(SEQUENTIAL_KEYS)])
    with Counted(admin, OURS) as in_sequence:
        decisions = timings(lambda: ours.decide(next(keys), 10**9, WINDOW_MS), SEQUENTIAL)
    sequential = SEQUENTIAL + 50  # timings() warms up with 50
    pings = timings(ping, SEQUENTIAL)
    full = f"{prefix}full"
    for _ in range(FULL_WINDOW):
        ours.decide(full, FULL_WINDOW, WINDOW_MS)
    at_full = timings(lambda: ours.decide(full, FULL_WINDOW, WINDOW_MS), 200)
    per_second = len(decisions) / sum(decisions)
    ping_per_second = len(pings) / sum(pings)

    print(f"\n[{transport}]")
    print(f"  burst of {BURST} at limit {LIMIT}: ours allowed {ours_allowed}, seed allowed {seed_allowed}")
    print(
        f"  commands per decision, sent: ours {in_burst.sent / BURST:.2f} ({'+'.join(OURS)}), "
        f"seed {seeds.sent / BURST:.2f} ({'+'.join(SEEDS)})"
    )
    print(
        f"  executed in Redis per decision, ours: {(in_burst.all - in_burst.sent) / BURST:.2f} in the burst "
        f"({LIMIT} allowed, {BURST - LIMIT} denied), {(in_sequence.all - in_sequence.sent) / sequential:.2f} "
        f"sequentially (all allowed); seed {seeds.all / BURST:.2f}"
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
    print(f"  p50 denied at a full window of {FULL_WINDOW}: {p(at_full, 50):.3f} ms")


class DelayProxy:
    """TCP in front of Redis that passes requests on at once and holds each reply `delay` seconds."""

    def __init__(self, upstream: tuple[str, int]) -> None:
        self.upstream, self.delay = upstream, 0.0
        self.sock = socket.socket()
        self.sock.bind(("127.0.0.1", 0))
        self.sock.listen(128)
        self.address = f"127.0.0.1:{self.sock.getsockname()[1]}"
        threading.Thread(target=self._accept, daemon=True).start()

    def _accept(self) -> None:
        while True:
            try:
                client, _ = self.sock.accept()
            except OSError:
                return
            server = socket.create_connection(self.upstream)
            threading.Thread(target=self._pump, args=(client, server, False), daemon=True).start()
            threading.Thread(target=self._pump, args=(server, client, True), daemon=True).start()

    def _pump(self, source: socket.socket, target: socket.socket, held: bool) -> None:
        try:
            while chunk := source.recv(65536):
                if held and self.delay:
                    time.sleep(self.delay)
                target.sendall(chunk)
        except OSError:
            pass
        finally:
            source.close()
            target.close()

    def close(self) -> None:
        self.sock.close()


def slow_store(url: str, prefix: str, delay: float, timeout: float, breaker: float) -> None:
    proxy = DelayProxy((urlparse(url).hostname or "127.0.0.1", urlparse(url).port or 6379))
    limiter = RateLimiter(RedisBackend(f"redis://{proxy.address}/0", timeout), breaker)
    key = f"{prefix}slow:{delay}"
    try:
        before = [limiter.decide(key, SLOW_LIMIT, WINDOW_MS) for _ in range(SLOW_BEFORE)]
        proxy.delay = delay
        decided: list[tuple[bool, str, float]] = []

        def worker(share: int) -> None:
            for _ in range(share):
                started = time.perf_counter()
                decision = limiter.decide(key, SLOW_LIMIT, WINDOW_MS)
                decided.append((decision.allowed, decision.backend, time.perf_counter() - started))

        threads = [threading.Thread(target=worker, args=(SLOW_REQUESTS // SLOW_THREADS,)) for _ in range(SLOW_THREADS)]
        started = time.perf_counter()
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join()
        took = time.perf_counter() - started
    finally:
        proxy.close()
        limiter.close()
    allowed = sum(d.allowed for d in before) + sum(a for a, _, _ in decided)
    by_store = sum(1 for _, backend, _ in decided if backend != "local")
    waits = sorted(w for _, _, w in decided)
    print(
        f"  replies at {delay:.1f} s: allowed {allowed} of {SLOW_BEFORE + SLOW_REQUESTS} at limit {SLOW_LIMIT} "
        f"({SLOW_BEFORE} before the slowdown; after it {by_store} decided by the store, "
        f"{len(decided) - by_store} per instance); {took:.1f} s in all, p50 wait {waits[len(waits) // 2] * 1000:.0f} ms, "
        f"max {waits[-1] * 1000:.0f} ms"
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

    timeout, breaker = 0.5, 15.0
    print(
        f"\n[slow store: redis-py through a proxy holding replies; timeout {timeout} s, breaker {breaker:g} s, "
        f"{SLOW_THREADS} threads]"
    )
    for delay in (0.4, 0.6):
        slow_store(args.redis, prefix, delay, timeout, breaker)
    for key in admin.scan_iter(f"{prefix}*"):
        admin.delete(key)


if __name__ == "__main__":
    main()
