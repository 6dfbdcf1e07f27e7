"""Our own tables: processed Stripe events (idempotency and ordering) and the shared review cache.

Revision ID: 0002_stripe_events_review_cache
Revises: 0001_prisma_baseline
Create Date: 2026-11-25
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects import postgresql

revision: str = "0002_stripe_events_review_cache"
down_revision: str | None = "0001_prisma_baseline"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

Timestamp = sa.DateTime().with_variant(postgresql.TIMESTAMP(precision=3), "postgresql")
NOW = sa.text("CURRENT_TIMESTAMP")


def upgrade() -> None:
    op.create_table(
        "StripeEvent",
        sa.Column("id", sa.Text(), nullable=False),
        sa.Column("type", sa.Text(), nullable=False),
        sa.Column("subscriptionId", sa.Text(), nullable=True),
        sa.Column("eventCreatedAt", Timestamp, nullable=False),
        sa.Column("processedAt", Timestamp, server_default=NOW, nullable=False),
        sa.PrimaryKeyConstraint("id", name="StripeEvent_pkey"),
    )
    op.create_index(
        "StripeEvent_subscriptionId_eventCreatedAt_idx", "StripeEvent", ["subscriptionId", "eventCreatedAt"]
    )
    op.create_table(
        "ReviewCache",
        sa.Column("key", sa.Text(), nullable=False),
        sa.Column("response", sa.Text(), nullable=False),
        sa.Column("createdAt", Timestamp, server_default=NOW, nullable=False),
        sa.Column("expiresAt", Timestamp, nullable=False),
        sa.PrimaryKeyConstraint("key", name="ReviewCache_pkey"),
    )
    op.create_index("ReviewCache_expiresAt_idx", "ReviewCache", ["expiresAt"])


def downgrade() -> None:
    op.drop_table("ReviewCache")
    op.drop_table("StripeEvent")
