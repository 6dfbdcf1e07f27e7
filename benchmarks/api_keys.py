"""API-key sign-in benchmark: what a request signed in by a key costs next to one signed in otherwise
(development's X-Dev-User, no verification at all), with the per-instance cache of verified keys on
(API_KEY_CACHE_SECONDS=5, the default) and off (0: a query per request), on a fresh PostgreSQL
database, through the history function's GET (one page of one row).

    .venv/bin/python benchmarks/api_keys.py [--requests 400]

Prints p50/p99 per way of signing in, each p50 as a ratio to X-Dev-User's, and how many times
lastUsed was written over all the key's requests (at most once a minute)."""

from __future__ import annotations

import argparse
import os
import statistics
import sys
import time
from pathlib import Path

import psycopg

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from tests.conftest import create_database, drop_database, function_client, migrate  # noqa: E402


def latencies(client, headers: dict[str, str], requests: int) -> list[float]:
    for _ in range(20):  # warm: connections, caches
        client.get("/?limit=1", headers=headers)
    samples = []
    for _ in range(requests):
        started = time.perf_counter()
        response = client.get("/?limit=1", headers=headers)
        samples.append((time.perf_counter() - started) * 1000)
        assert response.status_code == 200, response.json
    return samples


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--requests", type=int, default=400)
    args = parser.parse_args()
    url = create_database("crv_bench")
    try:
        migrate(url)
        os.environ.update(DATABASE_URL=url, LOG_LEVEL="WARNING", RATE_LIMITS='{"history": {"free": 100000}}')
        from shared import db
        from shared.config import get_settings
        from shared.keys.service import create_key

        with db.session() as session:
            key, _ = create_key(session, "bench_user", "bench")
        client = function_client("history")
        results: dict[str, list[float]] = {}
        results["X-Dev-User"] = latencies(client, {"X-Dev-User": "bench_user"}, args.requests)
        for label, ttl in (("key, cached 5 s", "5"), ("key, no cache", "0")):
            os.environ["API_KEY_CACHE_SECONDS"] = ttl
            get_settings.cache_clear()
            results[label] = latencies(client, {"Authorization": f"Bearer {key}"}, args.requests)
        time.sleep(1)  # PostgreSQL publishes table statistics with a short delay
        with psycopg.connect(url) as conn:
            updates = conn.execute("SELECT n_tup_upd FROM pg_stat_user_tables WHERE relname = 'ApiKey'").fetchone()[0]
    finally:
        from shared.db import get_engine

        get_engine().dispose()
        drop_database(url)

    base = statistics.median(results["X-Dev-User"])
    print(f"history GET, {args.requests} requests each")
    for label, samples in results.items():
        p50, p99 = statistics.median(samples), statistics.quantiles(samples, n=100)[98]
        print(f"  {label:<16} p50 {p50:6.2f} ms  p99 {p99:6.2f} ms  p50 x{p50 / base:4.2f} of X-Dev-User")
    total = 2 * (args.requests + 20)
    print(f"  ApiKey rows updated over the key's {total} requests: {updates} (lastUsed, at most once a minute)")


if __name__ == "__main__":
    main()
