"""The GitHub App's webhook: the signature checked on the raw body before anything parses it, each
delivery acted on once, the events that queue a review and those that do not, installation events;
against the real PostgreSQL, with the review queue held (the embedded queue's worker is not run)."""

from __future__ import annotations

import json

import psycopg
import pytest

from shared.github_app.signature import sign
from tests.conftest import function_client
from tests.support.github_app import WEBHOOK_SECRET, comment_event, delivery, pull_request_event


@pytest.fixture
def held_queue(app_env, tasks_server):
    """Cloud Tasks (the fake) taking tasks without dispatching them: what the webhook queued is in `tasks`."""
    tasks_server.tasks.clear()
    tasks_server.refused.clear()
    tasks_server.dispatching = False
    app_env(
        CLOUD_TASKS_QUEUE="projects/p/locations/l/queues/q",
        CLOUD_TASKS_API_URL=tasks_server.url,
        REVIEW_WORKER_URL="http://127.0.0.1:9/worker",
        REVIEW_WORKER_SERVICE_ACCOUNT="tasks@p.iam.gserviceaccount.com",
    )
    yield tasks_server
    tasks_server.dispatching = True


@pytest.fixture
def webhook(held_queue):
    return function_client("github_webhook")


@pytest.fixture
def repo(fake_github):
    repo = fake_github.repository("octo/app", installation_id=42)
    base = repo.commit({"app.py": "print('hi')\n"}, branch="main")
    repo.open_pull_request(7, repo.commit({"app.py": "print('hello')\n"}, parent=base))
    return repo


def deliveries(pg_url: str, delivery_id: str) -> list[tuple]:
    with psycopg.connect(pg_url) as conn:
        return conn.execute(
            'SELECT event, action, outcome FROM "GitHubDelivery" WHERE id = %s', (delivery_id,)
        ).fetchall()


def queued(tasks) -> list[dict]:
    return [json.loads(__import__("base64").b64decode(t["httpRequest"]["body"])) for t in tasks.tasks.values()]


def test_a_signed_pull_request_is_queued_once_per_delivery(webhook, repo, held_queue, pg_url):
    body, headers = delivery("pull_request", pull_request_event(repo, 7))
    first = webhook.post("/", data=body, headers=headers)
    assert first.status_code == 200, first.get_json()
    assert first.get_json() == {"received": True, "outcome": "queued"}
    (task,) = queued(held_queue)
    assert task["repository"] == "octo/app" and task["pullNumber"] == 7
    assert task["headSha"] == repo.pulls[7]["head"]["sha"] and task["kind"] == "auto"
    (name,) = held_queue.tasks
    assert name.startswith("projects/p/locations/l/queues/q/tasks/pr-") and task["headSha"] in name
    request = held_queue.tasks[name]["httpRequest"]
    assert request["oidcToken"] == {
        "serviceAccountEmail": "tasks@p.iam.gserviceaccount.com",
        "audience": "http://127.0.0.1:9/worker",
    }
    assert deliveries(pg_url, headers["X-GitHub-Delivery"]) == [("pull_request", "opened", "queued")]

    again = webhook.post("/", data=body, headers=headers)  # GitHub's redelivery: same id
    assert again.status_code == 200 and again.get_json()["outcome"] == "duplicate"
    assert len(held_queue.tasks) == 1 and held_queue.refused == []


def test_a_second_delivery_for_the_same_head_is_refused_by_the_queue(webhook, repo, held_queue):
    event = pull_request_event(repo, 7)
    for action in ("opened", "reopened"):
        body, headers = delivery("pull_request", {**event, "action": action})
        assert webhook.post("/", data=body, headers=headers).status_code == 200
    assert len(held_queue.tasks) == 1
    assert len(held_queue.refused) == 1  # the task name (repository, PR, head) was taken


@pytest.mark.parametrize(
    ("signature", "secret_set", "reason"),
    [
        (None, True, "WEBHOOK_SIGNATURE"),
        ("sha256=" + "0" * 64, True, "WEBHOOK_SIGNATURE"),
        ("sha1=abc", True, "WEBHOOK_SIGNATURE"),
        ("other-secret", True, "WEBHOOK_SIGNATURE"),
        ("good", False, "WEBHOOK_NOT_CONFIGURED"),
    ],
)
def test_an_unsigned_or_badly_signed_delivery_is_401_and_records_nothing(
    webhook, repo, held_queue, app_env, pg_url, signature, secret_set, reason
):
    body, headers = delivery("pull_request", pull_request_event(repo, 7))
    if signature is None:
        del headers["X-Hub-Signature-256"]
    elif signature == "other-secret":
        headers["X-Hub-Signature-256"] = sign(body, "not-the-secret")
    elif signature != "good":
        headers["X-Hub-Signature-256"] = signature
    if not secret_set:
        app_env(GITHUB_WEBHOOK_SECRET=None)
    response = webhook.post("/", data=body, headers=headers)
    assert response.status_code == 401
    answer = response.get_json()
    assert answer["code"] == "UNAUTHORIZED" and answer["reason"] == reason and answer["retryable"] is False
    assert deliveries(pg_url, headers["X-GitHub-Delivery"]) == [] and held_queue.tasks == {}


def test_the_signature_is_checked_before_the_body_is_parsed(webhook):
    """A body that is not JSON at all is refused for its signature, not for its syntax."""
    response = webhook.post(
        "/", data=b"{not json", headers={"X-GitHub-Event": "pull_request", "X-GitHub-Delivery": "d-1"}
    )
    assert response.status_code == 401 and response.get_json()["reason"] == "WEBHOOK_SIGNATURE"
    signed = webhook.post(
        "/",
        data=b"{not json",
        headers={
            "X-GitHub-Event": "pull_request",
            "X-GitHub-Delivery": "d-2",
            "X-Hub-Signature-256": sign(b"{not json", WEBHOOK_SECRET),
        },
    )
    assert signed.status_code == 400 and signed.get_json()["code"] == "INVALID_INPUT"


def test_a_body_signed_then_changed_is_refused(webhook, repo):
    body, headers = delivery("pull_request", pull_request_event(repo, 7))
    tampered = body.replace(b'"opened"', b'"closed"')
    assert webhook.post("/", data=tampered, headers=headers).status_code == 401


def test_ping_is_answered(webhook, pg_url):
    body, headers = delivery("ping", {"zen": "Design for failure.", "hook_id": 1})
    response = webhook.post("/", data=body, headers=headers)
    assert response.status_code == 200 and response.get_json()["outcome"] == "pong"
    assert deliveries(pg_url, headers["X-GitHub-Delivery"]) == []


@pytest.mark.parametrize(
    ("change", "outcome"),
    [
        ({"draft": True}, "ignored: draft"),
        ({"state": "closed"}, "ignored: closed"),
        ({"user": {"login": "dependabot[bot]", "type": "Bot"}}, "ignored: opened by a bot"),
    ],
)
def test_drafts_closed_and_bot_pull_requests_are_not_queued(webhook, repo, held_queue, change, outcome):
    event = pull_request_event(repo, 7)
    event["pull_request"].update(change)
    body, headers = delivery("pull_request", event)
    response = webhook.post("/", data=body, headers=headers)
    assert response.status_code == 200 and response.get_json()["outcome"] == outcome
    assert held_queue.tasks == {}


@pytest.mark.parametrize("action", ["opened", "reopened", "ready_for_review", "synchronize"])
def test_the_reviewed_actions_queue_a_task(webhook, repo, held_queue, action):
    body, headers = delivery("pull_request", pull_request_event(repo, 7, action=action))
    assert webhook.post("/", data=body, headers=headers).get_json()["outcome"] == "queued"


@pytest.mark.parametrize("action", ["closed", "labeled", "edited", "assigned"])
def test_other_actions_do_not(webhook, repo, held_queue, action):
    body, headers = delivery("pull_request", pull_request_event(repo, 7, action=action))
    assert webhook.post("/", data=body, headers=headers).get_json()["outcome"].startswith("ignored")
    assert held_queue.tasks == {}


@pytest.mark.parametrize(
    ("text", "kind"),
    [
        ("/coderevai review", "incremental"),
        ("/coderevai full review", "full"),
        ("/coderevai pause", "pause"),
        ("/coderevai resume", "resume"),
        ("/coderevai help", "help"),
        ("Thanks!\n@coderevai-test review", "incremental"),
        ("/coderevai what is this", "help"),
    ],
)
def test_commands_in_comments_are_queued(webhook, repo, held_queue, text, kind):
    body, headers = delivery("issue_comment", comment_event(repo, 7, text))
    assert webhook.post("/", data=body, headers=headers).get_json()["outcome"] == "queued"
    (task,) = queued(held_queue)
    assert task["kind"] == kind and task["requestedBy"] == "maintainer" and task["headSha"] is None


@pytest.mark.parametrize(
    ("text", "user_type"),
    [
        ("looks good to me", "User"),
        ("/coderevai review", "Bot"),
        ("@someone-else review", "User"),
        ("see `/coderevai review`", "User"),
    ],
)
def test_comments_without_a_command_or_by_bots_are_not(webhook, repo, held_queue, text, user_type):
    body, headers = delivery("issue_comment", comment_event(repo, 7, text, user_type=user_type))
    assert webhook.post("/", data=body, headers=headers).get_json()["outcome"].startswith("ignored")
    assert held_queue.tasks == {}


def test_a_comment_on_an_issue_is_not_a_command(webhook, repo, held_queue):
    event = comment_event(repo, 7, "/coderevai review")
    del event["issue"]["pull_request"]
    body, headers = delivery("issue_comment", event)
    assert webhook.post("/", data=body, headers=headers).get_json()["outcome"].startswith("ignored")


def test_a_deleted_or_suspended_installation_stops_reviews(webhook, repo, held_queue, pg_url):
    installation = {"id": 42, "account": {"login": "octo", "type": "Organization"}}
    for action, expected in (("created", "installation created"), ("suspend", "installation suspend")):
        body, headers = delivery("installation", {"action": action, "installation": installation})
        assert webhook.post("/", data=body, headers=headers).get_json()["outcome"] == expected
    body, headers = delivery("pull_request", pull_request_event(repo, 7))
    assert (
        webhook.post("/", data=body, headers=headers).get_json()["outcome"]
        == "ignored: the installation is suspended or removed"
    )
    body, headers = delivery("installation", {"action": "unsuspend", "installation": installation})
    webhook.post("/", data=body, headers=headers)
    body, headers = delivery("pull_request", pull_request_event(repo, 7))
    assert webhook.post("/", data=body, headers=headers).get_json()["outcome"] == "queued"
    body, headers = delivery("installation", {"action": "deleted", "installation": installation})
    webhook.post("/", data=body, headers=headers)
    body, headers = delivery("pull_request", pull_request_event(repo, 7, action="synchronize"))
    assert webhook.post("/", data=body, headers=headers).get_json()["outcome"].startswith("ignored: the installation")
    with psycopg.connect(pg_url) as conn:
        row = conn.execute(
            'SELECT "accountLogin", "deletedAt" IS NOT NULL FROM "GitHubInstallation" WHERE id = 42'
        ).fetchone()
    assert row == ("octo", True)


def test_a_queue_that_refuses_answers_503_and_records_nothing(webhook, repo, app_env, pg_url):
    app_env(CLOUD_TASKS_API_URL="http://127.0.0.1:9")  # nothing listens there
    body, headers = delivery("pull_request", pull_request_event(repo, 7))
    response = webhook.post("/", data=body, headers=headers)
    assert response.status_code == 503 and response.get_json()["retryable"] is True
    assert deliveries(pg_url, headers["X-GitHub-Delivery"]) == []


@pytest.mark.parametrize("missing", ["X-GitHub-Event", "X-GitHub-Delivery"])
def test_a_delivery_without_its_headers_is_400(webhook, repo, missing):
    body, headers = delivery("pull_request", pull_request_event(repo, 7))
    del headers[missing]
    response = webhook.post("/", data=body, headers=headers)
    assert response.status_code == 400 and response.get_json()["code"] == "INVALID_INPUT"


def test_an_event_not_subscribed_is_acknowledged(webhook, pg_url):
    body, headers = delivery("star", {"action": "created"})
    response = webhook.post("/", data=body, headers=headers)
    assert response.status_code == 200 and response.get_json()["outcome"].startswith("ignored")
