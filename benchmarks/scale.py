"""Many instances, one database: --instances local servers (scripts/local_server.py, each its own
process and pool, as Cloud Run instances are) under --clients concurrent clients, each signed in
as its own user, mixing history POST/GET/DELETE, API-key calls (history GET by key, keys GET) and
offline review-code POSTs with an Idempotency-Key, in three cases:

  (a) direct     PostgreSQL directly, each instance with the budgeted pool (--pool + --overflow)
  (b) pgbouncer  PgBouncer in transaction mode (Debian's package, started here in a temporary
                 directory on a free loopback port, stopped afterwards) with --bouncer-connections
                 server connections, DATABASE_POOLER=transaction
  (c) limited    directly, but the database's CONNECTION LIMIT (--limit) is below the instances'
                 pools (instances x (pool + overflow)), though not below their kept connections

    .venv/bin/python benchmarks/scale.py [--instances 4] [--clients 32] [--seconds 15] [--requests 4000]

Each case runs for --seconds or --requests, whichever comes first, after a warm-up; it prints
throughput, p50/p99 latency, the count of each status, the most server connections the database
had at once (pg_stat_activity, sampled every 0.1 s), and ratios against (a). The database and
its role are made for the run and dropped after it. Loopback only. Exits 1 when any answer is a 5xx."""

from __future__ import annotations

import argparse
import contextlib
import json
import random
import statistics
import sys
import tempfile
import threading
import time
import uuid
from collections import Counter
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

import httpx  # noqa: E402
import psycopg  # noqa: E402

from tests.conftest import ADMIN_URL, migrate  # noqa: E402
from tests.support.pgbouncer import pgbouncer  # noqa: E402
from tests.support.server_process import local_server  # noqa: E402

CODE = "import subprocess\n\ndef run(cmd):\n    return subprocess.call(cmd, shell=True)\n"
LIMITS = json.dumps({route: {"free": 1_000_000} for route in ("history", "review_code")})
# The mix: (operation, weight).
MIX = (("history_post", 3), ("history_get_by_key", 3), ("history_delete", 1), ("review", 1), ("keys_get", 1))


@contextlib.contextmanager
def bench_database():
    """A database owned by a role of its own: superusers ignore connection limits, roles do not."""
    name = f"crv_scale_{uuid.uuid4().hex[:8]}"
    with psycopg.connect(ADMIN_URL, autocommit=True) as admin:
        admin.execute(f'CREATE ROLE "{name}" LOGIN')
        admin.execute(f'CREATE DATABASE "{name}" OWNER "{name}"')
    host = ADMIN_URL.split("@", 1)[1].rsplit("/", 1)[0]
    url = f"postgresql://{name}@{host}/{name}"
    try:
        migrate(url)
        yield url, name
    finally:
        with psycopg.connect(ADMIN_URL, autocommit=True) as admin:
            admin.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
            admin.execute(f'DROP ROLE IF EXISTS "{name}"')


@contextlib.contextmanager
def peak_connections(name: str):
    """Samples the database's server connections (pg_stat_activity) every 0.1 s; yields a dict
    whose "peak" is the most seen."""
    seen = {"peak": 0}
    stop = threading.Event()

    def sample() -> None:
        with psycopg.connect(ADMIN_URL, autocommit=True) as admin:
            while not stop.wait(0.1):
                count = admin.execute("SELECT count(*) FROM pg_stat_activity WHERE datname = %s", (name,)).fetchone()
                seen["peak"] = max(seen["peak"], count[0])

    sampler = threading.Thread(target=sample, daemon=True)
    sampler.start()
    try:
        yield seen
    finally:
        stop.set()
        sampler.join()


def set_connection_limit(name: str, limit: int) -> None:
    with psycopg.connect(ADMIN_URL, autocommit=True) as admin:
        admin.execute(f'ALTER DATABASE "{name}" CONNECTION LIMIT {int(limit)}')


class Client:
    """One user: its own API key, its own history rows."""

    def __init__(self, bases: list[str], rng: random.Random) -> None:
        self.bases, self.rng = bases, rng
        self.user = f"scale_{uuid.uuid4().hex[:10]}"
        self.http = httpx.Client(timeout=60)
        self.ids: list[str] = []
        self.key = ""

    def base(self) -> str:
        return self.rng.choice(self.bases)  # a load balancer spreading requests over instances

    def as_user(self) -> dict[str, str]:
        return {"X-Dev-User": self.user}

    def sign_up(self) -> None:
        response = self.http.post(self.base() + "/api/keys", json={"name": "scale"}, headers=self.as_user())
        response.raise_for_status()
        self.key = response.json()["key"]

    def call(self, operation: str) -> int:
        base = self.base()
        if operation == "history_post":
            body = {"type": "code", "language": "python", "reviewModes": ["security"], "feedback": "fine " * 40}
            response = self.http.post(base + "/api/history", json=body, headers=self.as_user())
            if response.status_code == 201:
                self.ids.append(response.json()["id"])
        elif operation == "history_get_by_key":
            response = self.http.get(
                base + "/api/history", params={"limit": 20}, headers={"Authorization": f"Bearer {self.key}"}
            )
        elif operation == "history_delete" and self.ids:
            target = self.ids.pop(self.rng.randrange(len(self.ids)))
            response = self.http.delete(base + "/api/history", params={"id": target}, headers=self.as_user())
        elif operation == "review":
            body = {"code": CODE, "language": "python", "reviewModes": ["security"], "fileName": "run.py"}
            headers = {**self.as_user(), "Idempotency-Key": uuid.uuid4().hex}
            response = self.http.post(base + "/api/review-code", json=body, headers=headers)
        else:  # keys_get, or a delete with nothing left to delete
            response = self.http.get(base + "/api/keys", headers=self.as_user())
        return response.status_code


def run_case(bases: list[str], clients: int, seconds: float, max_requests: int, seed: int) -> dict:
    rng = random.Random(seed)
    people = [Client(bases, random.Random(rng.random())) for _ in range(clients)]
    operations = [op for op, weight in MIX for _ in range(weight)]
    for person in people:  # unmeasured: a key each, and every operation once on every instance
        person.sign_up()
    for person in people[: len(bases)]:
        for op in operations:
            person.call(op)
    results: list[tuple[float, int]] = []
    lock = threading.Lock()
    stop = threading.Event()
    started = time.perf_counter()
    deadline = started + seconds

    def drive(person: Client) -> None:
        while not stop.is_set() and time.perf_counter() < deadline:
            op = person.rng.choice(operations)
            began = time.perf_counter()
            try:
                status = person.call(op)
            except httpx.HTTPError:
                status = 0  # no answer at all
            with lock:
                results.append((time.perf_counter() - began, status))
                if len(results) >= max_requests:
                    stop.set()

    threads = [threading.Thread(target=drive, args=(person,)) for person in people]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    elapsed = time.perf_counter() - started
    for person in people:
        person.http.close()
    latencies = sorted(latency for latency, _ in results)
    return {
        "requests": len(results),
        "throughput": len(results) / elapsed,
        "p50": statistics.median(latencies) * 1000,
        "p99": latencies[min(len(latencies) - 1, int(len(latencies) * 0.99))] * 1000,
        "statuses": Counter(status for _, status in results),
    }


@contextlib.contextmanager
def instances(count: int, env: dict[str, str], logs: Path, case: str):
    with contextlib.ExitStack() as stack:
        bases = [stack.enter_context(local_server(env, logs / f"{case}-{n}.log")) for n in range(count)]
        yield bases


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--instances", type=int, default=4)
    parser.add_argument("--clients", type=int, default=32)
    parser.add_argument("--seconds", type=float, default=15.0)
    parser.add_argument("--requests", type=int, default=4000)
    parser.add_argument("--pool", type=int, default=2, help="DATABASE_POOL_SIZE of each instance")
    parser.add_argument("--overflow", type=int, default=2, help="DATABASE_MAX_OVERFLOW of each instance")
    parser.add_argument("--bouncer-connections", type=int, default=6, help="PgBouncer's server connections")
    parser.add_argument("--limit", type=int, default=0, help="(c)'s CONNECTION LIMIT; default halfway")
    parser.add_argument("--seed", type=int, default=7)
    args = parser.parse_args()
    kept, most = args.instances * args.pool, args.instances * (args.pool + args.overflow)
    limit = args.limit or (kept + most + 1) // 2
    print(
        f"{args.instances} instances x (pool {args.pool} + overflow {args.overflow}) = {most} connections at most, "
        f"{kept} kept; {args.clients} clients; (c) limits the database to {limit}",
        flush=True,
    )
    logs = Path(tempfile.mkdtemp(prefix="crv-scale-"))
    figures: dict[str, dict] = {}
    with bench_database() as (url, name):
        base_env = {
            "LOG_LEVEL": "WARNING",
            "RATE_LIMITS": LIMITS,
            "DATABASE_POOL_SIZE": str(args.pool),
            "DATABASE_MAX_OVERFLOW": str(args.overflow),
        }
        cases = (
            ("direct", {"DATABASE_URL": url}, None),
            ("pgbouncer", {"DATABASE_POOLER": "transaction"}, "bouncer"),
            ("limited", {"DATABASE_URL": url}, "limit"),
        )
        for case, env, special in cases:
            with contextlib.ExitStack() as stack:
                if special == "bouncer":
                    through = stack.enter_context(
                        pgbouncer(url, mode="transaction", server_connections=args.bouncer_connections)
                    )
                    env = {**env, "DATABASE_URL": through(url)}
                if special == "limit":
                    set_connection_limit(name, limit)
                    stack.callback(set_connection_limit, name, -1)
                bases = stack.enter_context(instances(args.instances, {**base_env, **env}, logs, case))
                with peak_connections(name) as seen:
                    figures[case] = run_case(bases, args.clients, args.seconds, args.requests, args.seed)
                figures[case]["peak"] = seen["peak"]
            report(case, figures[case], figures["direct"])
    errors = sum(n for f in figures.values() for status, n in f["statuses"].items() if status >= 500 or status == 0)
    print(f"5xx or no answer, all cases: {errors}" + ("" if not errors else f" (server logs in {logs})"))
    sys.exit(1 if errors else 0)


def report(case: str, figure: dict, direct: dict) -> None:
    statuses = ", ".join(f"{status}: {n}" for status, n in sorted(figure["statuses"].items()))
    print(
        f"({case:9}) {figure['requests']:5d} requests, {figure['throughput']:6.1f}/s "
        f"(x{figure['throughput'] / direct['throughput']:.2f}), p50 {figure['p50']:6.1f} ms "
        f"(x{figure['p50'] / direct['p50']:.2f}), p99 {figure['p99']:7.1f} ms "
        f"(x{figure['p99'] / direct['p99']:.2f}); statuses {statuses}; "
        f"at most {figure['peak']} server connections",
        flush=True,
    )


if __name__ == "__main__":
    main()
