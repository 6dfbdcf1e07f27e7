"""Behind PgBouncer in transaction mode (each transaction may get another server connection), with
DATABASE_POOLER=transaction or Prisma's `?pgbouncer=true` nothing outlives a transaction: the
history and review paths serve many clients through few server connections."""

from __future__ import annotations

import threading
import uuid

import pytest
import sqlalchemy as sa

from shared import db
from tests.conftest import function_client
from tests.support.pgbouncer import pgbouncer


@pytest.fixture
def bouncer(pg_url):
    """One server connection, fresh for each test: a statement prepared on it would stay there."""
    with pgbouncer(pg_url, mode="transaction", server_connections=1) as through:
        yield through


def repeat_on_two_connections(times: int = 8) -> None:
    """Two of the instance's connections run the same query often enough for psycopg to prepare
    it (5 times): each names it the same, and PgBouncer hands both the one server connection."""
    with db.statement() as first, db.statement() as second:
        for connection in (first, second):
            for n in range(times):
                connection.execute(
                    sa.text('SELECT count(*) FROM "ReviewHistory" WHERE "userId" = :u'), {"u": f"user{n}"}
                )


def test_without_the_setting_prepared_statements_collide_behind_the_pooler(db_env, bouncer, pg_url):
    db_env(DATABASE_URL=bouncer(pg_url), DATABASE_POOLER="none")
    with pytest.raises(sa.exc.ProgrammingError, match="DuplicatePreparedStatement|already exists"):
        repeat_on_two_connections()


@pytest.mark.parametrize("how", ["setting", "url"])
def test_with_it_nothing_is_prepared_on_the_server(db_env, bouncer, pg_url, how):
    if how == "setting":
        db_env(DATABASE_URL=bouncer(pg_url), DATABASE_POOLER="transaction")
    else:
        db_env(DATABASE_URL=bouncer(pg_url) + "?pgbouncer=true")
    repeat_on_two_connections()
    with db.statement() as connection:
        assert connection.execute(sa.text("SELECT count(*) FROM pg_prepared_statements")).scalar_one() == 0


def test_history_and_review_paths_through_a_transaction_pooler(db_env, pg_url):
    """Eight clients at once on an instance pool of four, through two server connections."""
    with pgbouncer(pg_url, mode="transaction", server_connections=2) as through:
        db_env(DATABASE_URL=through(pg_url), DATABASE_POOLER="transaction", DATABASE_POOL_SIZE="4")
        statuses: list[int] = []
        failures: list[str] = []

        # Built here, one after another: functions-framework compiles the function's source as it
        # builds a client, and CPython 3.11 can fail compiling in several threads at once
        # ("AST constructor recursion depth mismatch"); the requests are what runs concurrently.
        clients = [(function_client("history"), function_client("review_code")) for _ in range(8)]

        def client_session(n: int) -> None:
            history, review = clients[n]
            headers = {"X-Dev-User": f"pooled_{n}_{uuid.uuid4().hex[:6]}"}
            item = {"type": "code", "language": "python", "reviewModes": ["security"], "feedback": "ok"}
            code = "import os\nos.system(input())\n"
            for round_ in range(6):
                responses = [
                    history.post("/", json={**item, "feedback": f"round {round_}"}, headers=headers),
                    history.get("/", query_string={"limit": 5}, headers=headers),
                    review.post(
                        "/",
                        json={"code": code, "language": "python", "reviewModes": ["security"]},
                        headers={**headers, "Idempotency-Key": f"k-{n}-{round_}"},
                    ),
                ]
                for response in responses:
                    statuses.append(response.status_code)
                    if response.status_code >= 300:
                        failures.append(f"{response.status_code} {response.get_data(as_text=True)[:200]}")
            listed = history.get("/", query_string={"limit": 50}, headers=headers).json["history"]
            deleted = history.delete("/", query_string={"id": listed[0]["id"]}, headers=headers)
            statuses.append(deleted.status_code)
            if deleted.status_code >= 300:
                failures.append(f"DELETE {deleted.status_code}")

        threads = [threading.Thread(target=client_session, args=(n,)) for n in range(8)]
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join()
        db.get_engine().dispose()
    assert failures == []
    assert len(statuses) == 8 * (6 * 3 + 1)
