"""The daily retention purge: for each table that grows with traffic, what goes after how long
(RETENTIONS, one row a table, its days a setting). Deployed as a Cloud Run job that Cloud Scheduler
runs daily (deploy.sh); locally: `python -m shared.retention`.

- StripeEvent, after STRIPE_EVENT_RETENTION_DAYS (90; at least 30): Stripe redelivers an event for at
  most three days and keeps it 30, so an older row can no longer be delivered again. The newest
  applied event of each subscription stays, however old: later events are ordered against it
  (shared/billing/stripe_events.py). Held events unclaimed past HELD_FOR go too.
- GitHubDelivery, after GITHUB_DELIVERY_RETENTION_DAYS (7; at least 4): GitHub offers to redeliver a
  delivery for 3 days, and the row is what makes a redelivery a duplicate.
- GitHubReviewRun, after GITHUB_REVIEW_RUN_RETENTION_DAYS (14; at least 2), counted from when the run
  finished (or started, if it never did). The worker reads a run back only by its task's name, when
  the same task comes again: a queue retry (deploy.sh's queue retries for a day at most) or a
  duplicate, and then a finished run is what stops it posting twice or counting twice against the
  plan. What an incremental review needs, the head last reviewed, is in the summary comment's hidden
  marker on GitHub, not here; a duplicate for a head whose run is gone still finds that marker."""

from __future__ import annotations

import argparse
import logging
import sys
from collections.abc import Callable
from datetime import datetime, timedelta
from typing import NamedTuple

import sqlalchemy as sa
from sqlmodel import SQLModel

from shared import db
from shared.billing.stripe_events import HELD_FOR
from shared.config import get_settings
from shared.models import utcnow
from shared.models.github_delivery import GitHubDelivery
from shared.models.github_review_run import GitHubReviewRun
from shared.models.stripe_event import StripeEvent

log = logging.getLogger("coderevai.retention")

BATCH = 1000  # rows a transaction: short locks, and an interrupted run keeps what it did


class Retention(NamedTuple):
    model: type[SQLModel]
    setting: str  # the Settings field with its days
    # (the table, the cutoff, now) -> the rows past retention
    past: Callable[[sa.Table, datetime, datetime], sa.ColumnElement[bool]]

    def days(self) -> timedelta:
        return timedelta(days=getattr(get_settings(), self.setting))


def _stripe_events(table: sa.Table, cutoff: datetime, now: datetime) -> sa.ColumnElement[bool]:
    newer = table.alias("newer")
    superseded = sa.exists().where(
        newer.c.subscriptionId == table.c.subscriptionId,
        newer.c.heldFacts.is_(None),
        newer.c.eventCreatedAt > table.c.eventCreatedAt,
    )
    past_retention = sa.and_(
        table.c.processedAt < cutoff,
        table.c.heldFacts.is_(None),
        sa.or_(table.c.subscriptionId.is_(None), superseded),
    )
    held_too_long = sa.and_(table.c.heldFacts.is_not(None), table.c.processedAt < now - HELD_FOR)
    return sa.or_(past_retention, held_too_long)


def _deliveries(table: sa.Table, cutoff: datetime, now: datetime) -> sa.ColumnElement[bool]:
    return table.c.receivedAt < cutoff


def _review_runs(table: sa.Table, cutoff: datetime, now: datetime) -> sa.ColumnElement[bool]:
    return sa.func.coalesce(table.c.finishedAt, table.c.startedAt) < cutoff


RETENTIONS = (
    Retention(StripeEvent, "stripe_event_retention_days", _stripe_events),
    Retention(GitHubDelivery, "github_delivery_retention_days", _deliveries),
    Retention(GitHubReviewRun, "github_review_run_retention_days", _review_runs),
)


def purge(now: datetime | None = None, *, batch: int = BATCH) -> dict[str, int]:
    """Delete what is past retention, table by table; the rows deleted by table name."""
    now = now or utcnow()
    deleted = {}
    for retention in RETENTIONS:
        table = retention.model.__table__
        deleted[table.name] = _delete(table, retention.past(table, now - retention.days(), now), batch)
    return deleted


def _delete(table: sa.Table, past: sa.ColumnElement[bool], batch: int) -> int:
    deleted = 0
    while True:
        with db.session() as session:
            ids = sa.select(table.c.id).where(past).limit(batch)
            found = [row[0] for row in session.execute(ids)]
            if found:
                session.execute(sa.delete(table).where(table.c.id.in_(found)))
        deleted += len(found)
        if len(found) < batch:
            return deleted


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m shared.retention", description=__doc__.splitlines()[0])
    parser.parse_args(argv)
    from shared import logs

    logs.configure(get_settings().log_level)
    deleted = purge()
    for retention in RETENTIONS:
        table = retention.model.__table__.name
        log.info(
            "purged %d %s rows older than %d days",
            deleted[table],
            table,
            retention.days().days,
            extra={"fields": {"table": table, "deleted": deleted[table]}},
        )
    return 0


if __name__ == "__main__":
    sys.exit(main())
