"""Is this instance able to serve? One cheap round trip to each dependency, all at once, each under
CHECK_TIMEOUT_SECONDS, so a hanging dependency costs the answer about a second, not its timeouts.

The database down is `unhealthy` (nothing works without it). The limiter's store down is `degraded`:
the limiter falls back to per-instance limits, so requests are still served. The in-process limiter
(development default) has no store to lose. The body names states, never URLs or error texts."""

from __future__ import annotations

import logging
import threading
import time
from collections.abc import Callable
from concurrent.futures import Future, ThreadPoolExecutor
from concurrent.futures import TimeoutError as FutureTimeout
from datetime import UTC, datetime
from typing import Any

import sqlalchemy as sa

from shared.db import get_engine
from shared.ratelimit import get_limiter
from shared.schemas import iso

log = logging.getLogger("coderevai.health")

CHECK_TIMEOUT_SECONDS = 0.8
HEALTHY, DEGRADED, UNHEALTHY = "healthy", "degraded", "unhealthy"

_pool = ThreadPoolExecutor(max_workers=2, thread_name_prefix="health")
# A probe still running from an earlier check is waited on again rather than started twice, so a
# dependency that hangs ties up one thread per instance however often the check is called.
_running: dict[str, Future] = {}
_lock = threading.Lock()


def _database() -> dict[str, Any]:
    with get_engine().connect() as connection:
        connection.execute(sa.text("SELECT 1"))
    return {}


def _limiter_store() -> dict[str, Any]:
    shared = get_limiter().shared
    if shared is not None:  # None: the in-process limiter, which has no store to lose
        shared.ping()  # the limiter's own client: same URL, token and timeout
    return {}


def _store_details() -> dict[str, Any]:
    limiter = get_limiter()
    return {
        "backend": limiter.shared.name if limiter.shared else "memory",
        "circuitBreaker": "OPEN" if limiter.open else "CLOSED",
    }


def warm() -> None:
    """Build the engine and the limiter's client (imports, no network) at start, so a cold
    instance's first check spends its second on the round trips."""
    get_engine()
    get_limiter()


PROBES: dict[str, Callable[[], dict[str, Any]]] = {"database": _database, "redis": _limiter_store}


def check() -> dict[str, Any]:
    """`{status, timestamp, checks: {database, redis}}`; each check `{status: up|down, latency}`."""
    started = time.monotonic()
    futures = {name: _start(name, probe) for name, probe in PROBES.items()}
    deadline = started + CHECK_TIMEOUT_SECONDS
    checks = {name: _outcome(name, future, deadline) for name, future in futures.items()}
    try:
        checks["redis"] = {**_store_details(), **checks["redis"]}
    except Exception as exc:  # settings or client construction failed: say so, never why in the body
        log.warning("health: limiter unavailable: %s", type(exc).__name__)
    if checks["database"]["status"] != "up":
        status = UNHEALTHY
    elif checks["redis"]["status"] != "up":
        status = DEGRADED
    else:
        status = HEALTHY
    return {"status": status, "timestamp": iso(datetime.now(UTC).replace(tzinfo=None)), "checks": checks}


def _start(name: str, probe: Callable[[], dict[str, Any]]) -> Future:
    with _lock:
        running = _running.get(name)
        if running is None or running.done():
            running = _running[name] = _pool.submit(_timed, probe)
        return running


def _timed(probe: Callable[[], dict[str, Any]]) -> dict[str, Any]:
    began = time.monotonic()
    details = probe()
    return {"latency": round((time.monotonic() - began) * 1000), **details}


def _outcome(name: str, future: Future, deadline: float) -> dict[str, Any]:
    try:
        details = future.result(timeout=max(0.0, deadline - time.monotonic()))
    except FutureTimeout:
        log.warning("health: %s did not answer within %g s", name, CHECK_TIMEOUT_SECONDS)
        return {"status": "down", "error": "timeout"}
    except Exception as exc:
        log.warning("health: %s is down: %s", name, type(exc).__name__)
        return {"status": "down", "error": "unreachable"}
    return {"status": "up", **details}
