"""The GitHub App's tables: deliveries acted on once, installations and whose plan they count
against, and review tasks claimed once.

Revision ID: 0005_github_app
Revises: 0004_feedback_unique_idempotency
Create Date: 2026-12-01
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects import postgresql

revision: str = "0005_github_app"
down_revision: str | None = "0004_feedback_unique_idempotency"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

Timestamp = sa.DateTime().with_variant(postgresql.TIMESTAMP(precision=3), "postgresql")
NOW = sa.text("CURRENT_TIMESTAMP")


def upgrade() -> None:
    op.create_table(
        "GitHubDelivery",
        sa.Column("id", sa.Text(), nullable=False),
        sa.Column("event", sa.Text(), nullable=False),
        sa.Column("action", sa.Text(), nullable=True),
        sa.Column("installationId", sa.BigInteger(), nullable=True),
        sa.Column("outcome", sa.Text(), nullable=False),
        sa.Column("receivedAt", Timestamp, server_default=NOW, nullable=False),
        sa.PrimaryKeyConstraint("id", name="GitHubDelivery_pkey"),
    )
    op.create_index("GitHubDelivery_receivedAt_idx", "GitHubDelivery", ["receivedAt"])
    op.create_table(
        "GitHubInstallation",
        sa.Column("id", sa.BigInteger(), autoincrement=False, nullable=False),
        sa.Column("accountLogin", sa.Text(), nullable=True),
        sa.Column("accountType", sa.Text(), nullable=True),
        sa.Column("userId", sa.Text(), nullable=True),
        sa.Column("linkedAt", Timestamp, nullable=True),
        sa.Column("suspendedAt", Timestamp, nullable=True),
        sa.Column("deletedAt", Timestamp, nullable=True),
        sa.Column("createdAt", Timestamp, server_default=NOW, nullable=False),
        sa.Column("updatedAt", Timestamp, server_default=NOW, nullable=False),
        sa.PrimaryKeyConstraint("id", name="GitHubInstallation_pkey"),
    )
    op.create_index("GitHubInstallation_userId_idx", "GitHubInstallation", ["userId"])
    op.create_table(
        "GitHubReviewRun",
        sa.Column("id", sa.Text(), nullable=False),
        sa.Column("installationId", sa.BigInteger(), nullable=False),
        sa.Column("repository", sa.Text(), nullable=False),
        sa.Column("pullNumber", sa.Integer(), nullable=False),
        sa.Column("headSha", sa.Text(), nullable=False),
        sa.Column("status", sa.Text(), nullable=False),
        sa.Column("outcome", sa.Text(), nullable=True),
        sa.Column("startedAt", Timestamp, server_default=NOW, nullable=False),
        sa.Column("finishedAt", Timestamp, nullable=True),
        sa.PrimaryKeyConstraint("id", name="GitHubReviewRun_pkey"),
    )
    op.create_index("GitHubReviewRun_repository_pullNumber_idx", "GitHubReviewRun", ["repository", "pullNumber"])


def downgrade() -> None:
    op.drop_table("GitHubReviewRun")
    op.drop_table("GitHubInstallation")
    op.drop_table("GitHubDelivery")
