"""billing: GET the caller's subscription (with or without Stripe configured); POST /checkout `{plan}`
or /portal for a Stripe URL (503 BILLING_DISABLED without STRIPE_SECRET_KEY)."""

import functions_framework

from shared import db
from shared.billing.service import CheckoutRequest, open_portal, start_checkout, subscription_view
from shared.config import get_settings
from shared.errors import ApiError, not_found
from shared.http import Call, endpoint

PATHS = {"/": "GET", "/checkout": "POST", "/portal": "POST"}  # the billing function's paths and their one method

get_settings()  # a missing required variable stops the instance at start, naming it


@functions_framework.http
@endpoint("billing", methods=("GET", "POST"), idempotent=True)
def billing(call: Call):
    # Reading the subscription needs only our table; checkout and portal check for Stripe themselves.
    # Each path takes its own method: the load balancer hands us /api/create-checkout-session (as
    # /checkout) whatever the method, and a GET there must not read as the subscription.
    path = call.request.path.rstrip("/") or "/"
    allowed = PATHS.get(path)
    if allowed is None:
        raise not_found("GET /billing, or POST /billing/checkout or /billing/portal.")
    if call.request.method != allowed:
        raise ApiError(
            405,
            "METHOD_NOT_ALLOWED",
            f"{call.request.method} is not allowed here; use {allowed}.",
            headers={"Allow": f"{allowed}, OPTIONS"},
        )
    if path == "/":
        with db.session() as session:
            subscription = subscription_view(session, call.user_id)
        return {"subscription": subscription.model_dump() if subscription else None}
    if path == "/checkout":
        return {"url": start_checkout(call.user_id, call.json(CheckoutRequest).plan)}
    return {"url": open_portal(call.user_id)}
