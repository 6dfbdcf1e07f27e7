"""Ours, not in the Prisma schema: migration 0005."""

from datetime import datetime

import sqlalchemy as sa
from sqlmodel import Field

from shared.models import TableModel, Timestamp, created_field, text


class GitHubReviewRun(TableModel, table=True):
    """One queued review task, by its name (repository, pull request, head commit, request): the
    worker claims it before posting, so a retried or duplicated task posts nothing twice."""

    __tablename__ = "GitHubReviewRun"
    __table_args__ = (sa.Index("GitHubReviewRun_repository_pullNumber_idx", "repository", "pullNumber"),)

    id: str = text(primary_key=True)
    installationId: int = Field(sa_type=sa.BigInteger())
    repository: str = text()  # owner/name
    pullNumber: int
    headSha: str = text()
    status: str = text()  # running, done, dropped
    outcome: str | None = text(default=None)
    startedAt: datetime = created_field()
    finishedAt: datetime | None = Field(default=None, sa_type=Timestamp)
