"""A task is claimed before the worker posts anything: a retried or duplicated task finds its run
done and posts nothing again; one that finds its run still going (the queue's dispatch deadline
passed while the first attempt worked) answers "busy" and the queue tries again later. A run
whose worker died is taken over after LEASE; one whose attempt failed retryably is released and
taken over by the retry at once, keeping when its review counted against the plan (limits.py)."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
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
        row = _locked(session, task.name)  # a twin attempt waits here for this one's claim
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
        if row.status not in ("running", "released"):
            return "finished"
        if row.status == "running" and row.startedAt > now - LEASE:
            raise busy()
        # The earlier attempt failed (released) or died: take it over.
        row.status, row.startedAt, row.headSha = "running", now, head_sha
        return "claimed"


@contextmanager
def locked(task: ReviewTask) -> Iterator[GitHubReviewRun | None]:
    """The task's run, locked until the block ends and written then (None: no run, e.g. purged)."""
    with db.session() as session:
        yield _locked(session, task.name)


def _locked(session, run_id: str) -> GitHubReviewRun | None:
    query = select(GitHubReviewRun).where(GitHubReviewRun.id == run_id)
    if session.get_bind().dialect.name == "postgresql":
        query = query.with_for_update()
    return session.exec(query).first()


def finish(task: ReviewTask, status: str, outcome: str) -> None:
    with db.session() as session:
        row = session.get(GitHubReviewRun, task.name)
        if row is not None:
            row.status, row.outcome, row.finishedAt = status, outcome[:500], utcnow()


def release(task: ReviewTask) -> None:
    """A failed attempt gives its claim back, so the queue's retry starts afresh at once; the row
    stays, with countedAt, so the retry does not count the review against the plan again."""
    with db.session() as session:
        row = session.get(GitHubReviewRun, task.name)
        if row is not None and row.status == "running":
            row.status = "released"


def busy() -> ApiError:
    return ApiError(
        409,
        "TASK_RUNNING",
        "Another attempt of this task is running; the queue will try again.",
        retryable=True,
        headers={"Retry-After": "60"},
    )
