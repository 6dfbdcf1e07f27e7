"""The database engine (built once per instance) and sessions that turn an outage into a 503."""

from __future__ import annotations

import contextlib
import logging
import select
import threading
from collections.abc import Iterator
from contextvars import ContextVar

from sqlalchemy import Connection, Engine, Table, create_engine, event
from sqlalchemy.exc import DBAPIError, DisconnectionError, OperationalError
from sqlalchemy.sql.dml import Insert
from sqlmodel import Session

from shared.config import get_settings, note_default
from shared.errors import database_unavailable

log = logging.getLogger("coderevai.db")

_engine: Engine | None = None
_autocommit: Engine | None = None
_engine_url: str | None = None
_joined: ContextVar[tuple[Session, int] | None] = ContextVar("joined_session", default=None)


def get_engine() -> Engine:
    global _engine, _autocommit, _engine_url
    settings = get_settings()
    url = settings.sqlalchemy_url
    if _engine is None or _engine_url != url:
        if _engine is not None:
            _engine.dispose()
        _engine, _engine_url = _build_engine(url), url
        _autocommit = _engine.execution_options(isolation_level="AUTOCOMMIT")
        if not settings.database_url:
            note_default(f"DATABASE_URL unset, using the SQLite file {url.removeprefix('sqlite:///')}")
    return _engine


def _build_engine(url: str) -> Engine:
    if url.startswith("sqlite"):
        engine = create_engine(url, connect_args={"check_same_thread": False, "timeout": 15})
        event.listen(engine, "connect", _sqlite_pragmas)
        return engine
    # A serverless instance serves a handful of concurrent requests: keep the pool small and fail
    # fast when the server is gone. No pre-ping (a round trip on every checkout): connections are
    # recycled after 5 minutes, and one the server has closed is swapped at checkout (below).
    engine = create_engine(
        url,
        pool_size=2,
        max_overflow=4,
        pool_timeout=10,
        pool_recycle=300,
        connect_args={"connect_timeout": 5, "application_name": "coderevai-functions"},
    )
    event.listen(engine, "checkout", _closed_by_server)
    return engine


def _closed_by_server(dbapi_connection, _record, _proxy) -> None:
    """An idle connection has nothing to read unless the server ended it (restart, failover,
    idle_session_timeout, pg_terminate_backend: a FATAL notice, then EOF). Polling the socket costs
    no round trip; DisconnectionError makes the pool replace the connection and retry the checkout
    once. A connection cut silently (no FIN) is not seen here: the recycle age keeps those rare, and
    the request that meets one answers 503 (retryable), and the pool is renewed."""
    if dbapi_connection.closed or dbapi_connection.broken:
        raise DisconnectionError("connection closed")
    poller = select.poll()
    poller.register(dbapi_connection.fileno(), select.POLLIN | select.POLLERR | select.POLLHUP)
    if poller.poll(0):
        raise DisconnectionError("connection ended by the server while idle")


def _sqlite_pragmas(dbapi_connection, _record) -> None:
    cursor = dbapi_connection.cursor()
    cursor.execute("PRAGMA journal_mode=WAL")
    cursor.execute("PRAGMA foreign_keys=ON")
    cursor.close()


@contextlib.contextmanager
def session(*, own: bool = False) -> Iterator[Session]:
    """A session that commits on success, rolls back on error, and answers 503 when the database
    cannot be reached (connection refused, timed out, dropped mid-request). Inside
    `one_transaction()`, in its thread, it is that transaction's session, committed by its owner;
    `own=True` keeps a transaction of its own there (best-effort side stores such as the review
    cache, which must neither hold locks for the whole request nor abort it when they fail)."""
    joined = _joined.get()
    if joined is not None and not own and joined[1] == threading.get_ident():
        yield joined[0]
        return
    engine = get_engine()
    with _outage_is_503():
        with Session(engine, expire_on_commit=False) as db:
            yield db
            db.commit()


@contextlib.contextmanager
def statement(*, own: bool = False) -> Iterator[Connection | Session]:
    """A Core connection in autocommit, for work that is one statement (a page of rows, a lookup,
    one INSERT), atomic on its own: no BEGIN or COMMIT round trips, and none of the ORM session's
    bookkeeping (about 0.4 ms a request). Never for several writes that must land together.
    Service functions take it where they take a session: both have `execute`. Inside
    `one_transaction()` (in its thread) it is that transaction's session, unless `own=True`, as
    for `session()`."""
    joined = _joined.get()
    if joined is not None and not own and joined[1] == threading.get_ident():
        yield joined[0]
        return
    get_engine()
    with _outage_is_503():
        with _autocommit.connect() as connection:
            yield connection


@contextlib.contextmanager
def _outage_is_503() -> Iterator[None]:
    try:
        yield
    except OperationalError as exc:
        log.error("database unavailable: %s", type(exc.orig).__name__ if exc.orig else exc)
        raise database_unavailable() from None
    except DBAPIError as exc:
        if exc.connection_invalidated:
            log.error("database connection lost")
            raise database_unavailable() from None
        raise


@contextlib.contextmanager
def one_transaction() -> Iterator[Session]:
    """Every `session()` opened inside (in this thread) joins one transaction, committed at the end:
    an idempotent request's writes and its kept answer land together or not at all."""
    with session() as db:
        # Worker threads that copy the request's context must not share the session: not thread-safe.
        token = _joined.set((db, threading.get_ident()))
        try:
            yield db
        finally:
            _joined.reset(token)


def upsert_into(session: Session, table: Table) -> Insert:
    """An INSERT that takes ON CONFLICT clauses, for the database in use (PostgreSQL or SQLite)."""
    if session.get_bind().dialect.name == "postgresql":
        from sqlalchemy.dialects.postgresql import insert
    else:
        from sqlalchemy.dialects.sqlite import insert
    return insert(table)
