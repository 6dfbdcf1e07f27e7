"""Ours, not in the Prisma schema: migration 0002."""

from datetime import datetime

import sqlalchemy as sa
from sqlmodel import Field

from shared.models import TableModel, Timestamp, created_field, text


class ReviewCache(TableModel, table=True):
    """Finished reviews by request fingerprint, shared by every instance, until expiresAt."""

    __tablename__ = "ReviewCache"
    __table_args__ = (sa.Index("ReviewCache_expiresAt_idx", "expiresAt"),)

    key: str = text(primary_key=True)  # sha256 of the normalised request
    response: str = text()  # the review as JSON
    createdAt: datetime = created_field()
    expiresAt: datetime = Field(sa_type=Timestamp)
