"""The database engine (built once per instance) and sessions that turn an outage into a 503."""

from __future__ import annotations

import contextlib
import functools
import logging
import select
import threading
import time
from collections.abc import Iterator, Sequence
from contextvars import ContextVar
from typing import Any

from sqlalchemy import Connection, Engine, Select, Table, create_engine, event
from sqlalchemy.exc import DBAPIError, DisconnectionError, OperationalError
from sqlalchemy.exc import TimeoutError as PoolTimeout
from sqlalchemy.sql.dml import Insert
from sqlmodel import Session

from shared.config import Settings, get_settings, note_default
from shared.errors import ApiError, database_unavailable

log = logging.getLogger("coderevai.db")

# A full pool frees a connection within a request's few database round trips: a second is enough.
BUSY_RETRY_AFTER_SECONDS = 1
# What PostgreSQL says when its connection limit (server, database or role) is reached: psycopg's
# connection error carries the text only, no SQLSTATE (53300).
_NO_SLOT_MESSAGES = (
    "too many connections",
    "too many clients",
    "remaining connection slots are reserved",
    "no more connections allowed",  # PgBouncer at its max_client_conn
)

_engine: Engine | None = None
_autocommit: Engine | None = None
_engine_key: tuple | None = None
_joined: ContextVar[tuple[Session, int] | None] = ContextVar("joined_session", default=None)


def get_engine() -> Engine:
    global _engine, _autocommit, _engine_key
    settings = get_settings()
    url = settings.sqlalchemy_url
    key = (
        url,
        settings.transaction_pooler,
        settings.database_pool_size,
        settings.database_max_overflow,
        settings.database_pool_timeout_seconds,
    )
    if _engine is None or _engine_key != key:
        if _engine is not None:
            _engine.dispose()
        _engine, _engine_key = _build_engine(url, settings), key
        _autocommit = _engine.execution_options(isolation_level="AUTOCOMMIT")
        if not settings.database_url:
            note_default(f"DATABASE_URL unset, using the SQLite file {url.removeprefix('sqlite:///')}")
    return _engine


def _build_engine(url: str, settings: Settings) -> Engine:
    if url.startswith("sqlite"):
        engine = create_engine(url, connect_args={"check_same_thread": False, "timeout": 15})
        event.listen(engine, "connect", _sqlite_pragmas)
        return engine
    if settings.database_pool_size + settings.database_max_overflow == 0:
        # SQLAlchemy reads pool_size=0 as "no limit": a function deployed without database
        # connections (deploy.sh's budget) must fail loudly, not open them anyway.
        raise RuntimeError("this function was deployed with no database connections (DATABASE_POOL_SIZE=0)")
    connect_args: dict = {"connect_timeout": 5, "application_name": "coderevai-functions"}
    if settings.transaction_pooler:
        # A transaction-mode pooler hands each transaction whichever server connection is free:
        # a statement psycopg prepared on one is unknown on the next (InvalidSqlStatementName) or
        # already there (DuplicatePreparedStatement). Nothing else of ours outlives a transaction.
        connect_args["prepare_threshold"] = None
    # A serverless instance serves a handful of concurrent requests: keep the pool small and fail
    # fast when the server is gone. No pre-ping (a round trip on every checkout): connections are
    # recycled after 5 minutes, and one the server has closed is swapped at checkout (below).
    engine = create_engine(
        url,
        pool_size=settings.database_pool_size,
        max_overflow=settings.database_max_overflow,
        pool_timeout=settings.database_pool_timeout_seconds,
        pool_recycle=300,
        connect_args=connect_args,
    )
    event.listen(engine, "checkout", _closed_by_server)
    event.listen(engine, "do_connect", _waiting_for_a_slot(settings.database_pool_timeout_seconds))
    return engine


def _waiting_for_a_slot(timeout: float):
    """A new connection the database refuses for its connection limit is tried again until the
    pool timeout: other instances' overflow connections close as their requests end, so a limit
    below the sum of every instance's pool + overflow is a wait, like a full pool, not an error."""

    def connect(dialect, _record, cargs, cparams):
        deadline, delay = time.monotonic() + timeout, 0.02
        while True:
            try:
                return dialect.connect(*cargs, **cparams)
            except dialect.loaded_dbapi.OperationalError as exc:
                if not _no_slot(exc) or time.monotonic() + delay > deadline:
                    raise
            time.sleep(delay)
            delay = min(delay * 2, 0.25)

    return connect


def _no_slot(exc: BaseException) -> bool:
    text = str(exc)
    return any(message in text for message in _NO_SLOT_MESSAGES)


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
    if joined is not None and joined[1] == threading.get_ident():
        if not own:
            yield joined[0]
            return
        _a_side_store_never_waits()
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
    if joined is not None and joined[1] == threading.get_ident():
        if not own:
            yield joined[0]
            return
        _a_side_store_never_waits()
    get_engine()
    with _outage_is_503():
        with _autocommit.connect() as connection:
            yield connection


def _a_side_store_never_waits() -> None:
    """A best-effort side store inside a request's transaction asks for a second connection while
    its request holds one. With every connection held so (concurrent keyed reviews), each waited
    out the pool timeout for the other (twice: the review cache's lookup, then its store: 20 s,
    then 503s). When the pool has none free, the side store is skipped at once instead: it gets the
    DATABASE_BUSY error a full pool gives, which side stores already take as "not now"."""
    pool, settings = get_engine().pool, get_settings()
    if not hasattr(pool, "checkedout") or get_engine().dialect.name == "sqlite":
        return
    if pool.checkedout() >= settings.database_pool_size + settings.database_max_overflow:
        log.info("no database connection free for a side store inside a request's transaction; skipped")
        raise database_busy()


@contextlib.contextmanager
def _outage_is_503() -> Iterator[None]:
    try:
        yield
    except PoolTimeout:
        # Every connection of this instance's pool stayed in use for the whole pool timeout: the
        # database is fine, this instance is at its share of the connection budget.
        log.warning("no database connection free within the pool timeout")
        raise database_busy() from None
    except OperationalError as exc:
        if exc.orig is not None and _no_slot(exc.orig):
            log.warning("the database's connection limit stayed reached for the pool timeout")
            raise database_busy() from None
        log.error("database unavailable: %s", type(exc.orig).__name__ if exc.orig else exc)
        raise database_unavailable() from None
    except DBAPIError as exc:
        if exc.connection_invalidated:
            log.error("database connection lost")
            raise database_unavailable() from None
        raise


def database_busy() -> ApiError:
    return ApiError(
        503,
        "DATABASE_BUSY",
        "Every database connection is in use; try again shortly.",
        retryable=True,
        headers={"Retry-After": str(BUSY_RETRY_AFTER_SECONDS)},
    )


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


def select_rows(db: Connection | Session, query: Select, params: dict) -> Sequence[Any]:
    """The rows of one SELECT, read by position (the columns' order in the query). On PostgreSQL
    the statement runs on the driver's cursor: for a page that is only serialised, SQLAlchemy's
    execution context and result rows were a quarter of the history GET's query step (0.15 of
    0.65 ms, benchmarks/history.py). A connection the server drops mid-query is a 503 as in
    `_outage_is_503`, and the pool replaces it at its next checkout (`_closed_by_server`)."""
    connection = db.connection() if isinstance(db, Session) else db
    if connection.dialect.name != "postgresql":
        return connection.execute(query, params).all()
    driver = connection.connection.driver_connection
    try:
        sql, values = _driver_sql(query, connection.dialect)
        with driver.cursor() as cursor:
            return cursor.execute(sql, {**values, **params}).fetchall()
    except connection.dialect.loaded_dbapi.OperationalError as exc:
        log.error("database unavailable: %s", type(exc).__name__)
        raise database_unavailable() from None


@functools.cache
def _driver_sql(query: Select, dialect) -> tuple[str, dict]:
    """The statement as the driver takes it, and the values bound in it (literals in the query)."""
    compiled = query.compile(dialect=dialect)
    return str(compiled), compiled.params


def upsert_into(session: Session, table: Table) -> Insert:
    """An INSERT that takes ON CONFLICT clauses, for the database in use (PostgreSQL or SQLite)."""
    if session.get_bind().dialect.name == "postgresql":
        from sqlalchemy.dialects.postgresql import insert
    else:
        from sqlalchemy.dialects.sqlite import insert
    return insert(table)
