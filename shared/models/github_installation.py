"""Ours, not in the Prisma schema: migration 0005."""

from datetime import datetime

import sqlalchemy as sa
from sqlmodel import Field

from shared.models import TableModel, Timestamp, created_field, text


class GitHubInstallation(TableModel, table=True):
    """An installation of the app, by GitHub's id: whose plan its reviews count against (`userId`,
    once a signed-in user linked it), and whether reviews stopped (suspended or deleted)."""

    __tablename__ = "GitHubInstallation"
    __table_args__ = (sa.Index("GitHubInstallation_userId_idx", "userId"),)

    id: int = Field(sa_type=sa.BigInteger(), primary_key=True, sa_column_kwargs={"autoincrement": False})
    accountLogin: str | None = text(default=None)
    accountType: str | None = text(default=None)  # User or Organization
    userId: str | None = text(default=None)
    linkedAt: datetime | None = Field(default=None, sa_type=Timestamp)
    suspendedAt: datetime | None = Field(default=None, sa_type=Timestamp)
    deletedAt: datetime | None = Field(default=None, sa_type=Timestamp)
    createdAt: datetime = created_field()
    updatedAt: datetime = created_field()
