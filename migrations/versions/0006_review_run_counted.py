"""GitHubReviewRun.countedAt: when the task's review was counted against the installation's plan,
so a retried task (the same name, after a failed attempt) is not counted again.

Revision ID: 0006_review_run_counted
Revises: 0005_github_app
Create Date: 2026-12-08
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects import postgresql

revision: str = "0006_review_run_counted"
down_revision: str | None = "0005_github_app"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

Timestamp = sa.DateTime().with_variant(postgresql.TIMESTAMP(precision=3), "postgresql")


def upgrade() -> None:
    op.add_column("GitHubReviewRun", sa.Column("countedAt", Timestamp, nullable=True))


def downgrade() -> None:
    op.drop_column("GitHubReviewRun", "countedAt")
