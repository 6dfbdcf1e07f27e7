"""Reviews count against the installation's plan: the linked user's (Pro gets more), the free
plan's for an installation no one linked. Counted per installation in the limiter's sliding window
(GITHUB_REVIEW_LIMITS per GITHUB_REVIEW_WINDOW_SECONDS, a day by default), through the same store
and breaker as the API's rate limits."""

from __future__ import annotations

from typing import NamedTuple

from shared.config import get_settings
from shared.plans import FREE


class Allowance(NamedTuple):
    allowed: bool
    limit: int
    remaining: int
    retry_after: int  # seconds until the next review fits, when not allowed
    plan: str


def take_review(installation_id: int, plan: str) -> Allowance:
    from shared.ratelimit import get_limiter

    settings = get_settings()
    limits = settings.github_review_limits
    plan = plan if plan in limits else FREE
    key = f"{settings.rate_limit_prefix}github_review:{installation_id}"
    decision = get_limiter().decide(key, limits[plan], settings.github_review_window_seconds * 1000)
    return Allowance(decision.allowed, decision.limit, decision.remaining, decision.retry_after, plan)
