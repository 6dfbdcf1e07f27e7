"""A task is claimed before the worker posts anything: a retried or duplicated task finds its run
done and posts nothing again; one that finds its run still going (the queue's dispatch deadline
passed while the first attempt worked) answers "busy" and the queue tries again later. A run
whose worker died is taken over after LEASE."""

from __future__ import annotations

from datetime import timedelta
from typing import Literal

from sqlmodel import select

from shared import db
from shared.errors import ApiError
from shared.github_app.tasks import ReviewTask
from shared.models import utcnow
from shared.models.github_review_run import GitHubReviewRun

LEASE = timedelta(minutes=20)  # above the worker's timeout (deploy.sh: 900 s)
Claim = Literal["claimed", "finished"]


def claim(task: ReviewTask, head_sha: str) -> Claim:
    with db.session() as session:
        query = select(GitHubReviewRun).where(GitHubReviewRun.id == task.name)
        if session.get_bind().dialect.name == "postgresql":
            query = query.with_for_update()  # a twin attempt waits here for this one's claim
        row = session.exec(query).first()
        now = utcnow()
        if row is None:
            session.add(
                GitHubReviewRun(
                    id=task.name,
                    installationId=task.installationId,
                    repository=task.repository,
                    pullNumber=task.pullNumber,
                    headSha=head_sha,
                    status="running",
                    startedAt=now,
                )
            )
            try:
                session.flush()
            except Exception as exc:  # a twin inserted it first: it is that one's run
                if "unique" in str(exc).lower() or "duplicate" in str(exc).lower():
                    raise busy() from None
                raise
            return "claimed"
        if row.status != "running":
            return "finished"
        if row.startedAt > now - LEASE:
            raise busy()
        row.startedAt, row.headSha = now, head_sha  # the earlier attempt died: take it over
        return "claimed"


def finish(task: ReviewTask, status: str, outcome: str) -> None:
    with db.session() as session:
        row = session.get(GitHubReviewRun, task.name)
        if row is not None:
            row.status, row.outcome, row.finishedAt = status, outcome[:500], utcnow()


def release(task: ReviewTask) -> None:
    """A failed attempt gives its claim back, so the queue's retry starts afresh at once."""
    with db.session() as session:
        row = session.get(GitHubReviewRun, task.name)
        if row is not None and row.status == "running":
            session.delete(row)


def busy() -> ApiError:
    return ApiError(
        409,
        "TASK_RUNNING",
        "Another attempt of this task is running; the queue will try again.",
        retryable=True,
        headers={"Retry-After": "60"},
    )
