"""The worker's decisions, end to end: signed deliveries to the queued_webhook, the fake Cloud Tasks
dispatching each task with an OIDC token to the worker over HTTP, the fake GitHub (installation
tokens checked against the app's key). What is dropped (stale heads, drafts, closed pull requests,
suspended installations, commands without write access, paused pull requests, rules from the base
branch), what runs once (a task dispatched twice), and the plan's limit."""

from __future__ import annotations

import psycopg
import pytest

from tests.support.github_app import INSTALLATION, comment_event, delivery, pull_request_event

APP = "print('hello')\n"


@pytest.fixture
def repo(fake_github):
    repo = fake_github.repository("octo/app", installation_id=INSTALLATION)
    base = repo.commit({"app.py": "print('hi')\n"}, branch="main")
    repo.open_pull_request(7, repo.commit({"app.py": APP}, parent=base))
    repo.permissions.update({"maintainer": "write", "reader": "read"})
    return repo


def send(queued_webhook, event: str, payload: dict) -> str:
    body, headers = delivery(event, payload)
    response = queued_webhook.post("/", data=body, headers=headers)
    assert response.status_code == 200, response.get_json()
    return response.get_json()["outcome"]


def outcomes(tasks) -> list[str]:
    tasks.wait()
    return [
        answer["outcome"] for answers in tasks.answers.values() for answer in answers if answer and "outcome" in answer
    ]


def held(queue_env) -> None:
    queue_env.dispatching = False


def dispatch_all(queue_env) -> None:
    for name in list(queue_env.tasks):
        queue_env.dispatch(name)
    queue_env.wait()


def test_a_task_for_a_head_that_moved_on_is_dropped(queued_webhook, repo, queue_env):
    held(queue_env)
    assert send(queued_webhook, "pull_request", pull_request_event(repo, 7)) == "queued"
    repo.push(7, {"app.py": "print('newer')\n"})  # its own synchronize task would review this head
    dispatch_all(queue_env)
    (outcome,) = outcomes(queue_env)
    assert outcome.startswith("dropped: stale: the head is ")
    assert repo.pulls[7]["reviews"] == [] and repo.pulls[7]["issue_comments"] == [] and repo.check_runs == []


@pytest.mark.parametrize(("change", "why"), [({"draft": True}, "a draft"), ({"state": "closed"}, "closed")])
def test_a_pull_request_that_became_a_draft_or_closed_is_dropped(queued_webhook, repo, queue_env, change, why):
    held(queue_env)
    send(queued_webhook, "pull_request", pull_request_event(repo, 7))
    repo.pulls[7].update(change)
    dispatch_all(queue_env)
    assert outcomes(queue_env) == [f"dropped: the pull request is {why}"]


def test_a_suspended_installation_is_not_reviewed_by_a_waiting_task(queued_webhook, repo, queue_env):
    held(queue_env)
    send(queued_webhook, "pull_request", pull_request_event(repo, 7))
    send(queued_webhook, "installation", {"action": "suspend", "installation": {"id": INSTALLATION}})
    dispatch_all(queue_env)
    assert outcomes(queue_env) == ["dropped: the installation is suspended or removed"]
    assert not [r for r in queue_env.requests if r.path.startswith("/repos/")]


def test_a_command_runs_once_however_often_the_queue_sends_it(queued_webhook, repo, queue_env, fake_github):
    held(queue_env)
    assert send(queued_webhook, "issue_comment", comment_event(repo, 7, "/coderevai help")) == "queued"
    dispatch_all(queue_env)
    (name,) = queue_env.tasks
    queue_env.dispatch(name)  # the queue's at-least-once delivery: the same task again
    queue_env.wait()
    assert outcomes(queue_env) == ["answered help", "duplicate: this task ran before"]
    (answer,) = repo.pulls[7]["issue_comments"]
    assert "`/coderevai full review`" in answer["body"] and "`@coderevai-test review`" in answer["body"]


def test_a_command_from_someone_without_write_access_is_dropped(queued_webhook, repo, queue_env):
    send(queued_webhook, "issue_comment", comment_event(repo, 7, "/coderevai full review", login="reader"))
    assert outcomes(queue_env) == ["dropped: reader cannot write to octo/app"]
    assert repo.pulls[7]["issue_comments"] == []


def test_paused_pull_requests_are_not_reviewed_on_push_until_resumed(queued_webhook, repo, queue_env):
    send(queued_webhook, "issue_comment", comment_event(repo, 7, "/coderevai pause"))
    assert outcomes(queue_env) == ["paused"]
    (summary,) = repo.pulls[7]["issue_comments"]
    assert "Reviews paused** by @maintainer" in summary["body"] and '"paused": true' in summary["body"]
    queue_env.answers.clear()
    repo.push(7, {"app.py": "print('pushed while paused')\n"})
    send(queued_webhook, "pull_request", pull_request_event(repo, 7, action="synchronize"))
    assert outcomes(queue_env) == ["dropped: reviews are paused on this pull request"]
    queue_env.answers.clear()
    send(queued_webhook, "issue_comment", comment_event(repo, 7, "@coderevai-test resume"))
    assert outcomes(queue_env) == ["resumed"]
    (summary,) = repo.pulls[7]["issue_comments"]  # the same comment, edited in place
    assert "Reviews paused" not in summary["body"] and '"paused"' not in summary["body"]


def test_the_rules_come_from_the_base_branch_not_the_pull_request(queued_webhook, repo, queue_env):
    repo.branches["main"] = repo.commit(
        {".coderevai.yml": "auto_review: false\n"}, parent=repo.branches["main"], branch="main"
    )
    repo.push(7, {".coderevai.yml": "auto_review: true\n"})  # the pull request cannot turn reviews back on
    send(queued_webhook, "pull_request", pull_request_event(repo, 7, action="synchronize"))
    assert outcomes(queue_env) == ["dropped: auto_review is false in .coderevai.yml"]


def test_over_the_plans_limit_the_summary_says_so_and_the_check_is_neutral(queued_webhook, repo, queue_env, app_env):
    from shared.github_app.limits import take_review

    app_env(GITHUB_REVIEW_LIMITS='{"free": 2}')
    assert take_review(INSTALLATION, "free").allowed and take_review(INSTALLATION, "free").allowed
    send(queued_webhook, "pull_request", pull_request_event(repo, 7))
    assert outcomes(queue_env) == ["limited: 2 reviews per window on the free plan"]
    (summary,) = repo.pulls[7]["issue_comments"]
    assert "used its 2 reviews of the window on the free plan" in summary["body"]
    (check,) = repo.check_runs
    assert check["conclusion"] == "neutral" and check["head_sha"] == repo.pulls[7]["head"]["sha"]


def test_a_retried_task_counts_once_against_the_plan(queued_webhook, repo, queue_env, app_env, fake_github, pg_url):
    """GitHub fails the first attempt's summary comment (502) after the plan counted the review; the
    queue's retry of the same task is the same review: it posts, and is not counted again. The next
    push is."""
    from tests.fakes.server import Reply

    app_env(GITHUB_REVIEW_LIMITS='{"free": 1}')
    failed = []

    def fails_once(seen):
        if not failed:
            failed.append(seen.path)
            return Reply(502, {"message": "Server Error"})
        return fake_github._serve(seen)

    fake_github.route("POST", "/repos/octo/app/issues/7/comments", fails_once)
    try:
        send(queued_webhook, "pull_request", pull_request_event(repo, 7))
        (reviewed,) = outcomes(queue_env)
        assert failed and reviewed.startswith("reviewed 1 files at ")
        ((name, statuses),) = {n: [s for t, s in queue_env.attempts if t == n] for n in queue_env.tasks}.items()
        assert statuses == [503, 200]
        (summary,) = repo.pulls[7]["issue_comments"]
        assert "<!-- coderevai:summary -->" in summary["body"]
        with psycopg.connect(pg_url) as conn:
            status, counted = conn.execute(
                'SELECT status, "countedAt" FROM "GitHubReviewRun" WHERE id = %s', (name.rsplit("/", 1)[1],)
            ).fetchone()
        assert status == "done" and counted is not None

        queue_env.answers.clear()
        repo.push(7, {"app.py": "print('a second push')\n"})
        send(queued_webhook, "pull_request", pull_request_event(repo, 7, action="synchronize"))
        assert outcomes(queue_env) == ["limited: 1 reviews per window on the free plan"]
    finally:
        fake_github.routes = [route for route in fake_github.routes if route[2] is not fails_once]


def test_a_task_whose_pull_request_is_gone_is_dropped(queued_webhook, repo, queue_env, pg_url):
    held(queue_env)
    send(queued_webhook, "pull_request", pull_request_event(repo, 7))
    del repo.pulls[7]
    dispatch_all(queue_env)
    assert outcomes(queue_env) == ["dropped: the pull request cannot be read (404)"]
    with psycopg.connect(pg_url) as conn:
        assert conn.execute('SELECT count(*) FROM "GitHubReviewRun"').fetchone()[0] == 0
