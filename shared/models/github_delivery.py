"""Ours, not in the Prisma schema: migration 0005."""

from datetime import datetime

import sqlalchemy as sa
from sqlmodel import Field

from shared.models import TableModel, created_field, text


class GitHubDelivery(TableModel, table=True):
    """A webhook delivery we acted on, by GitHub's `X-GitHub-Delivery` id: written with the task it
    queued, so a redelivery (GitHub's, or a person's "Redeliver") is recognised and does nothing."""

    __tablename__ = "GitHubDelivery"
    __table_args__ = (sa.Index("GitHubDelivery_receivedAt_idx", "receivedAt"),)

    id: str = text(primary_key=True)
    event: str = text()
    action: str | None = text(default=None)
    installationId: int | None = Field(default=None, sa_type=sa.BigInteger())
    outcome: str = text()
    receivedAt: datetime = created_field()
