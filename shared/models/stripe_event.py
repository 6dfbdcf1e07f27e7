"""Ours, not in the Prisma schema: migration 0002."""

from datetime import datetime

import sqlalchemy as sa
from sqlmodel import Field

from shared.models import TableModel, Timestamp, created_field, text


class StripeEvent(TableModel, table=True):
    """A Stripe event we applied (or hold): written in the same transaction as its effect, so a redelivery is
    recognised and ignored, and the newest applied event per subscription orders later ones."""

    __tablename__ = "StripeEvent"
    __table_args__ = (
        sa.Index("StripeEvent_subscriptionId_eventCreatedAt_idx", "subscriptionId", "eventCreatedAt"),
        # Only held events (few): the sweep of those held too long reads this, not the whole table.
        sa.Index(
            "StripeEvent_held_processedAt_idx",
            "processedAt",
            postgresql_where=sa.text('"heldFacts" IS NOT NULL'),
            sqlite_where=sa.text('"heldFacts" IS NOT NULL'),
        ),
    )

    id: str = text(primary_key=True)  # Stripe's evt_... id
    type: str = text()
    subscriptionId: str | None = text(default=None)
    eventCreatedAt: datetime = Field(sa_type=Timestamp)
    processedAt: datetime = created_field()
    # Migration 0004: the facts of an event that names no user yet, kept (JSON) until an event of
    # its subscription does and then applied in order; None once applied.
    heldFacts: str | None = text(default=None)
