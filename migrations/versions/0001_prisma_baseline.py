"""Prisma baseline: the four tables exactly as `prisma migrate` created them.

A database the TypeScript app already created is adopted with `alembic stamp 0001_prisma_baseline`
(then `alembic upgrade head` for what came later). On an empty database this builds the same schema.

Revision ID: 0001_prisma_baseline
Revises:
Create Date: 2026-11-25
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects import postgresql

revision: str = "0001_prisma_baseline"
down_revision: str | None = None
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

# Written out rather than imported from shared.models: a migration is history and must not change
# when the models do.
Timestamp = sa.DateTime().with_variant(postgresql.TIMESTAMP(precision=3), "postgresql")
TextArray = sa.JSON().with_variant(postgresql.ARRAY(sa.Text()), "postgresql")
NOW = sa.text("CURRENT_TIMESTAMP")


def _pk(table: str) -> sa.PrimaryKeyConstraint:
    return sa.PrimaryKeyConstraint("id", name=f"{table}_pkey")


def upgrade() -> None:
    op.create_table(
        "UserSubscription",
        sa.Column("id", sa.Text(), nullable=False),
        sa.Column("userId", sa.Text(), nullable=False),
        sa.Column("stripeCustomerId", sa.Text(), nullable=False),
        sa.Column("stripeSubscriptionId", sa.Text(), nullable=True),
        sa.Column("stripePriceId", sa.Text(), nullable=True),
        sa.Column("plan", sa.Text(), nullable=False),
        sa.Column("status", sa.Text(), nullable=False),
        sa.Column("currentPeriodStart", Timestamp, nullable=True),
        sa.Column("currentPeriodEnd", Timestamp, nullable=True),
        sa.Column("cancelAtPeriodEnd", sa.Boolean(), server_default=sa.false(), nullable=False),
        sa.Column("createdAt", Timestamp, server_default=NOW, nullable=False),
        sa.Column("updatedAt", Timestamp, nullable=False),
        _pk("UserSubscription"),
    )
    op.create_table(
        "ReviewHistory",
        sa.Column("id", sa.Text(), nullable=False),
        sa.Column("userId", sa.Text(), nullable=False),
        sa.Column("type", sa.Text(), nullable=False),
        sa.Column("language", sa.Text(), nullable=True),
        sa.Column("reviewModes", TextArray, nullable=True),
        sa.Column("timestamp", Timestamp, server_default=NOW, nullable=False),
        sa.Column("codeSnippet", sa.Text(), nullable=True),
        sa.Column("feedback", sa.Text(), nullable=False),
        sa.Column("repoUrl", sa.Text(), nullable=True),
        sa.Column("fileName", sa.Text(), nullable=True),
        _pk("ReviewHistory"),
    )
    op.create_table(
        "ReviewFeedback",
        sa.Column("id", sa.Text(), nullable=False),
        sa.Column("userId", sa.Text(), nullable=False),
        sa.Column("reviewId", sa.Text(), nullable=True),
        sa.Column("rating", sa.Integer(), nullable=False),
        sa.Column("comment", sa.Text(), nullable=True),
        sa.Column("reviewType", sa.Text(), nullable=False),
        sa.Column("timestamp", Timestamp, server_default=NOW, nullable=False),
        _pk("ReviewFeedback"),
    )
    op.create_table(
        "ApiUsage",
        sa.Column("id", sa.Text(), nullable=False),
        sa.Column("userId", sa.Text(), nullable=False),
        sa.Column("endpoint", sa.Text(), nullable=False),
        sa.Column("timestamp", Timestamp, server_default=NOW, nullable=False),
        sa.Column("duration", sa.Integer(), nullable=True),
        sa.Column("statusCode", sa.Integer(), nullable=True),
        sa.Column("tokensUsed", sa.Integer(), nullable=True),
        _pk("ApiUsage"),
    )
    op.create_index("UserSubscription_userId_key", "UserSubscription", ["userId"], unique=True)
    op.create_index("UserSubscription_stripeCustomerId_key", "UserSubscription", ["stripeCustomerId"], unique=True)
    op.create_index(
        "UserSubscription_stripeSubscriptionId_key", "UserSubscription", ["stripeSubscriptionId"], unique=True
    )
    op.create_index("UserSubscription_userId_idx", "UserSubscription", ["userId"])
    op.create_index("UserSubscription_stripeCustomerId_idx", "UserSubscription", ["stripeCustomerId"])
    op.create_index("ReviewHistory_userId_timestamp_idx", "ReviewHistory", ["userId", "timestamp"])
    op.create_index("ReviewHistory_userId_idx", "ReviewHistory", ["userId"])
    op.create_index("ReviewFeedback_userId_idx", "ReviewFeedback", ["userId"])
    op.create_index("ReviewFeedback_reviewId_idx", "ReviewFeedback", ["reviewId"])
    op.create_index("ApiUsage_userId_timestamp_idx", "ApiUsage", ["userId", "timestamp"])
    op.create_index("ApiUsage_endpoint_timestamp_idx", "ApiUsage", ["endpoint", "timestamp"])


def downgrade() -> None:
    for table in ("ApiUsage", "ReviewFeedback", "ReviewHistory", "UserSubscription"):
        op.drop_table(table)
