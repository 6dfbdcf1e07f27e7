"""What the billing tests share: the Pro price and return URLs, Stripe pointed at its fake, a new
payer, and a subscription row written as the webhook would."""

from __future__ import annotations

import uuid
from datetime import datetime

import psycopg
import pytest

PRICE_PRO = "price_1ProMonthly"
SUCCESS_URL = "https://app.example.com/billing/success"
CANCEL_URL = "https://app.example.com/billing"


@pytest.fixture
def billing_env(db_env, fake_stripe):
    db_env(
        STRIPE_SECRET_KEY="sk_test_billing",
        STRIPE_PRICE_ID_PRO=PRICE_PRO,
        STRIPE_API_BASE=fake_stripe.url,
        BILLING_SUCCESS_URL=SUCCESS_URL,
        BILLING_CANCEL_URL=CANCEL_URL,
    )
    return db_env


def new_user() -> str:
    return f"payer_{uuid.uuid4().hex[:10]}"


def as_user(user: str) -> dict[str, str]:
    return {"X-Dev-User": user}


def store_subscription(pg_url: str, user: str, *, plan: str = "pro", status: str = "active", **extra) -> dict:
    row = {
        "id": uuid.uuid4().hex,
        "userId": user,
        "stripeCustomerId": f"cus_{uuid.uuid4().hex[:14]}",
        "stripeSubscriptionId": f"sub_{uuid.uuid4().hex[:14]}",
        "stripePriceId": PRICE_PRO,
        "plan": plan,
        "status": status,
        "currentPeriodEnd": datetime(2026, 1, 31, 12, 0, 0, 250_000),
        "cancelAtPeriodEnd": False,
        "updatedAt": datetime(2026, 1, 1),
        **extra,
    }
    columns = ", ".join(f'"{name}"' for name in row)
    with psycopg.connect(pg_url) as conn:
        conn.execute(
            f'INSERT INTO "UserSubscription" ({columns}) VALUES ({", ".join(["%s"] * len(row))})', list(row.values())
        )
    return row
