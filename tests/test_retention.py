"""The retention purge (shared/retention.py), on PostgreSQL and as the Cloud Run job runs it.
StripeEvent: rows past STRIPE_EVENT_RETENTION_DAYS go, the newest applied event of each subscription
stays (later events are ordered against it), recent rows and recent held events stay, long-held ones
go. GitHubDelivery: rows past GITHUB_DELIVERY_RETENTION_DAYS go. GitHubReviewRun: runs finished (or,
never finished, started) past GITHUB_REVIEW_RUN_RETENTION_DAYS go, a run still going stays."""

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

    assert purge(NOW, batch=2)["StripeEvent"] >= 4  # several small batches
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
    assert "purged" in result.stdout and "StripeEvent rows older than 90 days" in result.stdout
    assert "GitHubDelivery rows older than 7 days" in result.stdout
    assert "GitHubReviewRun rows older than 14 days" in result.stdout
    kept = present(pg_url, list(events.values()))
    # Run today, later than NOW: every row more than 90 days before today goes.
    assert events["older_of_sub"] not in kept and events["held_too_long"] not in kept
    assert events["only_of_quiet"] in kept  # the newest of its subscription, however old


# The GitHub App's tables


def store_delivery(pg_url: str, *, days_ago: float) -> str:
    delivery_id = str(uuid.uuid4())
    with psycopg.connect(pg_url, autocommit=True) as conn:
        conn.execute(
            'INSERT INTO "GitHubDelivery" (id, event, action, "installationId", outcome, "receivedAt")'
            " VALUES (%s, 'pull_request', 'opened', 42, 'queued', %s)",
            (delivery_id, NOW - timedelta(days=days_ago)),
        )
    return delivery_id


def store_run(pg_url: str, *, started_days_ago: float, finished_days_ago: float | None) -> str:
    run_id = f"pr-100-7-{uuid.uuid4().hex}-auto"
    finished = None if finished_days_ago is None else NOW - timedelta(days=finished_days_ago)
    with psycopg.connect(pg_url, autocommit=True) as conn:
        conn.execute(
            'INSERT INTO "GitHubReviewRun" (id, "installationId", repository, "pullNumber", "headSha", status,'
            ' "startedAt", "finishedAt") VALUES (%s, 42, %s, 7, %s, %s, %s, %s)',
            (
                run_id,
                "octo/app",
                uuid.uuid4().hex,
                "running" if finished is None else "done",
                NOW - timedelta(days=started_days_ago),
                finished,
            ),
        )
    return run_id


def kept(pg_url: str, table: str, ids: dict[str, str]) -> set[str]:
    with psycopg.connect(pg_url) as conn:
        rows = conn.execute(f'SELECT id FROM "{table}" WHERE id = ANY(%s)', (list(ids.values()),)).fetchall()
    found = {row[0] for row in rows}
    return {name for name, row_id in ids.items() if row_id in found}


def test_deliveries_are_kept_past_githubs_redelivery_window_then_go(db_env, pg_url):
    from shared.retention import purge

    ids = {f"{days}d": store_delivery(pg_url, days_ago=days) for days in (1, 3.5, 6.9, 7.1, 40)}
    purge(NOW, batch=2)
    assert kept(pg_url, "GitHubDelivery", ids) == {"1d", "3.5d", "6.9d"}
    db_env(GITHUB_DELIVERY_RETENTION_DAYS="4")
    purge(NOW)
    assert kept(pg_url, "GitHubDelivery", ids) == {"1d", "3.5d"}


def test_review_runs_go_by_when_they_finished_and_a_running_one_stays(db_env, pg_url):
    from shared.retention import purge

    ids = {
        "finished recently, started long ago": store_run(pg_url, started_days_ago=30, finished_days_ago=10),
        "finished long ago": store_run(pg_url, started_days_ago=20, finished_days_ago=20),
        "running": store_run(pg_url, started_days_ago=0.01, finished_days_ago=None),
        "never finished, long ago": store_run(pg_url, started_days_ago=15, finished_days_ago=None),
    }
    assert purge(NOW)["GitHubReviewRun"] >= 2
    assert kept(pg_url, "GitHubReviewRun", ids) == {"finished recently, started long ago", "running"}
    db_env(GITHUB_REVIEW_RUN_RETENTION_DAYS="3")
    purge(NOW)
    assert kept(pg_url, "GitHubReviewRun", ids) == {"running"}


@pytest.mark.parametrize(
    ("variable", "days"), [("GITHUB_DELIVERY_RETENTION_DAYS", "3"), ("GITHUB_REVIEW_RUN_RETENTION_DAYS", "1")]
)
def test_less_than_github_redelivers_or_the_queue_retries_is_refused(settings_env, variable, days):
    from shared.config import Settings

    settings_env(**{variable: days})
    with pytest.raises(ValueError, match=variable.lower()):
        Settings()
