"""GET /health: each dependency probed once, at the same time, under a short timeout. The database
down is unhealthy (503); the limiter's store down or hanging is degraded (200: the limiter falls back
to per-instance limits); the answer never takes much more than a second, nor names a URL."""

from __future__ import annotations

import socket
import threading
import time

import pytest

from tests.conftest import GATEWAY_TOKEN, REDIS_URL, function_client

CLOSED_PORT = "127.0.0.1:1"  # nothing listens there: connections are refused at once


class SilentServer:
    """A loopback socket that accepts connections and never says a word (a hung dependency)."""

    def __init__(self) -> None:
        self.sock = socket.create_server(("127.0.0.1", 0))
        self.port = self.sock.getsockname()[1]
        self.accepted: list[socket.socket] = []
        threading.Thread(target=self._accept, daemon=True).start()

    def _accept(self) -> None:
        while True:
            try:
                conn, _ = self.sock.accept()
            except OSError:
                return
            self.accepted.append(conn)

    def close(self) -> None:
        self.sock.close()
        for conn in self.accepted:
            conn.close()  # the hung probes get EOF now and finish


@pytest.fixture
def silent():
    server = SilentServer()
    yield server
    server.close()
    time.sleep(0.3)  # let the probes left hanging see EOF before the next test checks again


def get_health():
    started = time.monotonic()
    response = function_client("health").get("/")
    return response, time.monotonic() - started


def test_healthy_on_postgresql_and_redis(db_env):
    db_env(REDIS_URL=REDIS_URL)
    response, _ = get_health()
    assert response.status_code == 200
    body = response.json
    assert body["status"] == "healthy"
    assert body["checks"]["database"]["status"] == "up"
    assert body["checks"]["redis"]["status"] == "up"
    assert body["checks"]["redis"]["backend"] == "redis"
    assert response.headers["Cache-Control"] == "no-store"


def test_healthy_through_upstash_and_needs_no_sign_in(auth_env, upstash_gateway):
    auth_env(UPSTASH_REDIS_REST_URL=upstash_gateway.url, UPSTASH_REDIS_REST_TOKEN=GATEWAY_TOKEN)
    response, _ = get_health()
    assert response.status_code == 200
    assert response.json["checks"]["redis"]["backend"] == "upstash"
    assert GATEWAY_TOKEN not in response.text and upstash_gateway.url not in response.text


def test_the_in_process_limiter_is_fine(db_env):
    response, _ = get_health()
    assert (response.status_code, response.json["status"]) == (200, "healthy")
    assert response.json["checks"]["redis"] == {
        "status": "up",
        "latency": response.json["checks"]["redis"]["latency"],
        "backend": "memory",
        "circuitBreaker": "CLOSED",
    }


def test_database_down_is_unhealthy_and_503(settings_env):
    url = f"postgresql://postgres:s3cret-password@{CLOSED_PORT}/coderevai"
    settings_env(DATABASE_URL=url, REDIS_URL=REDIS_URL)
    response, _ = get_health()
    assert response.status_code == 503
    assert response.json["status"] == "unhealthy"
    assert response.json["checks"]["database"] == {"status": "down", "error": "unreachable"}
    assert response.json["checks"]["redis"]["status"] == "up"
    assert "s3cret" not in response.text and "127.0.0.1" not in response.text


def test_redis_down_is_degraded(db_env):
    db_env(REDIS_URL=f"redis://:s3cret@{CLOSED_PORT}/0")
    response, _ = get_health()
    assert response.status_code == 200
    assert response.json["status"] == "degraded"
    assert response.json["checks"]["redis"]["status"] == "down"
    assert response.json["checks"]["database"]["status"] == "up"
    assert "s3cret" not in response.text


def test_a_hanging_redis_is_degraded_within_about_a_second(db_env, silent):
    # The limiter's own timeout set far longer than the check's: the check's bound must hold.
    db_env(REDIS_URL=f"redis://127.0.0.1:{silent.port}/0", RATE_LIMIT_TIMEOUT_SECONDS="10")
    response, elapsed = get_health()
    assert response.json["status"] == "degraded"
    assert response.json["checks"]["redis"] == {
        "status": "down",
        "error": "timeout",
        "backend": "redis",
        "circuitBreaker": "CLOSED",
    }
    assert elapsed < 1.5
    # Asked again while the first probe still hangs: the same answer, as fast, no second probe.
    again, elapsed = get_health()
    assert again.json["checks"]["redis"]["error"] == "timeout" and elapsed < 1.5
    assert len(silent.accepted) == 1


def test_a_hanging_database_is_unhealthy_within_about_a_second(settings_env, silent):
    settings_env(DATABASE_URL=f"postgresql://postgres@127.0.0.1:{silent.port}/coderevai")
    response, elapsed = get_health()
    assert response.status_code == 503
    assert response.json["checks"]["database"] == {"status": "down", "error": "timeout"}
    assert elapsed < 1.5


def test_only_get(db_env):
    response = function_client("health").post("/")
    assert response.status_code == 405
