"""The plans, and which one a user is on for their rate limits: UserSubscription.plan while the
subscription is active or trialing, else "free". Cached per instance for PLAN_CACHE_SECONDS, so a limited request
costs no query; a database outage answers "free" (logged) instead of failing the request."""

from __future__ import annotations

import logging
import threading
import time

from sqlmodel import select

from shared import db
from shared.config import get_settings
from shared.models.user_subscription import UserSubscription

log = logging.getLogger("coderevai.plans")

FREE = "free"
PRO = "pro"
PLAN_KEEPING_STATUSES = frozenset({"active", "trialing"})  # any other status falls back to free
OUTAGE_CACHE_SECONDS = 5.0  # retry the database soon after an outage, but not on every request
SWEEP_ABOVE = 10_000  # entries; a long-lived instance drops expired ones past this

_cache: dict[str, tuple[str, float]] = {}
_lock = threading.Lock()


def plan_of_user(user_id: str) -> str:
    now = time.monotonic()
    with _lock:
        cached = _cache.get(user_id)
    if cached and cached[1] > now:
        return cached[0]
    ttl = get_settings().plan_cache_seconds
    try:
        plan = _read_plan(user_id)
    except Exception as exc:  # the limiter must still decide; free is the safe side
        log.warning("plan lookup failed, treating %s as free: %s", user_id, getattr(exc, "code", type(exc).__name__))
        plan, ttl = FREE, min(ttl, OUTAGE_CACHE_SECONDS)
    with _lock:
        if len(_cache) > SWEEP_ABOVE:
            for stale in [user for user, (_, expires) in _cache.items() if expires <= now]:
                del _cache[stale]
        _cache[user_id] = (plan, now + ttl)
    return plan


def _read_plan(user_id: str) -> str:
    with db.statement() as session:
        row = session.execute(
            select(UserSubscription.plan, UserSubscription.status).where(UserSubscription.userId == user_id)
        ).first()
    if row is None or row.status not in PLAN_KEEPING_STATUSES:
        return FREE
    return row.plan.lower()
