"""One queued task -> what it asks for, at most once: a pull request reviewed at its head (posted
through the composer in publish.py, with a check run), or a command answered.

Dropped, with the reason logged and 2xx to the queue: an installation suspended or removed, a pull
request closed or gone, a draft (on a push), a task for a head that is no longer the pull request's
(a newer push has its own task), a command from someone who cannot write to the repository, a
paused pull request (on a push). Claimed before posting (runs.py), so a retried or duplicated task
posts nothing twice; the summary's marker (state.py) says the same when the database does not."""

from __future__ import annotations

import logging

from shared.errors import ApiError
from shared.github_app import client, commands, installations, publish, runs
from shared.github_app.client import GitHubError, Installation
from shared.github_app.pull import PullRequest
from shared.github_app.review import review_pull_request
from shared.github_app.tasks import ReviewTask

log = logging.getLogger("coderevai.github_app.worker")


def run(task: ReviewTask) -> str:
    standing = installations.standing(task.installationId)
    if not standing.active:
        return _dropped(task, "the installation is suspended or removed")
    github = Installation(task.installationId)
    try:
        pull = PullRequest(github, task.repository, task.pullNumber)
    except GitHubError as exc:
        if exc.github_status in (403, 404, 410):
            return _dropped(task, f"the pull request cannot be read ({exc.github_status})")
        raise
    if task.commentId is not None and not pull.may_write(task.requestedBy):
        return _dropped(task, f"{task.requestedBy} cannot write to {task.repository}")
    if task.kind in ("help", "pause", "resume"):
        return _once(task, pull.head_sha, lambda: _command(task, pull))
    if not pull.open:
        return _dropped(task, "the pull request is closed")
    if task.kind == "auto" and pull.draft:
        return _dropped(task, "the pull request is a draft")
    if task.headSha and task.headSha != pull.head_sha:
        return _dropped(task, f"stale: the head is {pull.head_sha[:12]} now, this task is for {task.headSha[:12]}")
    return _once(task, pull.head_sha, lambda: review_pull_request(task, pull, standing))


def _once(task: ReviewTask, head_sha: str, work) -> str:
    if runs.claim(task, head_sha) == "finished":
        return _logged(task, "duplicate: this task ran before")
    try:
        outcome = work()
    except ApiError as exc:
        if exc.retryable:
            runs.release(task)  # the queue's retry does it all again
            raise
        runs.finish(task, "failed", f"{exc.code}: {exc.message}")
        return _logged(task, f"failed: {exc.code}")
    except BaseException:
        runs.release(task)
        raise
    runs.finish(task, "dropped" if outcome.startswith("dropped") else "done", outcome)
    return _logged(task, outcome)


def _command(task: ReviewTask, pull: PullRequest) -> str:
    if task.kind == "help":
        publish.comment(pull, commands.HELP.format(slug=client.app_slug() or "coderevai"))
        return "answered help"
    paused = task.kind == "pause"
    publish.set_paused(pull, paused, by=task.requestedBy)
    return "paused" if paused else "resumed"


def _dropped(task: ReviewTask, why: str) -> str:
    return _logged(task, f"dropped: {why}")


def _logged(task: ReviewTask, outcome: str) -> str:
    log.info("task %s (%s#%d): %s", task.name, task.repository, task.pullNumber, outcome)
    return outcome
