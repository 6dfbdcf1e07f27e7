"""The history function end to end: functions-framework app, real PostgreSQL (and the SQLite default)."""

from __future__ import annotations

import psycopg
import pytest

from tests.conftest import function_client
from tests.support.history import add, as_user, unique_user


@pytest.fixture
def client(db_env):
    return function_client("history")


def test_add_then_list_newest_first_in_history_item_shape(client):
    user = unique_user("alice")
    first = add(client, user, timestamp=1_700_000_000_000, codeSnippet="x" * 800)
    second = add(client, user, timestamp=1_700_000_001_000, type="repository", repoUrl="https://github.com/a/b")
    response = client.get("/", headers=as_user(user))
    assert response.status_code == 200
    items = response.json["history"]
    assert [item["id"] for item in items] == [second, first]
    assert items[1] == {
        "id": first,
        "timestamp": 1_700_000_000_000,
        "feedback": "fine",
        "language": "python",
        "fileName": "Unknown",
        "code": "x" * 500,
        "mode": ["security"],
        "reviewType": "file",
        "type": "code",
        "reviewModes": ["security"],
        "codeSnippet": "x" * 500,
        "repoUrl": None,
    }
    assert (items[0]["reviewType"], items[0]["fileName"], items[0]["code"]) == ("repo", "https://github.com/a/b", "")
    assert response.json["nextCursor"] is None
    assert response.headers["X-Request-ID"]


def test_paging_is_stable_under_equal_timestamps(client):
    user = unique_user("pager")
    ids = {add(client, user, timestamp=1_700_000_000_000) for _ in range(7)}
    ids |= {add(client, user, timestamp=1_600_000_000_000) for _ in range(3)}
    seen, cursor, pages = [], None, 0
    while True:
        query = {"limit": 3, **({"cursor": cursor} if cursor else {})}
        response = client.get("/", query_string=query, headers=as_user(user))
        assert response.status_code == 200
        seen += [item["id"] for item in response.json["history"]]
        pages += 1
        cursor = response.json["nextCursor"]
        if not cursor:
            break
    assert pages == 4
    assert len(seen) == len(set(seen)) == 10
    assert set(seen) == ids
    stamps = [
        item["timestamp"]
        for item in client.get("/", query_string={"limit": 100}, headers=as_user(user)).json["history"]
    ]
    assert stamps == sorted(stamps, reverse=True)


def test_default_page_is_50_and_limit_is_bounded(client):
    user = unique_user("many")
    for index in range(55):
        add(client, user, timestamp=1_700_000_000_000 + index)
    assert len(client.get("/", headers=as_user(user)).json["history"]) == 50
    too_many = client.get("/", query_string={"limit": 101}, headers=as_user(user))
    assert too_many.status_code == 400
    assert too_many.json["code"] == "INVALID_INPUT"
    assert "limit" in too_many.json["error"]
    bad_cursor = client.get("/", query_string={"cursor": "not-a-cursor"}, headers=as_user(user))
    assert bad_cursor.status_code == 400
    assert "cursor" in bad_cursor.json["error"]


def test_users_only_see_and_delete_their_own(client):
    alice, bob = unique_user("alice"), unique_user("bob")
    alices = add(client, alice)
    bobs = add(client, bob)
    assert [i["id"] for i in client.get("/", headers=as_user(alice)).json["history"]] == [alices]

    stolen = client.delete("/", query_string={"id": alices}, headers=as_user(bob))
    assert stolen.status_code == 404
    message = f"No review {alices} in your history."
    assert stolen.json == {
        "code": "NOT_FOUND",
        "message": message,
        "error": message,
        "retryable": False,
        "reason": "NOT_FOUND",
    }
    assert len(client.get("/", headers=as_user(alice)).json["history"]) == 1

    assert client.delete("/", query_string={"id": alices}, headers=as_user(alice)).json == {
        "deleted": 1,
        "success": True,
    }
    add(client, alice)
    add(client, alice)
    assert client.delete("/", headers=as_user(alice)).json == {"deleted": 2, "success": True}
    assert client.get("/", headers=as_user(alice)).json["history"] == []
    assert [i["id"] for i in client.get("/", headers=as_user(bob)).json["history"]] == [bobs]


@pytest.mark.parametrize(
    ("body", "field"),
    [
        ({"type": "snippet", "feedback": "x"}, "type"),
        ({"type": "code"}, "feedback"),
        ({"type": "code", "feedback": ""}, "feedback"),
        ({"type": "code", "feedback": "x", "reviewModes": ["nonsense"]}, "reviewModes.0"),
        ({"type": "code", "feedback": "x", "reviewModes": ["security"] * 6}, "reviewModes"),
        ({"type": "code", "feedback": "x", "extra": 1}, "extra"),
        ({"type": "code", "feedback": 5}, "feedback"),
    ],
)
def test_bad_items_get_400_naming_the_field_and_write_nothing(client, pg_url, body, field):
    user = unique_user("bad")
    response = client.post("/", json=body, headers=as_user(user))
    assert response.status_code == 400
    assert response.json["code"] == "INVALID_INPUT"
    assert response.json["retryable"] is False
    assert response.json["error"].startswith(f"Invalid input: {field}")
    with psycopg.connect(pg_url) as conn:
        assert conn.execute('SELECT count(*) FROM "ReviewHistory" WHERE "userId" = %s', (user,)).fetchone()[0] == 0


def test_sqlite_default_serves_history(settings_env, tmp_path, monkeypatch):
    from alembic import command

    from tests.conftest import alembic_config

    url = f"sqlite:///{tmp_path}/dev.sqlite3"
    command.upgrade(alembic_config(url), "head")
    settings_env(DATABASE_URL=url)
    client = function_client("history")
    review_id = add(client, "local", reviewModes=["performance", "security"], timestamp=1_700_000_000_123)
    items = client.get("/", headers=as_user("local")).json["history"]
    assert items[0]["id"] == review_id
    assert items[0]["reviewModes"] == ["performance", "security"]
    assert items[0]["timestamp"] == 1_700_000_000_123
    assert client.delete("/", headers=as_user("local")).json == {"deleted": 1, "success": True}


@pytest.mark.parametrize(
    ("body", "field"),
    [
        ({"type": "code", "feedback": "ok\u0000"}, "feedback"),
        ({"type": "code", "feedback": "ok", "codeSnippet": "a\u0000b"}, "codeSnippet"),
        ({"type": "code", "feedback": "ok", "timestamp": 10**20}, "timestamp"),
    ],
)
def test_text_postgres_cannot_store_and_impossible_times_are_400(client, pg_url, body, field):
    """Found by the fuzzer: these reached the database and answered 500."""
    user = unique_user("fuzzed")
    response = client.post("/", json=body, headers=as_user(user))
    assert response.status_code == 400, response.json
    assert response.json["error"].startswith(f"Invalid input: {field}")
    with psycopg.connect(pg_url) as conn:
        assert conn.execute('SELECT count(*) FROM "ReviewHistory" WHERE "userId" = %s', (user,)).fetchone()[0] == 0


def test_nul_in_a_query_is_400(client):
    response = client.delete("/", query_string={"id": "x\u0000"}, headers=as_user("nul_query"))
    assert response.status_code == 400
    assert "id" in response.json["error"]


def test_forged_cursor_with_nul_is_400(client):
    import base64

    forged = base64.urlsafe_b64encode(b"2024-01-01T00:00:00|a\x00b").decode().rstrip("=")
    response = client.get("/", query_string={"cursor": forged}, headers=as_user("cursor_nul"))
    assert response.status_code == 400
    assert "cursor" in response.json["error"]


def test_a_review_deleted_while_the_web_apps_post_completes_it_is_saved_again_not_a_500(client, pg_url):
    """The web app POSTs a review our function saved; the user deletes that row meanwhile. The
    delete's transaction holds the row when the POST reaches it, then commits: the POST must not
    fail on the vanished row (it raised StaleDataError, a 500) but save the review anew."""
    import threading

    user = unique_user("race")
    saved = add(client, user, feedback="the review as our function saved it")
    web_app_post = {
        "feedback": "the review as our function saved it",
        "language": "Python",
        "fileName": "a.py",
        "reviewType": "file",
    }
    with psycopg.connect(pg_url, autocommit=False) as deleting:
        deleting.execute('DELETE FROM "ReviewHistory" WHERE id = %s', (saved,))  # not committed yet
        answers = []
        posting = threading.Thread(
            target=lambda: answers.append(client.post("/", json=web_app_post, headers=as_user(user)))
        )
        posting.start()
        posting.join(timeout=1.0)
        assert posting.is_alive(), [(a.status_code, a.json) for a in answers]  # it waits on the row the delete holds
        deleting.commit()
        posting.join(timeout=10)
    [answer] = answers
    assert answer.status_code == 201, answer.json
    assert answer.json["id"] != saved
    listed = client.get("/", headers=as_user(user)).json["history"]
    assert [(item["id"], item["fileName"], item["language"]) for item in listed] == [
        (answer.json["id"], "a.py", "Python")
    ]
