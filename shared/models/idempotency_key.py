"""Ours, not in the Prisma schema: migration 0004."""

from datetime import datetime

import sqlalchemy as sa
from sqlmodel import Field

from shared.models import TableModel, Timestamp, created_field, text


class IdempotencyKey(TableModel, table=True):
    """The first answer to a request sent with an `Idempotency-Key` header, per user, kept until
    `expiresAt` so a retry of the same request gets it back instead of running again."""

    __tablename__ = "IdempotencyKey"
    __table_args__ = (sa.Index("IdempotencyKey_expiresAt_idx", "expiresAt"),)

    userId: str = text(primary_key=True)
    keyHash: str = text(primary_key=True)  # SHA-256 of the header: the key itself is not kept
    requestHash: str = text()  # SHA-256 of method, path and body
    status: int
    response: str = text()  # the JSON body of the first answer
    createdAt: datetime = created_field()
    expiresAt: datetime = Field(sa_type=Timestamp)
