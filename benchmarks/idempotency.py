"""Idempotency-Key benchmark: what a key costs a POST, and what a replay costs, on a fresh
PostgreSQL database (development sign-in, in-process limiter, static reviewer).

    .venv/bin/python benchmarks/idempotency.py [--requests 200]

Prints p50/p99 latency of POST /history and POST /review-code without a key, with a new key each
time, and replaying a kept answer (same key, same body), and each p50 as a ratio to the request
without a key."""

from __future__ import annotations

import argparse
import os
import statistics
import sys
import time
import uuid
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from tests.conftest import create_database, drop_database, function_client, migrate  # noqa: E402

ITEM = {"type": "code", "language": "python", "reviewModes": ["security"], "feedback": "## ok", "codeSnippet": "x=1"}


def snippet(n: int) -> dict:
    code = f"# {n}\nimport subprocess\n\n\ndef run(cmd):\n    return subprocess.call(cmd, shell=True)\n"
    return {"code": code, "language": "python", "reviewModes": ["security"]}


def timed(client, body: dict, headers: dict) -> float:
    started = time.perf_counter()
    response = client.post("/", json=body, headers=headers)
    elapsed = time.perf_counter() - started
    assert response.status_code < 300, response.json
    return elapsed


def measure(function: str, body_for, requests: int) -> dict[str, list[float]]:
    client = function_client(function)
    user = {"X-Dev-User": f"bench_{uuid.uuid4().hex[:8]}"}
    kept_key = str(uuid.uuid4())
    client.post("/", json=body_for(-1), headers={**user, "Idempotency-Key": kept_key})
    series: dict[str, list[float]] = {"no key": [], "new key": [], "replay": []}
    for n in range(requests):  # interleaved, so drift in the machine's load hits all three alike
        series["no key"].append(timed(client, body_for(n), user))
        fresh = {**user, "Idempotency-Key": str(uuid.uuid4())}
        series["new key"].append(timed(client, body_for(n + requests), fresh))
        series["replay"].append(timed(client, body_for(-1), {**user, "Idempotency-Key": kept_key}))
    return series


def report(name: str, series: dict[str, list[float]]) -> None:
    base = statistics.median(series["no key"])
    for label, seconds in series.items():
        p50 = statistics.median(seconds)
        p99 = statistics.quantiles(seconds, n=100)[98]
        print(f"{name:<12} {label:<8} p50 {p50 * 1000:7.2f} ms  p99 {p99 * 1000:7.2f} ms  x{p50 / base:.2f}")


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--requests", type=int, default=200)
    args = parser.parse_args()
    url = create_database("crv_bench")
    try:
        migrate(url)
        os.environ.update(DATABASE_URL=url, LOG_LEVEL="WARNING")
        os.environ["RATE_LIMITS"] = '{"history": {"free": 100000}, "review_code": {"free": 100000}}'
        report("history", measure("history", lambda n: {**ITEM, "codeSnippet": f"x={n}"}, args.requests))
        report("review-code", measure("review_code", snippet, args.requests))
    finally:
        drop_database(url)


if __name__ == "__main__":
    main()
