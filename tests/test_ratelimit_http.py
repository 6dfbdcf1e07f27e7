"""Rate limits as callers see them, on the history function: the X-RateLimit-* headers, the 429
answer, and plan changes in UserSubscription raising the limit (and a database outage not failing
the lookup)."""

from __future__ import annotations

import logging
import time
import uuid

import pytest
from sqlmodel import select

from shared import db, plans, usage
from shared.models.api_usage import ApiUsage
from shared.models.review_history import ReviewHistory
from shared.models.user_subscription import UserSubscription
from tests.conftest import GATEWAY_TOKEN, REDIS_URL, function_client


def store_env(store: str, gateway) -> dict[str, str]:
    if store == "upstash":
        return {"UPSTASH_REDIS_REST_URL": gateway.url, "UPSTASH_REDIS_REST_TOKEN": GATEWAY_TOKEN}
    if store == "redis":
        return {"REDIS_URL": REDIS_URL}
    return {}  # the in-process development default


def unique_user(name: str) -> str:
    return f"{name}_{uuid.uuid4().hex[:8]}"


@pytest.mark.parametrize("store", ["upstash", "redis", "local"])
def test_history_answers_429_with_retry_after_once_the_limit_is_spent(store, db_env, upstash_gateway, redis_prefix):
    db_env(**store_env(store, upstash_gateway), RATE_LIMIT_PREFIX=redis_prefix, RATE_LIMITS='{"history": {"free": 3}}')
    client, user = function_client("history"), unique_user("limited")
    started = int(time.time())
    answers = [client.get("/", headers={"X-Dev-User": user}) for _ in range(3)]
    assert [a.status_code for a in answers] == [200, 200, 200]
    assert [a.headers["X-RateLimit-Remaining"] for a in answers] == ["2", "1", "0"]
    assert {a.headers["X-RateLimit-Limit"] for a in answers} == {"3"}
    reset = int(answers[0].headers["X-RateLimit-Reset"])
    assert started + 59 <= reset <= started + 62  # unix seconds: the first request leaves the window
    assert "Retry-After" not in answers[0].headers

    denied = client.post("/", json={"type": "code", "feedback": "x"}, headers={"X-Dev-User": user})
    assert denied.status_code == 429
    message = f"Too many requests: 3 per minute on this endpoint. Try again in {denied.headers['Retry-After']} s."
    assert denied.json == {
        "code": "RATE_LIMIT_EXCEEDED",
        "message": message,
        "error": message,
        "retryable": True,
        "reason": "RATE_LIMITED",
    }
    assert 1 <= int(denied.headers["Retry-After"]) <= 60
    assert denied.headers["X-RateLimit-Limit"] == "3"
    assert denied.headers["X-RateLimit-Remaining"] == "0"
    assert denied.headers["X-RateLimit-Reset"] == str(reset)
    assert denied.headers["X-Request-ID"]
    usage.flush()  # rows are written in batches, off the request's path
    with db.session() as session:  # the denied POST wrote nothing, not even a usage row
        assert session.exec(select(ReviewHistory).where(ReviewHistory.userId == user)).first() is None
        statuses = session.exec(select(ApiUsage.statusCode).where(ApiUsage.userId == user)).all()
        assert sorted(statuses) == [200, 200, 200]

    other = client.get("/", headers={"X-Dev-User": unique_user("other")})
    assert other.status_code == 200 and other.headers["X-RateLimit-Remaining"] == "2"


def test_unauthenticated_calls_are_refused_before_they_count(db_env, clerk_keys, redis_prefix):
    db_env(
        CLERK_JWT_KEY=clerk_keys.public_pem,
        REDIS_URL=REDIS_URL,
        RATE_LIMIT_PREFIX=redis_prefix,
        RATE_LIMITS='{"history": {"free": 1}}',
    )
    client = function_client("history")
    assert {client.get("/").status_code for _ in range(3)} == {401}


def subscribe(user: str, plan: str, status: str) -> None:
    with db.session() as session:
        row = session.exec(select(UserSubscription).where(UserSubscription.userId == user)).one_or_none()
        if row is None:
            row = UserSubscription(
                userId=user, stripeCustomerId=f"cus_{uuid.uuid4().hex[:12]}", plan=plan, status=status
            )
        row.plan, row.status = plan, status
        session.add(row)


@pytest.mark.parametrize("store", ["upstash", "redis"])
def test_pro_limits_apply_after_a_plan_change_and_end_with_it(store, db_env, upstash_gateway, redis_prefix):
    db_env(
        **store_env(store, upstash_gateway),
        RATE_LIMIT_PREFIX=redis_prefix,
        RATE_LIMITS='{"history": {"free": 2, "pro": 4}}',
        PLAN_CACHE_SECONDS="0.3",
    )
    client, user = function_client("history"), unique_user("upgrader")

    def get():
        return client.get("/", headers={"X-Dev-User": user})

    assert [get().status_code for _ in range(3)] == [200, 200, 429]

    subscribe(user, "pro", "active")
    time.sleep(0.35)  # the plan cache's time to live
    upgraded = [get() for _ in range(3)]
    assert [a.status_code for a in upgraded] == [200, 200, 429]  # the 2 free requests still count
    assert [a.headers["X-RateLimit-Limit"] for a in upgraded] == ["4", "4", "4"]
    assert upgraded[1].headers["X-RateLimit-Remaining"] == "0"

    subscribe(user, "pro", "past_due")
    time.sleep(0.35)
    lapsed = get()
    assert (lapsed.status_code, lapsed.headers["X-RateLimit-Limit"]) == (429, "2")


def test_trialing_counts_as_the_plan_and_unknown_users_are_free(db_env):
    db_env(PLAN_CACHE_SECONDS="0")
    trial, nobody = unique_user("trial"), unique_user("nobody")
    subscribe(trial, "Pro", "trialing")
    assert plans.plan_of_user(trial) == "pro"
    assert plans.plan_of_user(nobody) == "free"
    subscribe(trial, "pro", "canceled")
    assert plans.plan_of_user(trial) == "free"


def test_a_database_outage_during_the_plan_lookup_treats_the_caller_as_free(settings_env, caplog):
    settings_env(DATABASE_URL="postgresql://postgres@127.0.0.1:1/nowhere", RATE_LIMITS='{"review_code": {"free": 2}}')
    from shared import ratelimit

    user = unique_user("outage")
    with caplog.at_level(logging.WARNING, logger="coderevai.plans"):
        logging.getLogger("coderevai.plans").addHandler(caplog.handler)
        try:
            decisions = [ratelimit.decide("review_code", user) for _ in range(3)]
        finally:
            logging.getLogger("coderevai.plans").removeHandler(caplog.handler)
    assert [d.allowed for d in decisions] == [True, True, False]
    assert {d.limit for d in decisions} == {2}
    failures = {r.getMessage() for r in caplog.records if "plan lookup failed" in r.getMessage()}
    assert failures == {f"plan lookup failed, treating {user} as free: DATABASE_UNAVAILABLE"}
    assert sum("plan lookup failed" in r.getMessage() for r in caplog.records) <= 2  # cached, not per request
