"""ApiKey: the front end's API keys, exactly as its Prisma schema makes the table.

A database the newer TypeScript app created already has the table (its `prisma migrate` made it):
that one is adopted as it is, so `alembic upgrade head` after `alembic stamp 0001_prisma_baseline`
works on databases from either version of the app.

Revision ID: 0003_api_keys
Revises: 0002_stripe_events_review_cache
Create Date: 2026-11-25
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects import postgresql

revision: str = "0003_api_keys"
down_revision: str | None = "0002_stripe_events_review_cache"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

Timestamp = sa.DateTime().with_variant(postgresql.TIMESTAMP(precision=3), "postgresql")
NOW = sa.text("CURRENT_TIMESTAMP")


def upgrade() -> None:
    if sa.inspect(op.get_bind()).has_table("ApiKey"):
        return  # made by the front end's own migration: the same table, adopted
    op.create_table(
        "ApiKey",
        sa.Column("id", sa.Text(), nullable=False),
        sa.Column("userId", sa.Text(), nullable=False),
        sa.Column("keyHash", sa.Text(), nullable=False),
        sa.Column("name", sa.Text(), nullable=False),
        sa.Column("lastUsed", Timestamp, nullable=True),
        sa.Column("createdAt", Timestamp, server_default=NOW, nullable=False),
        sa.Column("expiresAt", Timestamp, nullable=True),
        sa.Column("isActive", sa.Boolean(), server_default=sa.true(), nullable=False),
        sa.PrimaryKeyConstraint("id", name="ApiKey_pkey"),
    )
    op.create_index("ApiKey_keyHash_key", "ApiKey", ["keyHash"], unique=True)
    op.create_index("ApiKey_userId_idx", "ApiKey", ["userId"])
    op.create_index("ApiKey_keyHash_idx", "ApiKey", ["keyHash"])


def downgrade() -> None:
    op.drop_table("ApiKey")
