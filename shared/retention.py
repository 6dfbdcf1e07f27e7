"""The StripeEvent retention purge: rows processed more than STRIPE_EVENT_RETENTION_DAYS ago go,
except the newest applied event of each subscription, which later events are ordered against
(shared/billing/stripe_events.py). Held events unclaimed past HELD_FOR go too. Deployed as a Cloud
Run job that Cloud Scheduler runs daily (deploy.sh); locally: `python -m shared.retention`.

Stripe redelivers an event for at most three days and keeps it 30, so a row older than the
retention (30 days at least) can no longer be delivered again: nothing is left to deduplicate."""

from __future__ import annotations

import argparse
import logging
import sys
from datetime import datetime, timedelta

import sqlalchemy as sa
from sqlmodel import col

from shared import db
from shared.billing.stripe_events import HELD_FOR
from shared.config import get_settings
from shared.models import utcnow
from shared.models.stripe_event import StripeEvent

log = logging.getLogger("coderevai.retention")

BATCH = 1000  # rows a transaction: short locks, and an interrupted run keeps what it did


def purge(now: datetime | None = None, *, batch: int = BATCH) -> int:
    """Delete what is past retention; the number of rows deleted."""
    now = now or utcnow()
    cutoff = now - timedelta(days=get_settings().stripe_event_retention_days)
    table = StripeEvent.__table__
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
    deleted = 0
    while True:
        with db.session() as session:
            ids = sa.select(table.c.id).where(sa.or_(past_retention, held_too_long)).limit(batch)
            found = [row[0] for row in session.execute(ids)]
            if found:
                session.execute(sa.delete(StripeEvent).where(col(StripeEvent.id).in_(found)))
        deleted += len(found)
        if len(found) < batch:
            return deleted


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m shared.retention", description=__doc__.splitlines()[0])
    parser.parse_args(argv)
    from shared import logs

    logs.configure(get_settings().log_level)
    deleted = purge()
    log.info(
        "purged %d StripeEvent rows older than %d days",
        deleted,
        get_settings().stripe_event_retention_days,
        extra={"fields": {"deleted": deleted}},
    )
    return 0


if __name__ == "__main__":
    sys.exit(main())
