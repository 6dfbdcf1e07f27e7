"""The StripeEvent retention purge (shared/retention.py), as the Cloud Run job runs it: rows past
STRIPE_EVENT_RETENTION_DAYS go, the newest applied event of each subscription stays (later events
are ordered against it), recent rows and recent held events stay, long-held ones go."""

from __future__ import annotations

import os
import subprocess
import sys
import uuid
from datetime import datetime, timedelta

import psycopg
import pytest

from tests.conftest import ROOT

NOW = datetime(2026, 6, 1, 12, 0, 0)


def store_event(
    pg_url: str, *, days_ago: float, sub: str | None, created_days_ago: float | None = None, held: bool = False
) -> str:
    event_id = f"evt_{uuid.uuid4().hex[:20]}"
    processed = NOW - timedelta(days=days_ago)
    created = NOW - timedelta(days=created_days_ago if created_days_ago is not None else days_ago)
    with psycopg.connect(pg_url, autocommit=True) as conn:
        conn.execute(
            'INSERT INTO "StripeEvent" (id, type, "subscriptionId", "eventCreatedAt", "processedAt", "heldFacts")'
            " VALUES (%s, %s, %s, %s, %s, %s)",
            (event_id, "customer.subscription.updated", sub, created, processed, '{"x": 1}' if held else None),
        )
    return event_id


def present(pg_url: str, ids: list[str]) -> set[str]:
    with psycopg.connect(pg_url) as conn:
        rows = conn.execute('SELECT id FROM "StripeEvent" WHERE id = ANY(%s)', (ids,)).fetchall()
    return {row[0] for row in rows}


@pytest.fixture
def events(pg_url):
    sub = f"sub_{uuid.uuid4().hex[:14]}"
    quiet = f"sub_{uuid.uuid4().hex[:14]}"  # a subscription with no event for a year
    ids = {
        "old_of_sub": store_event(pg_url, days_ago=200, sub=sub),
        "older_of_sub": store_event(pg_url, days_ago=300, sub=sub),
        "recent_of_sub": store_event(pg_url, days_ago=2, sub=sub),
        "only_of_quiet": store_event(pg_url, days_ago=365, sub=quiet),
        "old_without_sub": store_event(pg_url, days_ago=120, sub=None),
        "held_recently": store_event(pg_url, days_ago=5, sub=f"sub_{uuid.uuid4().hex[:14]}", held=True),
        "held_too_long": store_event(pg_url, days_ago=40, sub=f"sub_{uuid.uuid4().hex[:14]}", held=True),
        "at_the_edge": store_event(pg_url, days_ago=89, sub=None),
    }
    return ids


def test_purge_keeps_what_ordering_and_deduplication_still_need(db_env, pg_url, events):
    from shared.retention import purge

    assert purge(NOW, batch=2) >= 4  # several small batches
    kept = present(pg_url, list(events.values()))
    assert kept == {events[k] for k in ("recent_of_sub", "only_of_quiet", "held_recently", "at_the_edge")}


def test_the_retention_is_a_setting(db_env, pg_url, events):
    from shared.retention import purge

    db_env(STRIPE_EVENT_RETENTION_DAYS="30")
    purge(NOW)
    assert events["at_the_edge"] not in present(pg_url, list(events.values()))


def test_fewer_days_than_stripe_redelivers_is_refused(settings_env):
    from shared.config import Settings

    settings_env(STRIPE_EVENT_RETENTION_DAYS="7")
    with pytest.raises(ValueError, match="stripe_event_retention_days"):
        Settings()


def test_runs_locally_as_the_job_runs_it(pg_url, events):
    env = {k: v for k, v in os.environ.items() if not k.startswith(("STRIPE_", "APP_ENV"))}
    env.update(DATABASE_URL=pg_url, LOG_LEVEL="INFO")
    result = subprocess.run(
        [sys.executable, "-m", "shared.retention"], cwd=ROOT, env=env, capture_output=True, text=True, timeout=60
    )
    assert result.returncode == 0, result.stderr
    assert "purged" in result.stdout and "older than 90 days" in result.stdout
    kept = present(pg_url, list(events.values()))
    # Run today, later than NOW: every row more than 90 days before today goes.
    assert events["older_of_sub"] not in kept and events["held_too_long"] not in kept
    assert events["only_of_quiet"] in kept  # the newest of its subscription, however old
