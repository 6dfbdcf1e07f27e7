"""POST /history/feedback: rate one of your own reviews (ReviewFeedback), on real PostgreSQL."""

from __future__ import annotations

import threading
import uuid

import psycopg
import pytest

from tests.conftest import function_client


@pytest.fixture
def client(db_env):
    return function_client("history")


def new_user() -> dict[str, str]:
    return {"X-Dev-User": f"rater_{uuid.uuid4().hex[:8]}"}


def add_review(client, headers) -> str:
    body = {"type": "file", "language": "go", "reviewModes": ["performance"], "feedback": "ok"}
    response = client.post("/", json=body, headers=headers)
    assert response.status_code == 201
    return response.json["id"]


def feedback_rows(pg_url, user):
    with psycopg.connect(pg_url) as conn:
        return conn.execute(
            'SELECT "reviewId", rating, comment, "reviewType" FROM "ReviewFeedback" WHERE "userId" = %s', (user,)
        ).fetchall()


def test_rating_own_review_is_stored_and_rating_again_replaces_it(client, pg_url):
    headers = new_user()
    review = add_review(client, headers)
    first = client.post("/feedback", json={"reviewId": review, "rating": 4, "comment": "useful"}, headers=headers)
    assert first.status_code == 201
    assert feedback_rows(pg_url, headers["X-Dev-User"]) == [(review, 4, "useful", "file")]
    again = client.post("/feedback", json={"reviewId": review, "rating": 1}, headers=headers)
    assert again.status_code == 200 and again.json["id"] == first.json["id"]
    assert feedback_rows(pg_url, headers["X-Dev-User"]) == [(review, 1, None, "file")]


def test_another_users_review_is_not_found_and_nothing_is_written(client, pg_url):
    owner, intruder = new_user(), new_user()
    review = add_review(client, owner)
    response = client.post("/feedback", json={"reviewId": review, "rating": 5}, headers=intruder)
    assert response.status_code == 404 and response.json["code"] == "NOT_FOUND"
    assert feedback_rows(pg_url, intruder["X-Dev-User"]) == []
    assert feedback_rows(pg_url, owner["X-Dev-User"]) == []


@pytest.mark.parametrize(
    "body",
    [
        {"reviewId": "x", "rating": 6},
        {"reviewId": "x", "rating": -1},
        {"rating": 3},
        {"reviewId": "x", "rating": 3, "extra": 1},
    ],
)
def test_bad_feedback_is_a_400(client, body):
    response = client.post("/feedback", json=body, headers=new_user())
    assert response.status_code == 400 and response.json["code"] == "INVALID_INPUT"


def test_feedback_needs_sign_in_and_post(client):
    assert client.post("/feedback", json={"reviewId": "x", "rating": 3}).status_code == 401
    response = client.get("/feedback", headers=new_user())
    assert response.status_code == 405 and "POST" in response.headers["Allow"]


def test_simultaneous_first_ratings_leave_one_row(client, pg_url):
    headers = new_user()
    review = add_review(client, headers)
    start = threading.Barrier(20)
    answers: list[tuple[int, str]] = []

    def rate(stars: int) -> None:
        own_client = function_client("history")
        start.wait()
        response = own_client.post("/feedback", json={"reviewId": review, "rating": stars}, headers=headers)
        answers.append((response.status_code, response.json["id"]))

    threads = [threading.Thread(target=rate, args=(n % 5 + 1,)) for n in range(20)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    rows = feedback_rows(pg_url, headers["X-Dev-User"])
    assert len(rows) == 1
    assert sorted(status for status, _ in answers) == [200] * 19 + [201]
    assert {feedback_id for _, feedback_id in answers} == {answers[0][1]}
