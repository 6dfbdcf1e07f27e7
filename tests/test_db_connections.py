"""Pooled connections are not pinged before use: one the server ended while it sat idle is swapped
for a fresh one at checkout, so the request that draws it still succeeds. `db.statement()` sends
no transaction of its own, and joins `one_transaction()` when inside one."""

from __future__ import annotations

import os

import psycopg
import pytest
import sqlalchemy as sa

from shared import db
from shared.errors import ApiError
from tests.conftest import ADMIN_URL


def backend_pid(*, autocommit: bool) -> int:
    with db.statement() if autocommit else db.session() as session:
        return session.execute(sa.text("SELECT pg_backend_pid()")).scalar_one()


def test_a_connection_the_server_ended_is_replaced_at_checkout(db_env):
    db.get_engine().dispose()
    for autocommit in (False, True):
        first = backend_pid(autocommit=autocommit)
        assert backend_pid(autocommit=autocommit) == first  # the pool hands the same one back
        with psycopg.connect(ADMIN_URL, autocommit=True) as admin:
            assert admin.execute("SELECT pg_terminate_backend(%s)", (first,)).fetchone() == (True,)
            # terminate returns before the backend has gone: wait for it
            admin.execute("SELECT pg_sleep(0.2)")
        replaced = backend_pid(autocommit=autocommit)
        assert replaced != first


def test_a_statement_connection_sends_no_transaction(db_env):
    with db.statement() as session:
        assert session.execute(sa.text("SELECT now() = statement_timestamp()")).scalar_one()
        assert session.execute(sa.text("SELECT now() = statement_timestamp()")).scalar_one()
    with db.session() as session:
        session.execute(sa.text("SELECT pg_sleep(0.01)"))
        assert not session.execute(sa.text("SELECT now() = statement_timestamp()")).scalar_one()


def test_a_statement_inside_one_transaction_lands_with_it_or_not_at_all(db_env):
    from shared.history.service import PAGE_COLUMNS, add_review, list_reviews

    user = f"joined_{os.urandom(4).hex()}"
    try:
        with db.one_transaction():
            with db.statement() as session:
                add_review(session, user, type="code", feedback="kept only if the transaction commits")
            raise RuntimeError("the request failed after its INSERT")
    except RuntimeError:
        pass
    with db.statement() as session:
        assert list_reviews(session, user, 10, None) == ([], None)
    with db.one_transaction():
        with db.statement() as session:
            add_review(session, user, type="code", feedback="committed with the transaction")
        with db.statement(own=True) as session:  # its own connection: cannot see it before COMMIT
            assert list_reviews(session, user, 10, None) == ([], None)
    with db.statement() as session:
        feedback = PAGE_COLUMNS.index("feedback")
        assert [row[feedback] for row in list_reviews(session, user, 10, None)[0]] == ["committed with the transaction"]


def test_a_saturated_pool_waits_then_answers_503_with_retry_after(db_env):
    from tests.conftest import function_client

    db_env(DATABASE_POOL_SIZE="1", DATABASE_MAX_OVERFLOW="0", DATABASE_POOL_TIMEOUT_SECONDS="0.3")
    client = function_client("history")
    headers = {"X-Dev-User": f"waiting_{os.urandom(4).hex()}"}
    with db.statement() as held:  # the pool's only connection, busy elsewhere in this instance
        held.execute(sa.text("SELECT 1"))
        response = client.get("/", headers=headers)
    assert response.status_code == 503
    assert response.headers["Retry-After"] == "1"
    assert response.json["code"] == "DATABASE_ERROR"
    assert response.json["reason"] == "DATABASE_BUSY"
    assert response.json["retryable"] is True
    assert client.get("/", headers=headers).status_code == 200  # the connection back, the next one is served


def test_a_function_deployed_without_connections_refuses_to_open_one(db_env):
    db_env(DATABASE_POOL_SIZE="0", DATABASE_MAX_OVERFLOW="0")
    with pytest.raises(RuntimeError, match="no database connections"):
        db.get_engine()


@pytest.fixture
def limited_database(pg_url):
    """The test database through a role of its own limited to one connection (superusers are not)."""
    role = f"crv_limited_{os.urandom(4).hex()}"
    with psycopg.connect(ADMIN_URL, autocommit=True) as admin:
        admin.execute(f'CREATE ROLE "{role}" LOGIN CONNECTION LIMIT 1')
    base = pg_url.split("://", 1)[1].split("@", 1)[1]
    yield f"postgresql://{role}@{base}"
    with psycopg.connect(ADMIN_URL, autocommit=True) as admin:
        admin.execute("SELECT pg_terminate_backend(pid) FROM pg_stat_activity WHERE usename = %s", (role,))
        admin.execute(f'DROP ROLE "{role}"')


def test_a_database_at_its_connection_limit_is_a_wait_then_a_503(db_env, limited_database):
    import threading

    db_env(
        DATABASE_URL=limited_database,
        DATABASE_POOL_SIZE="1",
        DATABASE_MAX_OVERFLOW="1",
        DATABASE_POOL_TIMEOUT_SECONDS="2",
    )
    engine = db.get_engine()
    taken = psycopg.connect(limited_database)  # the role's one slot, held by "another instance"
    threading.Timer(0.3, taken.close).start()
    with db.statement() as connection:  # waits for the slot rather than failing
        assert connection.execute(sa.text("SELECT 1")).scalar_one() == 1
    engine.dispose()
    db_env(DATABASE_POOL_TIMEOUT_SECONDS="0.3")
    with psycopg.connect(limited_database):
        with pytest.raises(ApiError) as refused:
            with db.statement() as connection:
                connection.execute(sa.text("SELECT 1"))
    assert (refused.value.status, refused.value.code) == (503, "DATABASE_BUSY")
    assert refused.value.headers == {"Retry-After": "1"}
    db.get_engine().dispose()


def test_a_connection_dropped_during_a_driver_select_is_a_503_and_then_replaced(db_env):
    """db.select_rows runs on the driver's cursor: the outage still answers 503, not a 500, and the
    pool hands out a working connection next."""
    import threading
    import time

    def terminate_soon():
        time.sleep(0.3)
        with psycopg.connect(ADMIN_URL, autocommit=True) as admin:
            admin.execute("SELECT pg_terminate_backend(%s)", (pid,))

    db.get_engine().dispose()
    with db.statement() as session:
        pid = db.select_rows(session, sa.select(sa.func.pg_backend_pid()), {})[0][0]
    killer = threading.Thread(target=terminate_soon)
    killer.start()
    with pytest.raises(ApiError) as refused:
        with db.statement() as session:
            db.select_rows(session, sa.select(sa.func.pg_sleep(5)), {})
    killer.join()
    assert (refused.value.status, refused.value.code, refused.value.retryable) == (503, "DATABASE_UNAVAILABLE", True)
    with db.statement() as session:
        assert db.select_rows(session, sa.select(sa.func.pg_backend_pid()), {})[0][0] != pid
