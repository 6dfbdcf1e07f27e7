"""Idempotency-Key on the POSTs that write or call the model: a retry gets the first answer, with no
second row and no second model call, even when the first answer was lost after COMMIT."""

from __future__ import annotations

import threading
import uuid
from urllib.parse import urlsplit

import psycopg
import pytest

from tests.conftest import function_client
from tests.fakes.gemini import failure, generation
from tests.fakes.pg_proxy import CommitDroppingProxy
from tests.support.billing import as_user

ITEM = {"type": "code", "language": "python", "reviewModes": ["security"], "feedback": "## ok", "codeSnippet": "x=1"}


def caller() -> str:
    return f"idem_{uuid.uuid4().hex[:10]}"


def keyed(user: str, key: str) -> dict[str, str]:
    return {"X-Dev-User": user, "Idempotency-Key": key}


def history_rows(pg_url: str, user: str) -> list[str]:
    with psycopg.connect(pg_url) as conn:
        return [row[0] for row in conn.execute('SELECT id FROM "ReviewHistory" WHERE "userId" = %s', (user,))]


@pytest.fixture
def history(db_env):
    return function_client("history")


def snippet() -> dict:
    return {"code": f"# {uuid.uuid4().hex}\nprint(eval(input()))\n", "language": "python", "reviewModes": ["security"]}


def test_the_same_key_and_body_answer_once_and_write_once(history, pg_url):
    user, key = caller(), str(uuid.uuid4())
    first = history.post("/", json=ITEM, headers=keyed(user, key))
    again = history.post("/", json=ITEM, headers=keyed(user, key))
    assert first.status_code == again.status_code == 201
    assert again.json == first.json and "Idempotent-Replayed" not in first.headers
    assert again.headers["Idempotent-Replayed"] == "true"
    assert history_rows(pg_url, user) == [first.json["id"]]
    other_key = history.post("/", json=ITEM, headers=keyed(user, str(uuid.uuid4())))
    assert other_key.json["id"] != first.json["id"] and len(history_rows(pg_url, user)) == 2
    without_key = history.post("/", json=ITEM, headers={"X-Dev-User": user})
    assert without_key.status_code == 201 and len(history_rows(pg_url, user)) == 3


def test_the_same_key_with_another_body_is_422(history, pg_url):
    user, key = caller(), str(uuid.uuid4())
    assert history.post("/", json=ITEM, headers=keyed(user, key)).status_code == 201
    response = history.post("/", json={**ITEM, "feedback": "## changed"}, headers=keyed(user, key))
    assert response.status_code == 422 and response.json["reason"] == "IDEMPOTENCY_KEY_REUSED"
    assert len(history_rows(pg_url, user)) == 1


def test_a_key_is_per_user(history, pg_url):
    alice, bob, key = caller(), caller(), str(uuid.uuid4())
    for_alice = history.post("/", json=ITEM, headers=keyed(alice, key))
    for_bob = history.post("/", json=ITEM, headers=keyed(bob, key))
    assert for_bob.status_code == 201 and "Idempotent-Replayed" not in for_bob.headers
    assert for_bob.json["id"] != for_alice.json["id"]
    assert history_rows(pg_url, bob) == [for_bob.json["id"]]


@pytest.mark.parametrize("key", ["", "x" * 256, "naïve-key", "two words"])
def test_a_malformed_key_is_400_and_nothing_is_written(history, pg_url, key):
    user = caller()
    response = history.post("/", json=ITEM, headers=keyed(user, key))
    assert response.status_code == 400 and response.json["reason"] == "INVALID_INPUT"
    assert history_rows(pg_url, user) == []


def test_a_refusal_is_kept_but_the_writes_of_a_failed_request_are_not(history, pg_url):
    user, key = caller(), str(uuid.uuid4())
    bad = {**ITEM, "reviewModes": ["nonsense"]}
    first = history.post("/", json=bad, headers=keyed(user, key))
    again = history.post("/", json=bad, headers=keyed(user, key))
    assert first.status_code == again.status_code == 400
    assert again.json == first.json and again.headers["Idempotent-Replayed"] == "true"
    assert history_rows(pg_url, user) == []


def test_an_answer_lost_after_commit_is_replayed_not_written_again(db_env, pg_url):
    """The connection drops right after COMMIT reached the server: the client sees 503 while the row
    exists. The retry with the same key must return that row, not write a second one."""
    parts = urlsplit(pg_url)
    with CommitDroppingProxy((parts.hostname, parts.port or 5432)) as proxy:
        db_env(DATABASE_URL=proxy.url(parts.path.lstrip("/")))
        history = function_client("history")
        user, key = caller(), str(uuid.uuid4())
        proxy.drop_commit_after(b'INSERT INTO "ReviewHistory"')
        lost = history.post("/", json=ITEM, headers=keyed(user, key))
        assert proxy.dropped == 1
        assert lost.status_code == 503 and lost.json["reason"] == "DATABASE_UNAVAILABLE"
        [written] = history_rows(pg_url, user)  # the server did commit

        retry = history.post("/", json=ITEM, headers=keyed(user, key))
        assert retry.status_code == 201 and retry.json["id"] == written
        assert retry.headers["Idempotent-Replayed"] == "true"
        assert history_rows(pg_url, user) == [written]


def test_a_retried_review_calls_the_model_once(gemini, pg_url):
    client = function_client("review_code")
    user, key, body = caller(), str(uuid.uuid4()), snippet()
    first = client.post("/", json=body, headers=keyed(user, key))
    again = client.post("/", json=body, headers=keyed(user, key))
    assert first.status_code == again.status_code == 200
    assert again.json == first.json
    assert len(gemini.calls) == 1
    assert history_rows(pg_url, user) == [first.json["reviewId"]]


def test_concurrent_duplicates_wait_for_the_first(gemini, pg_url):
    gemini.latency = 0.5
    user, key, body = caller(), str(uuid.uuid4()), snippet()
    start = threading.Barrier(5)
    answers: list[tuple[int, dict, bool]] = []

    def send() -> None:
        client = function_client("review_code")
        start.wait()
        response = client.post("/", json=body, headers=keyed(user, key))
        answers.append((response.status_code, response.json, "Idempotent-Replayed" in response.headers))

    threads = [threading.Thread(target=send) for _ in range(5)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert [status for status, _, _ in answers] == [200] * 5
    assert sorted(replayed for _, _, replayed in answers) == [False] + [True] * 4
    assert all(answer == answers[0][1] for _, answer, _ in answers)
    assert len(gemini.calls) == 1
    assert len(history_rows(pg_url, user)) == 1


def test_a_failed_first_attempt_is_not_kept_and_the_retry_runs(gemini, pg_url):
    client = function_client("generate_diff")
    user, key = caller(), str(uuid.uuid4())
    body = {"originalCode": "x = eval(input())\n", "language": "python", "feedback": "avoid eval"}
    fixed = generation({"modifiedCode": "x = int(input())\n"})
    gemini.then(failure(503), failure(503), failure(503), fixed, fixed)
    failed = client.post("/", json=body, headers=keyed(user, key))
    assert failed.status_code >= 500 and failed.json["retryable"] is True
    retried = client.post("/", json=body, headers=keyed(user, key))
    assert retried.status_code == 200 and "Idempotent-Replayed" not in retried.headers
    assert len(gemini.calls) == 4
    assert client.post("/", json=body, headers=keyed(user, key)).headers["Idempotent-Replayed"] == "true"
    assert len(gemini.calls) == 4


def test_a_retried_repository_review_runs_its_batches_once(gemini, pg_url):
    """review-repo reviews batches on worker threads: they keep their own sessions, not the request's."""
    client = function_client("review_repo")
    files = [
        {"path": f"pkg/module_{n}.py", "content": f"# {uuid.uuid4().hex}\ndef f{n}(x):\n    return eval(x)\n" * 40}
        for n in range(6)
    ]
    user, key = caller(), str(uuid.uuid4())
    body = {"files": files, "reviewModes": ["security"]}
    first = client.post("/", json=body, headers=keyed(user, key))
    assert first.status_code == 200, first.json
    calls = len(gemini.calls)
    assert calls >= 1
    again = client.post("/", json=body, headers=keyed(user, key))
    assert again.status_code == 200 and again.json == first.json
    assert len(gemini.calls) == calls and len(history_rows(pg_url, user)) == 1


def test_the_local_sqlite_file_keeps_answers_too(settings_env, tmp_path):
    from alembic import command

    from tests.conftest import alembic_config

    url = f"sqlite:///{tmp_path}/dev.sqlite3"
    command.upgrade(alembic_config(url), "head")
    settings_env(DATABASE_URL=url)
    history = function_client("history")
    user, key = caller(), str(uuid.uuid4())
    first = history.post("/", json=ITEM, headers=keyed(user, key))
    again = history.post("/", json=ITEM, headers=keyed(user, key))
    assert first.status_code == again.status_code == 201 and again.json == first.json
    assert again.headers["Idempotent-Replayed"] == "true"
    other = history.post("/", json={**ITEM, "feedback": "## other"}, headers=keyed(user, key))
    assert other.status_code == 422
    listed = history.get("/", headers={"X-Dev-User": user}).json["history"]
    assert [item["id"] for item in listed] == [first.json["id"]]


def test_a_retried_checkout_opens_one_stripe_session(billing_env, fake_stripe):  # noqa: F811
    client = function_client("billing")
    headers = {**as_user(caller()), "Idempotency-Key": str(uuid.uuid4())}
    first = client.post("/checkout", json={"plan": "pro"}, headers=headers)
    again = client.post("/checkout", json={"plan": "pro"}, headers=headers)
    assert first.status_code == again.status_code == 200 and again.json == first.json
    assert len(fake_stripe.checkouts) == 1
    portal = client.post("/portal", json={}, headers=headers)  # same key, another path
    assert portal.status_code == 422 and portal.json["reason"] == "IDEMPOTENCY_KEY_REUSED"


def test_an_expired_key_runs_again(history, pg_url):
    user, key = caller(), str(uuid.uuid4())
    first = history.post("/", json=ITEM, headers=keyed(user, key))
    with psycopg.connect(pg_url) as conn:
        conn.execute(
            """UPDATE "IdempotencyKey" SET "expiresAt" = now() - interval '1 second' WHERE "userId" = %s""", (user,)
        )
    again = history.post("/", json=ITEM, headers=keyed(user, key))
    assert again.status_code == 201 and again.json["id"] != first.json["id"]
    assert len(history_rows(pg_url, user)) == 2


def test_a_retried_key_creation_makes_one_key_and_stores_no_readable_key(db_env, pg_url):
    keys = function_client("keys")
    user, key = caller(), str(uuid.uuid4())
    first = keys.post("/", json={"name": "CI"}, headers=keyed(user, key))
    again = keys.post("/", json={"name": "CI"}, headers=keyed(user, key))
    assert first.status_code == again.status_code == 201 and again.json == first.json
    assert again.headers["Idempotent-Replayed"] == "true"
    listed = keys.get("/", headers={"X-Dev-User": user}).json
    assert len(listed) == 1
    with psycopg.connect(pg_url) as conn:
        stored = conn.execute('SELECT response FROM "IdempotencyKey" WHERE "userId" = %s', (user,)).fetchall()
    assert len(stored) == 1 and first.json["key"] not in stored[0][0] and first.json["keyId"] not in stored[0][0]


def test_keyed_reviews_holding_every_connection_skip_the_cache_instead_of_waiting_for_it(gemini, pg_url, db_env):
    """Each keyed review holds a connection for its transaction; the review cache wants a second.
    With the pool's two connections held by two such reviews, each cache read and write waited out
    the pool timeout for the other (here 60 s each); now they are skipped and the reviews answer."""
    db_env(DATABASE_POOL_SIZE="2", DATABASE_MAX_OVERFLOW="0", DATABASE_POOL_TIMEOUT_SECONDS="60")
    gemini.latency = 0.3
    start = threading.Barrier(2)
    answers: list[int] = []

    def send(n: int) -> None:
        client = function_client("review_code")
        body = {**snippet(), "code": f"def f{n}():\n    return eval(input())\n"}
        start.wait()
        answers.append(client.post("/", json=body, headers=keyed(caller(), str(uuid.uuid4()))).status_code)

    threads = [threading.Thread(target=send, args=(n,), daemon=True) for n in range(2)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=30)  # not a speed target: without the fix they wait 2 x 60 s
    assert answers == [200, 200]
