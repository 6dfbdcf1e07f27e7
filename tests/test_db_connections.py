"""Pooled connections are not pinged before use: one the server ended while it sat idle is swapped
for a fresh one at checkout, so the request that draws it still succeeds. `db.statement()` sends
no transaction of its own, and joins `one_transaction()` when inside one."""

from __future__ import annotations

import os

import psycopg
import sqlalchemy as sa

from shared import db
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
    from shared.history.service import add_review, list_reviews

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
        assert [row.feedback for row in list_reviews(session, user, 10, None)[0]] == ["committed with the transaction"]
