"""The database engine (built once per instance) and sessions that turn an outage into a 503."""

from __future__ import annotations

import contextlib
import logging
import threading
from collections.abc import Iterator
from contextvars import ContextVar

from sqlalchemy import Engine, Table, create_engine, event
from sqlalchemy.exc import DBAPIError, OperationalError
from sqlalchemy.sql.dml import Insert
from sqlmodel import Session

from shared.config import get_settings, note_default
from shared.errors import database_unavailable

log = logging.getLogger("coderevai.db")

_engine: Engine | None = None
_engine_url: str | None = None
_joined: ContextVar[tuple[Session, int] | None] = ContextVar("joined_session", default=None)


def get_engine() -> Engine:
    global _engine, _engine_url
    settings = get_settings()
    url = settings.sqlalchemy_url
    if _engine is None or _engine_url != url:
        if _engine is not None:
            _engine.dispose()
        _engine, _engine_url = _build_engine(url), url
        if not settings.database_url:
            note_default(f"DATABASE_URL unset, using the SQLite file {url.removeprefix('sqlite:///')}")
    return _engine


def _build_engine(url: str) -> Engine:
    if url.startswith("sqlite"):
        engine = create_engine(url, connect_args={"check_same_thread": False, "timeout": 15})
        event.listen(engine, "connect", _sqlite_pragmas)
        return engine
    # A serverless instance serves a handful of concurrent requests: keep the pool small, check a
    # connection before use (instances idle for minutes), and fail fast when the server is gone.
    return create_engine(
        url,
        pool_size=2,
        max_overflow=4,
        pool_timeout=10,
        pool_pre_ping=True,
        pool_recycle=300,
        connect_args={"connect_timeout": 5, "application_name": "coderevai-functions"},
    )


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
    try:
        with Session(get_engine(), expire_on_commit=False) as db:
            yield db
            db.commit()
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
