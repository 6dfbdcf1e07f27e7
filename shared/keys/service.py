"""Creating, listing and revoking a user's API keys, and recording their use."""

from __future__ import annotations

import hashlib
from datetime import datetime, timedelta

import sqlalchemy as sa
from sqlmodel import Session, col, func, select

from shared.errors import ApiError, not_found
from shared.keys.format import new_key
from shared.models import utcnow
from shared.models.api_key import ApiKey

MAX_ACTIVE_KEYS = 10
LAST_USED_EVERY = timedelta(minutes=1)


def hash_key(key: str) -> str:
    return hashlib.sha256(key.encode()).hexdigest()


def active(now: datetime):
    """Active and not expired: the keys that sign in, and that count towards the limit."""
    return col(ApiKey.isActive) & (col(ApiKey.expiresAt).is_(None) | (col(ApiKey.expiresAt) > now))


def create_key(session: Session, user_id: str, name: str, expires_at: datetime | None = None) -> tuple[str, str]:
    """A new key for the user: (the key, shown this once; its id). 409 past MAX_ACTIVE_KEYS.
    `expires_at` (naive UTC): sign-in refuses the key from then on."""
    if session.get_bind().dialect.name == "postgresql":
        # Two concurrent creations must not both see 9 keys and make 11.
        session.execute(
            sa.text("SELECT pg_advisory_xact_lock(hashtextextended(:lock, 0))"), {"lock": f"ApiKey:{user_id}"}
        )
    count = session.exec(
        select(func.count()).select_from(ApiKey).where(ApiKey.userId == user_id, active(utcnow()))
    ).one()
    if count >= MAX_ACTIVE_KEYS:
        raise ApiError(
            409,
            "KEY_LIMIT_REACHED",
            f"You have {MAX_ACTIVE_KEYS} active API keys, the most allowed; revoke one to create another.",
        )
    key = new_key()
    row = ApiKey(userId=user_id, keyHash=hash_key(key), name=name, expiresAt=expires_at)
    session.add(row)
    session.flush()
    return key, row.id


def list_keys(session: Session, user_id: str) -> list[ApiKey]:
    """The user's active keys (expired ones included, marked by expiresAt), newest first."""
    query = (
        select(ApiKey)
        .where(ApiKey.userId == user_id, col(ApiKey.isActive))
        .order_by(col(ApiKey.createdAt).desc(), col(ApiKey.id).desc())
    )
    return list(session.exec(query))


def revoke_key(session: Session, user_id: str, key_id: str) -> None:
    """Deactivate one of the user's own keys; another user's (or an unknown or revoked) id is 404,
    so ids reveal nothing. Kept rather than deleted: lastUsed stays for the record."""
    result = session.execute(
        sa.update(ApiKey)
        .where(col(ApiKey.id) == key_id, col(ApiKey.userId) == user_id, col(ApiKey.isActive))
        .values(isActive=False)
    )
    if result.rowcount == 0:
        raise not_found("No such API key.")


def find_active(session: Session, key_hash: str) -> ApiKey | None:
    """The key with this hash unless revoked; the caller checks expiresAt (and says so)."""
    return session.exec(select(ApiKey).where(ApiKey.keyHash == key_hash, col(ApiKey.isActive))).first()


def record_use(session: Session, key_id: str, now: datetime) -> bool:
    """Set lastUsed unless another instance did within the last minute; True when written."""
    result = session.execute(
        sa.update(ApiKey)
        .where(
            col(ApiKey.id) == key_id,
            col(ApiKey.lastUsed).is_(None) | (col(ApiKey.lastUsed) < now - LAST_USED_EVERY),
        )
        .values(lastUsed=now)
    )
    return result.rowcount == 1
