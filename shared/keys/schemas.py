"""The keys' wire bodies, as the front end's key manager sends and reads them."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Annotated

from pydantic import BaseModel, Field, StringConstraints, model_validator

from shared.models import utcnow
from shared.models.api_key import ApiKey
from shared.schemas import Body, iso

MAX_NAME = 50
MAX_LIFETIME_DAYS = 3650  # ten years: a date past that is more likely a typo than a plan


class NewKey(Body):
    """`expiresAt` (an ISO date-time) or `expiresInDays`, at most one: the key stops working then.
    Neither: it works until revoked."""

    name: Annotated[str, StringConstraints(strip_whitespace=True, min_length=1, max_length=MAX_NAME)]
    expiresAt: datetime | None = None
    expiresInDays: int | None = Field(default=None, ge=1, le=MAX_LIFETIME_DAYS)

    @model_validator(mode="after")
    def _one_future_expiry(self) -> NewKey:
        if self.expiresAt is not None and self.expiresInDays is not None:
            raise ValueError("give expiresAt or expiresInDays, not both")
        if self.expiresAt is not None:
            moment = self.expiresAt if self.expiresAt.tzinfo else self.expiresAt.replace(tzinfo=UTC)
            now = datetime.now(UTC)
            if moment <= now:
                raise ValueError("expiresAt must be in the future")
            if moment > now + timedelta(days=MAX_LIFETIME_DAYS):
                raise ValueError(f"expiresAt must be within {MAX_LIFETIME_DAYS} days")
        return self

    def expiry(self) -> datetime | None:
        """When the key stops working, as stored: naive UTC in whole milliseconds (as Prisma keeps it)."""
        if self.expiresInDays is not None:
            return utcnow() + timedelta(days=self.expiresInDays)
        if self.expiresAt is None:
            return None
        moment = self.expiresAt if self.expiresAt.tzinfo else self.expiresAt.replace(tzinfo=UTC)
        moment = moment.astimezone(UTC).replace(tzinfo=None)
        return moment.replace(microsecond=moment.microsecond // 1000 * 1000)


class KeyQuery(Body):
    id: Annotated[str, StringConstraints(min_length=1, max_length=64)]


class KeyView(BaseModel):
    """A key as listed: never the key, never its hash."""

    id: str
    name: str
    createdAt: str
    lastUsed: str | None
    expiresAt: str | None
    isActive: bool

    @classmethod
    def from_row(cls, row: ApiKey) -> KeyView:
        return cls(
            id=row.id,
            name=row.name,
            createdAt=iso(row.createdAt),
            lastUsed=iso(row.lastUsed) if row.lastUsed else None,
            expiresAt=iso(row.expiresAt) if row.expiresAt else None,
            isActive=row.isActive,
        )
