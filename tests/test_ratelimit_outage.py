"""When the shared store is down, silent or drops an answer: per-instance limits still hold, starting
from the store's last count (from zero for a key this instance has not seen), the breaker spares later
requests the timeout, the store comes back and counts what was admitted meanwhile, and a script is
never resent."""

from __future__ import annotations

import logging
import socket
import threading
import time

import pytest

from scripts.upstash_gateway import Gateway
from shared.ratelimit import get_limiter
from tests.conftest import GATEWAY_TOKEN, REDIS_URL

STORES = ("upstash", "redis")


def store_at(store: str, address: str) -> dict[str, str]:
    if store == "upstash":
        return {"UPSTASH_REDIS_REST_URL": f"http://{address}", "UPSTASH_REDIS_REST_TOKEN": GATEWAY_TOKEN}
    return {"REDIS_URL": f"redis://{address}/0"}


def closed_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


class Messages(logging.Handler):
    def __init__(self) -> None:
        super().__init__(logging.INFO)
        self.messages: list[str] = []

    def emit(self, record: logging.LogRecord) -> None:
        self.messages.append(record.getMessage())


@pytest.fixture
def limiter_log():
    """What shared.ratelimit logs (on its own logger: "coderevai" stops propagating once configured)."""
    logger, handler = logging.getLogger("coderevai.ratelimit"), Messages()
    previous = logger.level
    logger.addHandler(handler)
    logger.setLevel(logging.INFO)
    yield handler.messages
    logger.removeHandler(handler)
    logger.setLevel(previous)


def within(seconds: float, work):
    """Run `work` on a daemon thread; fail (instead of hanging the suite) if it takes longer."""
    outcome: dict = {}
    thread = threading.Thread(target=lambda: outcome.setdefault("value", work()), daemon=True)
    thread.start()
    thread.join(seconds)
    assert "value" in outcome, f"no answer within {seconds} s"
    return outcome["value"]


class Blackhole:
    """Accepts TCP connections (the kernel does, from the backlog) and never answers."""

    def __enter__(self) -> str:
        self.sock = socket.socket()
        self.sock.bind(("127.0.0.1", 0))
        self.sock.listen(64)
        return f"127.0.0.1:{self.sock.getsockname()[1]}"

    def __exit__(self, *_):
        self.sock.close()


class DropsTheScriptAnswer:
    """A store that receives the script call, runs nothing and hangs up before answering, as when a
    reply is lost after the script ran. Counts the script calls it received. Speaks just enough
    RESP for redis-py's handshake (HELLO 3, then +OK to everything else)."""

    def __init__(self) -> None:
        self.scripts = 0
        self.sock = socket.socket()
        self.sock.bind(("127.0.0.1", 0))
        self.sock.listen(16)
        self.address = f"127.0.0.1:{self.sock.getsockname()[1]}"
        threading.Thread(target=self._accept, daemon=True).start()

    def _accept(self) -> None:
        while True:
            try:
                conn, _ = self.sock.accept()
            except OSError:
                return
            threading.Thread(target=self._serve, args=(conn,), daemon=True).start()

    def _serve(self, conn: socket.socket) -> None:
        buffer = b""
        with conn:
            while chunk := conn.recv(65536):
                buffer += chunk
                if b"EVALSHA" in buffer.upper():
                    self.scripts += 1
                    return
                names, buffer = _resp_commands(buffer)
                conn.sendall(b"".join(HELLO_3 if name == b"HELLO" else b"+OK\r\n" for name in names))

    def close(self) -> None:
        self.sock.close()


HELLO_3 = b"%1\r\n$5\r\nproto\r\n:3\r\n"


def _resp_commands(buffer: bytes) -> tuple[list[bytes], bytes]:
    """The names of the complete RESP commands (arrays of bulk strings) at the buffer's start, and the rest."""
    names = []
    while buffer.startswith(b"*") and b"\r\n" in buffer:
        head, _, rest = buffer.partition(b"\r\n")
        parts = []
        for _ in range(int(head[1:])):
            size, sep, rest = rest.partition(b"\r\n")
            if not sep or len(rest) < int(size[1:]) + 2:
                return names, buffer
            parts.append(rest[: int(size[1:])])
            rest = rest[int(size[1:]) + 2 :]
        names.append(parts[0].upper())
        buffer = rest
    return names, buffer


@pytest.mark.parametrize("store", STORES)
def test_a_fresh_instance_whose_first_request_finds_the_store_down_admits_the_limit(
    store, settings_env, redis_prefix, limiter_log
):
    settings_env(**store_at(store, f"127.0.0.1:{closed_port()}"), RATE_LIMIT_PREFIX=redis_prefix)
    limiter = get_limiter()
    started = time.perf_counter()
    decisions = [limiter.decide(f"{redis_prefix}down", 5, 60_000) for _ in range(12)]
    elapsed = time.perf_counter() - started
    # The store never reported on this key to this instance: it starts from zero (an outage of the
    # store is not an outage of reviews) and this instance admits no more than the limit a window.
    assert [d.allowed for d in decisions] == [True] * 5 + [False] * 7
    assert [d.remaining for d in decisions[:6]] == [4, 3, 2, 1, 0, 0]
    assert {d.backend for d in decisions} == {"local"}
    assert decisions[-1].retry_after >= 59  # until the first of the five leaves the window
    assert limiter.open
    assert elapsed < 1.0
    warnings = [m for m in limiter_log if "store failed" in m]
    assert len(warnings) == 1  # once per outage, not once per request
    assert store in warnings[0] and GATEWAY_TOKEN not in warnings[0]


@pytest.mark.parametrize("store", STORES)
def test_a_silent_store_costs_one_timeout_then_none(store, settings_env, redis_prefix):
    with Blackhole() as address:
        settings_env(
            **store_at(store, address),
            RATE_LIMIT_PREFIX=redis_prefix,
            RATE_LIMIT_TIMEOUT_SECONDS="0.3",
            RATE_LIMIT_BREAKER_SECONDS="30",
        )
        limiter = get_limiter()
        key = f"{redis_prefix}silent"
        started = time.perf_counter()
        first = within(5, lambda: limiter.decide(key, 3, 60_000))
        first_took = time.perf_counter() - started
        assert 0.25 <= first_took < 1.5  # our timeout, not the client's default (none)
        assert first.backend == "local" and first.allowed  # not seen here: from zero

        timings, decisions = [], []
        for _ in range(10):
            started = time.perf_counter()
            decisions.append(limiter.decide(key, 3, 60_000))
            timings.append(time.perf_counter() - started)
        assert max(timings) < 0.05  # the breaker is open: no request waits for the store
        assert [d.allowed for d in decisions] == [True] * 2 + [False] * 8


def test_the_store_is_used_again_once_it_is_back(settings_env, redis_prefix, limiter_log):
    gateway = Gateway(REDIS_URL, GATEWAY_TOKEN).start()
    port = gateway.server.server_address[1]
    settings_env(
        **store_at("upstash", f"127.0.0.1:{port}"),
        RATE_LIMIT_PREFIX=redis_prefix,
        RATE_LIMIT_BREAKER_SECONDS="0.5",
    )
    limiter, key = get_limiter(), f"{redis_prefix}back"
    try:
        assert [limiter.decide(key, 4, 60_000).backend for _ in range(2)] == ["upstash", "upstash"]
        gateway.stop()
        during = [limiter.decide(key, 4, 60_000) for _ in range(6)]
        assert {d.backend for d in during} == {"local"}
        assert [d.allowed for d in during] == [True] * 2 + [False] * 4  # the store's 2 still count

        gateway = Gateway(REDIS_URL, GATEWAY_TOKEN, port=port).start()
        assert limiter.decide(key, 4, 60_000).backend == "local"  # still within the breaker's pause
        time.sleep(0.6)
        after = limiter.decide(key, 4, 60_000)
        # the store now counts the 2 admitted without it as well as its own 2
        assert (after.backend, after.allowed, after.remaining) == ("upstash", False, 0)
        assert not limiter.open
        assert sum("store failed" in m for m in limiter_log) == 1
        assert sum("reachable again" in m for m in limiter_log) == 1
    finally:
        gateway.stop()


@pytest.mark.parametrize("store", STORES)
def test_a_script_call_whose_answer_is_lost_is_not_sent_again(store, settings_env, redis_prefix):
    drop = DropsTheScriptAnswer()
    try:
        settings_env(**store_at(store, drop.address), RATE_LIMIT_PREFIX=redis_prefix, RATE_LIMIT_TIMEOUT_SECONDS="2")
        limiter = get_limiter()
        decision = within(10, lambda: limiter.decide(f"{redis_prefix}lost", 3, 60_000))
        assert decision.backend == "local"
        time.sleep(0.2)
        assert drop.scripts == 1
    finally:
        drop.close()


def test_a_seen_key_continues_from_the_stores_last_count(settings_env, redis_prefix):
    """The store admits 6 of 10, then goes away: the instance admits 4 more, not a fresh 10."""
    gateway = Gateway(REDIS_URL, GATEWAY_TOKEN).start()
    settings_env(**store_at("upstash", f"127.0.0.1:{gateway.server.server_address[1]}"), RATE_LIMIT_PREFIX=redis_prefix)
    limiter, key = get_limiter(), f"{redis_prefix}switch"
    try:
        before = [limiter.decide(key, 10, 60_000) for _ in range(6)]
        assert {d.backend for d in before} == {"upstash"} and all(d.allowed for d in before)
    finally:
        gateway.stop()
    during = [limiter.decide(key, 10, 60_000) for _ in range(10)]
    assert {d.backend for d in during} == {"local"}
    assert sum(d.allowed for d in during) == 4
    assert [d.remaining for d in during[:5]] == [3, 2, 1, 0, 0]
    # refused until the store's first request leaves the window, as the store would have said
    assert abs(during[-1].reset_ms - before[0].reset_ms) < 1000


def test_over_http_a_fresh_instance_during_an_outage_serves_the_limit(settings_env, pg_url):
    """30 requests at a limit of 10 on a new instance whose store is down: 10 answered, 20 refused."""
    from tests.conftest import function_client

    settings_env(
        **store_at("redis", f"127.0.0.1:{closed_port()}"), DATABASE_URL=pg_url, RATE_LIMITS='{"history": {"free": 10}}'
    )
    client = function_client("history")
    statuses = [client.get("/", headers={"X-Dev-User": "outage_user"}).status_code for _ in range(30)]
    assert statuses.count(200) == 10 and statuses.count(429) == 20
    assert statuses[:10] == [200] * 10
