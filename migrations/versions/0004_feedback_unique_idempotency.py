"""One rating per user and review; stored answers for Idempotency-Key; held Stripe events.

- ReviewFeedback gets the unique index Prisma would name for @@unique([userId, reviewId]). A database
  that already holds duplicate ratings (the TypeScript app allowed them) keeps the newest of each
  pair and the migration says how many it removed.
- IdempotencyKey: the first answer to a request sent with an Idempotency-Key header, for 24 hours.
- StripeEvent.heldFacts: an event whose subscription names no user yet, kept until one does.

Revision ID: 0004_feedback_unique_idempotency
Revises: 0003_api_keys
Create Date: 2026-11-25
"""

import logging
from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects import postgresql

revision: str = "0004_feedback_unique_idempotency"
down_revision: str | None = "0003_api_keys"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

Timestamp = sa.DateTime().with_variant(postgresql.TIMESTAMP(precision=3), "postgresql")
NOW = sa.text("CURRENT_TIMESTAMP")
log = logging.getLogger("alembic.runtime.migration")

# Every rating but the newest of its (user, review); ties on the timestamp keep the greatest id.
_OLDER_DUPLICATES = """
    DELETE FROM "ReviewFeedback" AS older
    WHERE EXISTS (
        SELECT 1 FROM "ReviewFeedback" AS newer
        WHERE newer."userId" = older."userId" AND newer."reviewId" = older."reviewId"
          AND (newer."timestamp", newer."id") > (older."timestamp", older."id")
    )
"""


def upgrade() -> None:
    removed = op.get_bind().execute(sa.text(_OLDER_DUPLICATES)).rowcount
    if removed:
        message = f"ReviewFeedback: removed {removed} older duplicate rating(s); the newest of each is kept"
        log.warning(message)
        print(message)  # noqa: T201  (the operator running `alembic upgrade` must see it)
    op.create_index("ReviewFeedback_userId_reviewId_key", "ReviewFeedback", ["userId", "reviewId"], unique=True)

    op.create_table(
        "IdempotencyKey",
        sa.Column("userId", sa.Text(), nullable=False),
        sa.Column("keyHash", sa.Text(), nullable=False),
        sa.Column("requestHash", sa.Text(), nullable=False),
        sa.Column("status", sa.Integer(), nullable=False),
        sa.Column("response", sa.Text(), nullable=False),
        sa.Column("createdAt", Timestamp, server_default=NOW, nullable=False),
        sa.Column("expiresAt", Timestamp, nullable=False),
        sa.PrimaryKeyConstraint("userId", "keyHash", name="IdempotencyKey_pkey"),
    )
    op.create_index("IdempotencyKey_expiresAt_idx", "IdempotencyKey", ["expiresAt"])

    op.add_column("StripeEvent", sa.Column("heldFacts", sa.Text(), nullable=True))
    held = sa.text('"heldFacts" IS NOT NULL')
    op.create_index(
        "StripeEvent_held_processedAt_idx", "StripeEvent", ["processedAt"], postgresql_where=held, sqlite_where=held
    )


def downgrade() -> None:
    op.drop_index("StripeEvent_held_processedAt_idx", table_name="StripeEvent")
    op.drop_column("StripeEvent", "heldFacts")
    op.drop_table("IdempotencyKey")
    op.drop_index("ReviewFeedback_userId_reviewId_key", table_name="ReviewFeedback")
