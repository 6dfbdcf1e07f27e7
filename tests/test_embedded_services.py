"""scripts/test on a machine without PostgreSQL or Redis: scripts/embedded_services.py starts both
from PyPI wheels on free ports in a temporary directory, they serve, and stopping removes them."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import psycopg
import redis

from tests.conftest import ROOT

SCRIPT = str(ROOT / "scripts" / "embedded_services.py")


def test_embedded_services_start_serve_and_go_away():
    started = subprocess.run([sys.executable, SCRIPT, "start"], capture_output=True, text=True, timeout=600)
    assert started.returncode == 0, started.stderr
    exported = dict(line.removeprefix("export ").split("=", 1) for line in started.stdout.splitlines())
    work = Path(exported["EMBEDDED_SERVICES_DIR"])
    try:
        assert exported["TEST_ADMIN_DATABASE_URL"] != "postgresql://postgres@127.0.0.1:5432/postgres"
        with psycopg.connect(exported["TEST_ADMIN_DATABASE_URL"], autocommit=True) as conn:
            conn.execute("CREATE DATABASE embedded_check")
            assert conn.execute("SELECT current_setting('server_version_num')::int").fetchone()[0] >= 180000
        client = redis.Redis.from_url(exported["TEST_REDIS_URL"])
        assert client.ping() and client.eval("return redis.call('TIME')[1] ~= nil", 0) == 1
        client.close()
    finally:
        subprocess.run([sys.executable, SCRIPT, "stop", str(work)], check=True, timeout=120)
    assert not work.exists()
