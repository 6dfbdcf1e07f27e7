"""`Authorization: Bearer sk_live_...` -> the key's user. An unknown, revoked or expired key is 401.

Each instance keeps what it verified for API_KEY_CACHE_SECONDS, so a burst of calls costs one
query, and a key revoked anywhere stops working on every instance within that time. lastUsed is
written at most once a minute per key: the cached row remembers when, and the conditional UPDATE
in service.record_use keeps other instances from writing it again within the minute."""

from __future__ import annotations

import logging
import threading
import time
from dataclasses import dataclass
from datetime import datetime

from shared import db
from shared.config import get_settings
from shared.errors import ApiError, unauthorized
from shared.keys.format import KEY_FORMAT
from shared.keys.service import LAST_USED_EVERY, find_active, hash_key, record_use
from shared.models import utcnow
from shared.schemas import iso

log = logging.getLogger("coderevai.keys")

SWEEP_ABOVE = 10_000  # entries; a long-lived instance drops stale ones past this


@dataclass
class _Verified:
    key_id: str
    user_id: str
    expires_at: datetime | None
    last_used: datetime | None
    checked_at: float  # time.monotonic() of the query


_cache: dict[str, _Verified] = {}
_lock = threading.Lock()


def user_of_key(key: str) -> str:
    if not KEY_FORMAT.fullmatch(key):
        raise unauthorized("Invalid API key.")
    key_hash = hash_key(key)
    entry = _cached(key_hash) or _load(key_hash)
    if entry is None:
        raise unauthorized("Invalid API key: unknown or revoked.")
    if entry.expires_at is not None and entry.expires_at <= utcnow():
        # 401 UNAUTHORIZED, as the web app knows it; the reason tells a script why its key stopped.
        raise ApiError(401, "API_KEY_EXPIRED", f"This API key expired at {iso(entry.expires_at)}; create a new one.")
    _note_use(entry)
    return entry.user_id


def _cached(key_hash: str) -> _Verified | None:
    ttl = get_settings().api_key_cache_seconds
    with _lock:
        entry = _cache.get(key_hash)
    if entry is not None and time.monotonic() - entry.checked_at < ttl:
        return entry
    return None


def _load(key_hash: str) -> _Verified | None:
    with db.session() as session:
        row = find_active(session, key_hash)
    now = time.monotonic()
    with _lock:
        if len(_cache) > SWEEP_ABOVE:
            ttl = get_settings().api_key_cache_seconds
            for stale in [h for h, e in _cache.items() if now - e.checked_at >= ttl]:
                del _cache[stale]
        if row is None:
            _cache.pop(key_hash, None)
            return None
        entry = _Verified(row.id, row.userId, row.expiresAt, row.lastUsed, now)
        _cache[key_hash] = entry
    return entry


def _note_use(entry: _Verified) -> None:
    now = utcnow()
    with _lock:
        if entry.last_used is not None and now - entry.last_used < LAST_USED_EVERY:
            return
        entry.last_used = now  # claimed: this instance's other requests skip the write
    try:
        with db.session() as session:
            record_use(session, entry.key_id, now)
    except Exception as exc:  # best effort: a missed lastUsed must not fail the caller's request
        log.warning("lastUsed of key %s not recorded: %s", entry.key_id, getattr(exc, "code", type(exc).__name__))
