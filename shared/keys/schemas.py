"""The keys' wire bodies, as the front end's key manager sends and reads them."""

from __future__ import annotations

from typing import Annotated

from pydantic import BaseModel, StringConstraints

from shared.models.api_key import ApiKey
from shared.schemas import Body, iso

MAX_NAME = 50


class NewKey(Body):
    name: Annotated[str, StringConstraints(strip_whitespace=True, min_length=1, max_length=MAX_NAME)]


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
