"""Reviews count against the installation's plan: the linked user's (Pro gets more), the free
plan's for an installation no one linked. Counted per installation in the limiter's sliding window
(GITHUB_REVIEW_LIMITS per GITHUB_REVIEW_WINDOW_SECONDS, a day by default), through the same store
and breaker as the API's rate limits.

A task counts once, however many attempts it takes: the attempt that is allowed marks the task's run
(runs.py, `countedAt`) in the transaction that holds the run's lock, and a retry of the same task (the
queue's, after a failed attempt; the same name, so the same pull request, head and request) finds the
mark and is not counted again. The one gap: an attempt that dies between the limiter's count and that
commit is counted again by its retry."""

from __future__ import annotations

from typing import NamedTuple

from shared.config import get_settings
from shared.github_app import runs
from shared.github_app.tasks import ReviewTask
from shared.models import utcnow
from shared.plans import FREE


class Allowance(NamedTuple):
    allowed: bool
    limit: int
    remaining: int | None  # None: counted by an earlier attempt of the task, not asked again
    retry_after: int  # seconds until the next review fits, when not allowed
    plan: str


def take_review_once(task: ReviewTask, plan: str) -> Allowance:
    """The task's allowance, counted against the plan unless an earlier attempt of the task was."""
    with runs.locked(task) as run:
        if run is not None and run.countedAt is not None:
            return Allowance(True, _limit(plan), None, 0, _plan(plan))
        allowance = take_review(task.installationId, plan)
        if run is not None and allowance.allowed:
            run.countedAt = utcnow()
        return allowance


def take_review(installation_id: int, plan: str) -> Allowance:
    from shared.ratelimit import get_limiter

    settings = get_settings()
    plan = _plan(plan)
    key = f"{settings.rate_limit_prefix}github_review:{installation_id}"
    decision = get_limiter().decide(key, _limit(plan), settings.github_review_window_seconds * 1000)
    return Allowance(decision.allowed, decision.limit, decision.remaining, decision.retry_after, plan)


def _plan(plan: str) -> str:
    return plan if plan in get_settings().github_review_limits else FREE


def _limit(plan: str) -> int:
    return get_settings().github_review_limits[_plan(plan)]
