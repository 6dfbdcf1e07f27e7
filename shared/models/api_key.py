"""The front end's `ApiKey` model (its newer Prisma schema): migration 0003."""

from datetime import datetime

import sqlalchemy as sa
from sqlmodel import Field

from shared.models import TableModel, Timestamp, created_field, id_field, text


class ApiKey(TableModel, table=True):
    """A key for scripts and CI: only its SHA-256 is stored; revoking clears isActive."""

    __tablename__ = "ApiKey"
    __table_args__ = (
        sa.Index("ApiKey_keyHash_key", "keyHash", unique=True),
        sa.Index("ApiKey_userId_idx", "userId"),
        sa.Index("ApiKey_keyHash_idx", "keyHash"),
    )

    id: str = id_field()
    userId: str = text()
    keyHash: str = text()  # hex SHA-256 of the whole key
    name: str = text()
    lastUsed: datetime | None = Field(default=None, sa_type=Timestamp)
    createdAt: datetime = created_field()
    expiresAt: datetime | None = Field(default=None, sa_type=Timestamp)
    isActive: bool = Field(default=True, sa_column_kwargs={"server_default": sa.true()})
