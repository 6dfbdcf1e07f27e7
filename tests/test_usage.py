"""Usage rows leave the request's path: batches are written when enough rows wait or the oldest has
waited long enough, and nothing waiting is lost when the instance is shut down (SIGTERM)."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
import uuid

import psycopg

from shared import db
from shared.usage import UsageBuffer
from tests.conftest import ROOT


def usage_of(pg_url: str, user: str) -> list[tuple]:
    with psycopg.connect(pg_url) as conn:
        return conn.execute(
            'SELECT endpoint, "statusCode", duration, "tokensUsed" FROM "ApiUsage" WHERE "userId" = %s ORDER BY duration',
            (user,),
        ).fetchall()


def eventually(pg_url: str, user: str, count: int, seconds: float = 10.0) -> list[tuple]:
    deadline = time.monotonic() + seconds
    while len(found := usage_of(pg_url, user)) < count and time.monotonic() < deadline:
        time.sleep(0.05)
    return found


def row(user: str, duration: int) -> dict:
    from shared.ids import cuid
    from shared.models import utcnow

    return {
        "id": cuid(),
        "userId": user,
        "endpoint": "/history",
        "timestamp": utcnow(),
        "duration": duration,
        "statusCode": 200,
        "tokensUsed": None,
    }


def test_a_full_batch_is_written_without_waiting_for_the_clock(db_env, pg_url):
    user = f"usage_{uuid.uuid4().hex[:8]}"
    buffer = UsageBuffer(flush_rows=3, flush_seconds=3600)
    buffer.add(row(user, 1))
    buffer.add(row(user, 2))
    time.sleep(0.3)
    assert usage_of(pg_url, user) == []  # below the bound: still waiting
    buffer.add(row(user, 3))
    assert eventually(pg_url, user, 3) == [("/history", 200, d, None) for d in (1, 2, 3)]


def test_a_waiting_row_is_written_once_it_is_old_enough(db_env, pg_url):
    user = f"usage_{uuid.uuid4().hex[:8]}"
    buffer = UsageBuffer(flush_rows=1000, flush_seconds=0.3)
    buffer.add(row(user, 7))
    assert eventually(pg_url, user, 1) == [("/history", 200, 7, None)]


def test_a_batch_the_database_refuses_is_dropped_not_raised(settings_env):
    settings_env(DATABASE_URL="postgresql://nobody@127.0.0.1:1/none")
    buffer = UsageBuffer(flush_rows=1000, flush_seconds=3600)
    buffer.add(row("usage_down", 1))
    assert buffer.flush() == 0
    assert buffer.flush() == 0  # nothing left to retry
    db.get_engine().dispose()


SERVE = """
import sys, time
from shared.usage import record_call
for n in range(5):
    record_call(sys.argv[1], "/history", n, 200, None)
print("recorded", "mapped" if "shared.models.api_usage" in sys.modules else "unmapped", flush=True)
time.sleep(60)
"""


def test_sigterm_writes_what_is_waiting(pg_url):
    user = f"usage_{uuid.uuid4().hex[:8]}"
    env = {"PATH": "/usr/bin:/bin", "LOG_LEVEL": "WARNING", "DATABASE_URL": pg_url, "PYTHONPATH": str(ROOT)}
    process = subprocess.Popen(
        [sys.executable, "-c", SERVE, user], cwd=ROOT, env=env, stdout=subprocess.PIPE, text=True
    )
    try:
        # the table is mapped by the first write, at exit here, not while calls are recorded
        assert process.stdout.readline().strip() == "recorded unmapped"
        assert usage_of(pg_url, user) == []  # 5 rows, 60 s: nothing is due yet
        os.kill(process.pid, signal.SIGTERM)
        assert process.wait(10) == 128 + signal.SIGTERM
    finally:
        process.kill()
    assert [d for _, _, d, _ in usage_of(pg_url, user)] == [0, 1, 2, 3, 4]
