"""The billing function end to end: the caller's subscription, Checkout and the customer portal,
with the real stripe-python client pointed at a fake of Stripe's API (STRIPE_API_BASE)."""

from __future__ import annotations

import pytest

from tests.conftest import function_client
from tests.support.billing import CANCEL_URL, PRICE_PRO, SUCCESS_URL, as_user, new_user, store_subscription


@pytest.fixture
def client(billing_env):
    return function_client("billing")


def test_get_without_a_subscription_is_null(client):
    response = client.get("/", headers=as_user(new_user()))
    assert response.status_code == 200
    assert response.json == {"subscription": None}


def test_get_shows_the_stored_subscription(client, pg_url):
    user = new_user()
    row = store_subscription(pg_url, user, status="past_due", plan="free", cancelAtPeriodEnd=True)
    response = client.get("/", headers=as_user(user))
    assert response.json == {
        "subscription": {
            "id": row["stripeSubscriptionId"],
            "status": "past_due",
            "plan": "free",
            "currentPeriodEnd": 1_769_860_800,  # 2026-01-31T12:00:00Z in unix seconds, as the page reads it
            "cancelAtPeriodEnd": True,
        }
    }


def test_billing_needs_a_signed_in_caller(client):
    response = client.get("/")
    assert response.status_code == 401 and response.json["code"] == "UNAUTHORIZED"


def test_checkout_charges_the_servers_price_whatever_the_client_sends(client, fake_stripe):
    user = new_user()
    response = client.post("/checkout", json={"plan": "pro", "priceId": "price_attacker_cheap"}, headers=as_user(user))
    assert response.status_code == 200, response.json
    assert response.json["url"].startswith("https://checkout.stripe.com/c/pay/cs_test_")
    [sent] = fake_stripe.checkouts
    assert sent["line_items[0][price]"] == PRICE_PRO
    assert "price_attacker_cheap" not in sent.values()
    assert sent["mode"] == "subscription"
    assert (sent["success_url"], sent["cancel_url"]) == (SUCCESS_URL, CANCEL_URL)
    assert (sent["metadata[userId]"], sent["metadata[plan]"]) == (user, "pro")
    assert (sent["subscription_data[metadata][userId]"], sent["subscription_data[metadata][plan]"]) == (user, "pro")
    assert "customer" not in sent  # a first purchase: Stripe creates the customer


def test_checkout_reuses_the_callers_stripe_customer(client, fake_stripe, pg_url):
    user = new_user()
    row = store_subscription(pg_url, user, plan="free", status="canceled")
    assert client.post("/checkout", json={"plan": "pro"}, headers=as_user(user)).status_code == 200
    assert fake_stripe.checkouts[-1]["customer"] == row["stripeCustomerId"]


def test_checkout_when_already_pro_points_to_the_portal(client, fake_stripe, pg_url):
    user = new_user()
    store_subscription(pg_url, user)
    response = client.post("/checkout", json={"plan": "pro"}, headers=as_user(user))
    assert response.status_code == 409 and response.json["reason"] == "ALREADY_SUBSCRIBED"
    assert fake_stripe.checkouts == []


@pytest.mark.parametrize(
    "body",
    [{"plan": "enterprise"}, {}, {"plan": "pro", "customer": "cus_someone_else"}, "not json"],
    ids=["unknown-plan", "no-plan", "extra-field", "not-json"],
)
def test_checkout_refuses_bad_bodies(client, fake_stripe, body):
    kwargs = {"data": body, "content_type": "application/json"} if isinstance(body, str) else {"json": body}
    response = client.post("/checkout", headers=as_user(new_user()), **kwargs)
    assert response.status_code == 400 and response.json["code"] == "INVALID_INPUT"
    assert fake_stripe.checkouts == []


def test_portal_opens_for_the_callers_customer(client, fake_stripe, pg_url):
    user = new_user()
    row = store_subscription(pg_url, user)
    response = client.post("/portal", headers=as_user(user))
    assert response.status_code == 200
    assert response.json["url"].startswith("https://billing.stripe.com/p/session/")
    assert fake_stripe.portals == [{"customer": row["stripeCustomerId"], "return_url": CANCEL_URL}]


def test_portal_without_a_customer_is_404(client, fake_stripe):
    response = client.post("/portal", headers=as_user(new_user()))
    assert response.status_code == 404 and response.json["code"] == "NOT_FOUND"
    assert fake_stripe.portals == []


def test_unknown_path_is_404(client):
    assert client.post("/refund", headers=as_user(new_user())).status_code == 404
    assert client.get("/refund", headers=as_user(new_user())).status_code == 404


@pytest.mark.parametrize(
    "method, path, allowed",
    [("GET", "/checkout", "POST"), ("GET", "/portal", "POST"), ("POST", "/", "GET")],
)
def test_each_path_takes_only_its_own_method(client, fake_stripe, method, path, allowed):
    """GET /api/create-checkout-session reached billing as GET /checkout and answered 200 with the
    subscription, POST /api/subscription a 404 (found by the fuzz run): a 405 naming the one method."""
    response = client.open(path, method=method, json={"plan": "pro"}, headers=as_user(new_user()))
    assert response.status_code == 405, response.json
    assert response.headers["Allow"] == f"{allowed}, OPTIONS"
    assert response.json["reason"] == "METHOD_NOT_ALLOWED" and response.json["code"] == "INVALID_INPUT"
    assert fake_stripe.checkouts == [] and fake_stripe.portals == []


def test_stripe_errors_are_retryable_502(client, fake_stripe):
    fake_stripe.failing_with = 500
    response = client.post("/checkout", json={"plan": "pro"}, headers=as_user(new_user()))
    assert response.status_code == 502
    message = "Could not create a checkout session: Stripe answered with an error."
    assert response.json == {
        "code": "PAYMENT_ERROR",
        "message": message,
        "error": message,
        "retryable": True,
        "reason": "STRIPE_ERROR",
    }


def test_stripe_unreachable_is_503(billing_env):
    billing_env(STRIPE_API_BASE="http://127.0.0.1:9")
    response = function_client("billing").post("/checkout", json={"plan": "pro"}, headers=as_user(new_user()))
    assert response.status_code == 503
    assert response.json["reason"] == "STRIPE_UNAVAILABLE" and response.json["retryable"] is True
    assert "sk_test_billing" not in response.get_data(as_text=True)


def test_without_stripe_the_subscription_is_still_read(db_env, pg_url):
    user = new_user()
    row = store_subscription(pg_url, user)
    response = function_client("billing").get("/", headers=as_user(user))
    assert response.status_code == 200, response.json
    assert response.json["subscription"]["id"] == row["stripeSubscriptionId"]
    assert response.json["subscription"]["currentPeriodEnd"] == 1_769_860_800
    unknown = function_client("billing").get("/", headers=as_user(new_user()))
    assert unknown.status_code == 200 and unknown.json == {"subscription": None}


@pytest.mark.parametrize("method, path", [("POST", "/checkout"), ("POST", "/portal")])
def test_without_stripe_checkout_and_portal_are_disabled(db_env, method, path):
    response = function_client("billing").open(path, method=method, json={"plan": "pro"}, headers=as_user(new_user()))
    assert response.status_code == 503
    assert response.json["reason"] == "BILLING_DISABLED"
