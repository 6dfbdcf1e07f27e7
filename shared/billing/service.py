"""Billing: the caller's subscription as stored, Stripe Checkout and the customer portal, and the
one rule that turns a Stripe price and status into a plan (the plans themselves are in shared/plans.py).

Reading the subscription and `plan_from_price` touch only the database; `stripe` is imported only when a Stripe call is made, so a
GET never pays for it."""

from __future__ import annotations

import functools
import logging
from typing import TYPE_CHECKING, Literal

from pydantic import BaseModel, Field
from sqlmodel import Session, select

from shared import db
from shared.config import Settings, get_settings
from shared.errors import ApiError, not_found
from shared.models.user_subscription import UserSubscription
from shared.plans import FREE, PLAN_KEEPING_STATUSES, PRO
from shared.schemas import Body, epoch_seconds

if TYPE_CHECKING:
    import stripe

log = logging.getLogger("coderevai.billing")

STRIPE_TIMEOUT_SECONDS = 10
STRIPE_RETRIES = 2  # idempotency keys make the SDK's retries safe; more would outlast the caller


class SubscriptionOut(BaseModel):
    id: str | None  # Stripe's sub_... id
    status: str
    plan: str
    # Unix seconds, as Stripe sends it and the billing page reads it (`new Date(value * 1000)`); the
    # original server sent milliseconds, which that page renders tens of thousands of years away.
    currentPeriodEnd: int | None
    cancelAtPeriodEnd: bool

    @classmethod
    def from_row(cls, row) -> SubscriptionOut:
        return cls(
            id=row.stripeSubscriptionId,
            status=row.status,
            plan=row.plan,
            currentPeriodEnd=epoch_seconds(row.currentPeriodEnd) if row.currentPeriodEnd else None,
            cancelAtPeriodEnd=row.cancelAtPeriodEnd,
        )


class CheckoutRequest(Body):
    plan: Literal["pro"]
    priceId: str | None = Field(default=None, description="ignored: the server picks the price for the plan")


def plan_from_price(price_id: str | None, status: str | None) -> str:
    """Pro while a subscription to the Pro price is active or trialing; free otherwise."""
    settings = get_settings()
    if status in PLAN_KEEPING_STATUSES and price_id and price_id == settings.stripe_price_id_pro:
        return PRO
    return FREE


def price_for(plan: str) -> str | None:
    """The price the server charges for a plan name; the client never chooses it."""
    return {PRO: get_settings().stripe_price_id_pro}.get(plan)


def find_subscription(session: Session, user_id: str) -> UserSubscription | None:
    return session.exec(select(UserSubscription).where(UserSubscription.userId == user_id)).first()


def subscription_view(session: Session, user_id: str) -> SubscriptionOut | None:
    row = find_subscription(session, user_id)
    return SubscriptionOut.from_row(row) if row else None


def require_billing() -> Settings:
    settings = get_settings()
    if not settings.stripe_secret_key:
        raise billing_disabled()
    return settings


def billing_disabled() -> ApiError:
    return ApiError(503, "BILLING_DISABLED", "Billing is not configured on this server.")


def start_checkout(user_id: str, plan: str) -> str:
    """A Stripe Checkout URL for `plan`. The price comes from settings; userId and plan ride in
    the metadata of both the session and the subscription, so every later event names the user."""
    settings = require_billing()
    price = price_for(plan)
    if not price:
        raise ApiError(400, "INVALID_INPUT", f"plan: unknown plan {plan!r}.")
    row = _stored(user_id)
    if row and row.plan == plan and row.status in PLAN_KEEPING_STATUSES:
        raise ApiError(409, "ALREADY_SUBSCRIBED", "You already have this plan; manage it in the billing portal.")
    metadata = {"userId": user_id, "plan": plan}
    params: dict = {
        "mode": "subscription",
        "line_items": [{"price": price, "quantity": 1}],
        "success_url": settings.billing_success_url,
        "cancel_url": settings.billing_cancel_url,
        "client_reference_id": user_id,
        "metadata": metadata,
        "subscription_data": {"metadata": metadata},
    }
    if row and row.stripeCustomerId:
        params["customer"] = row.stripeCustomerId
    checkout = _call_stripe("create a checkout session", lambda s: s.v1.checkout.sessions.create(params))
    return checkout.url


def open_portal(user_id: str) -> str:
    """A customer-portal URL for the caller's Stripe customer; it returns to the billing page."""
    settings = require_billing()
    row = _stored(user_id)
    if not row or not row.stripeCustomerId:
        raise not_found("You have no Stripe customer yet; subscribe first.")
    params = {"customer": row.stripeCustomerId, "return_url": settings.billing_cancel_url}
    portal = _call_stripe("open the billing portal", lambda s: s.v1.billing_portal.sessions.create(params))
    return portal.url


def _stored(user_id: str) -> UserSubscription | None:
    # A short session of its own: no database connection is held while Stripe answers.
    with db.session() as session:
        return find_subscription(session, user_id)


def _call_stripe(what: str, request):
    import stripe

    try:
        return request(stripe_client())
    except (stripe.APIConnectionError, stripe.RateLimitError) as exc:
        log.warning("stripe unreachable trying to %s: %s", what, type(exc).__name__)
        raise ApiError(503, "STRIPE_UNAVAILABLE", f"Could not {what}: Stripe is unreachable.", retryable=True) from None
    except stripe.StripeError as exc:
        # Only the class and Stripe's request id are logged: messages can echo our parameters.
        log.error("stripe refused to %s: %s (%s)", what, type(exc).__name__, getattr(exc, "request_id", None))
        retryable = (exc.http_status or 500) >= 500
        raise ApiError(
            502, "STRIPE_ERROR", f"Could not {what}: Stripe answered with an error.", retryable=retryable
        ) from None


def stripe_client() -> stripe.StripeClient:
    settings = require_billing()
    return _client(settings.stripe_secret_key, settings.stripe_api_base)


@functools.cache
def _client(api_key: str, api_base: str | None) -> stripe.StripeClient:
    # A client object rather than the module-level globals: its key, base and timeouts are its own.
    import stripe

    return stripe.StripeClient(
        api_key,
        base_addresses={"api": api_base} if api_base else None,
        max_network_retries=STRIPE_RETRIES,
        http_client=stripe.RequestsClient(timeout=STRIPE_TIMEOUT_SECONDS),
    )
