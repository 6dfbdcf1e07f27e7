"""The tables, exactly as the TypeScript app's Prisma schema made them on PostgreSQL: table name =
model name, quoted camelCase columns, TEXT ids, TIMESTAMP(3), TEXT[] modes, Prisma's index names.
New tables (later migrations) follow the same conventions."""

from __future__ import annotations

from datetime import UTC, datetime

import sqlalchemy as sa
from sqlalchemy.dialects import postgresql
from sqlmodel import Field, SQLModel

from shared.ids import cuid

# Prisma names a primary key "<Table>_pkey"; everything else is named explicitly below.
SQLModel.metadata.naming_convention = {"pk": "%(table_name)s_pkey"}

Timestamp = sa.DateTime().with_variant(postgresql.TIMESTAMP(precision=3), "postgresql")
TextArray = sa.JSON().with_variant(postgresql.ARRAY(sa.Text()), "postgresql")
NOW = sa.text("CURRENT_TIMESTAMP")


def utcnow() -> datetime:
    """Prisma stores naive UTC with millisecond precision; so do we."""
    now = datetime.now(UTC).replace(tzinfo=None)
    return now.replace(microsecond=now.microsecond // 1000 * 1000)


def _id() -> str:
    return Field(default_factory=cuid, primary_key=True, sa_type=sa.Text())


def _created(**kw) -> datetime:
    return Field(default_factory=utcnow, sa_type=Timestamp, sa_column_kwargs={"server_default": NOW}, **kw)


class UserSubscription(SQLModel, table=True):
    __tablename__ = "UserSubscription"
    __table_args__ = (
        sa.Index("UserSubscription_userId_key", "userId", unique=True),
        sa.Index("UserSubscription_stripeCustomerId_key", "stripeCustomerId", unique=True),
        sa.Index("UserSubscription_stripeSubscriptionId_key", "stripeSubscriptionId", unique=True),
        sa.Index("UserSubscription_userId_idx", "userId"),
        sa.Index("UserSubscription_stripeCustomerId_idx", "stripeCustomerId"),
    )

    id: str = _id()
    userId: str = Field(sa_type=sa.Text())
    stripeCustomerId: str = Field(sa_type=sa.Text())
    stripeSubscriptionId: str | None = Field(default=None, sa_type=sa.Text())
    stripePriceId: str | None = Field(default=None, sa_type=sa.Text())
    plan: str = Field(sa_type=sa.Text())
    status: str = Field(sa_type=sa.Text())
    currentPeriodStart: datetime | None = Field(default=None, sa_type=Timestamp)
    currentPeriodEnd: datetime | None = Field(default=None, sa_type=Timestamp)
    cancelAtPeriodEnd: bool = Field(default=False, sa_column_kwargs={"server_default": sa.false()})
    createdAt: datetime = _created()
    updatedAt: datetime = Field(default_factory=utcnow, sa_type=Timestamp, sa_column_kwargs={"onupdate": utcnow})


class ReviewHistory(SQLModel, table=True):
    __tablename__ = "ReviewHistory"
    __table_args__ = (
        sa.Index("ReviewHistory_userId_timestamp_idx", "userId", "timestamp"),
        sa.Index("ReviewHistory_userId_idx", "userId"),
    )

    id: str = _id()
    userId: str = Field(sa_type=sa.Text())
    type: str = Field(sa_type=sa.Text())
    language: str | None = Field(default=None, sa_type=sa.Text())
    reviewModes: list[str] | None = Field(default=None, sa_type=TextArray)
    timestamp: datetime = _created()
    codeSnippet: str | None = Field(default=None, sa_type=sa.Text())
    feedback: str = Field(sa_type=sa.Text())
    repoUrl: str | None = Field(default=None, sa_type=sa.Text())
    fileName: str | None = Field(default=None, sa_type=sa.Text())


class ReviewFeedback(SQLModel, table=True):
    __tablename__ = "ReviewFeedback"
    __table_args__ = (
        sa.Index("ReviewFeedback_userId_idx", "userId"),
        sa.Index("ReviewFeedback_reviewId_idx", "reviewId"),
    )

    id: str = _id()
    userId: str = Field(sa_type=sa.Text())
    reviewId: str | None = Field(default=None, sa_type=sa.Text())
    rating: int
    comment: str | None = Field(default=None, sa_type=sa.Text())
    reviewType: str = Field(sa_type=sa.Text())
    timestamp: datetime = _created()


class ApiUsage(SQLModel, table=True):
    __tablename__ = "ApiUsage"
    __table_args__ = (
        sa.Index("ApiUsage_userId_timestamp_idx", "userId", "timestamp"),
        sa.Index("ApiUsage_endpoint_timestamp_idx", "endpoint", "timestamp"),
    )

    id: str = _id()
    userId: str = Field(sa_type=sa.Text())
    endpoint: str = Field(sa_type=sa.Text())
    timestamp: datetime = _created()
    duration: int | None = None
    statusCode: int | None = None
    tokensUsed: int | None = None


# Tables below are ours (not in the Prisma schema); they come from migration 0002.


class StripeEvent(SQLModel, table=True):
    """A Stripe event we applied: written in the same transaction as its effect, so a redelivery is
    recognised and ignored, and the newest applied event per subscription orders later ones."""

    __tablename__ = "StripeEvent"
    __table_args__ = (sa.Index("StripeEvent_subscriptionId_eventCreatedAt_idx", "subscriptionId", "eventCreatedAt"),)

    id: str = Field(primary_key=True, sa_type=sa.Text())  # Stripe's evt_... id
    type: str = Field(sa_type=sa.Text())
    subscriptionId: str | None = Field(default=None, sa_type=sa.Text())
    eventCreatedAt: datetime = Field(sa_type=Timestamp)
    processedAt: datetime = _created()


class ReviewCache(SQLModel, table=True):
    """Finished reviews by request fingerprint, shared by every instance, until expiresAt."""

    __tablename__ = "ReviewCache"
    __table_args__ = (sa.Index("ReviewCache_expiresAt_idx", "expiresAt"),)

    key: str = Field(primary_key=True, sa_type=sa.Text())  # sha256 of the normalised request
    response: str = Field(sa_type=sa.Text())  # the review as JSON
    createdAt: datetime = _created()
    expiresAt: datetime = Field(sa_type=Timestamp)
