from datetime import datetime

import sqlalchemy as sa
from sqlmodel import Field

from shared.models import TableModel, Timestamp, created_field, id_field, text, utcnow


class UserSubscription(TableModel, table=True):
    __tablename__ = "UserSubscription"
    __table_args__ = (
        sa.Index("UserSubscription_userId_key", "userId", unique=True),
        sa.Index("UserSubscription_stripeCustomerId_key", "stripeCustomerId", unique=True),
        sa.Index("UserSubscription_stripeSubscriptionId_key", "stripeSubscriptionId", unique=True),
        sa.Index("UserSubscription_userId_idx", "userId"),
        sa.Index("UserSubscription_stripeCustomerId_idx", "stripeCustomerId"),
    )

    id: str = id_field()
    userId: str = text()
    stripeCustomerId: str = text()
    stripeSubscriptionId: str | None = text(default=None)
    stripePriceId: str | None = text(default=None)
    plan: str = text()
    status: str = text()
    currentPeriodStart: datetime | None = Field(default=None, sa_type=Timestamp)
    currentPeriodEnd: datetime | None = Field(default=None, sa_type=Timestamp)
    cancelAtPeriodEnd: bool = Field(default=False, sa_column_kwargs={"server_default": sa.false()})
    createdAt: datetime = created_field()
    updatedAt: datetime = Field(default_factory=utcnow, sa_type=Timestamp, sa_column_kwargs={"onupdate": utcnow})
