"""Ours, not in the Prisma schema: migrations 0005 and 0006 (countedAt)."""

from datetime import datetime

import sqlalchemy as sa
from sqlmodel import Field

from shared.models import TableModel, Timestamp, created_field, text


class GitHubReviewRun(TableModel, table=True):
    """One queued review task, by its name (repository, pull request, head commit, request): the
    worker claims it before posting, so a retried or duplicated task posts nothing twice, and marks
    when its review counted against the plan, so a retry after a failed attempt counts nothing again."""

    __tablename__ = "GitHubReviewRun"
    __table_args__ = (sa.Index("GitHubReviewRun_repository_pullNumber_idx", "repository", "pullNumber"),)

    id: str = text(primary_key=True)
    installationId: int = Field(sa_type=sa.BigInteger())
    repository: str = text()  # owner/name
    pullNumber: int
    headSha: str = text()
    # running; released (an attempt failed retryably: the queue's retry takes it over); done, dropped, failed
    status: str = text()
    outcome: str | None = text(default=None)
    startedAt: datetime = created_field()
    finishedAt: datetime | None = Field(default=None, sa_type=Timestamp)
    countedAt: datetime | None = Field(default=None, sa_type=Timestamp)
