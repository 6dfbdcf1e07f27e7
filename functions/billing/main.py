"""billing: GET the caller's subscription (with or without Stripe configured); POST /checkout `{plan}`
or /portal for a Stripe URL (503 BILLING_DISABLED without STRIPE_SECRET_KEY)."""

import functions_framework

from shared import db
from shared.billing.service import CheckoutRequest, open_portal, start_checkout, subscription_view
from shared.config import get_settings
from shared.errors import not_found
from shared.http import Call, endpoint

get_settings()  # a missing required variable stops the instance at start, naming it


@functions_framework.http
@endpoint("billing", methods=("GET", "POST"), idempotent=True)
def billing(call: Call):
    # Reading the subscription needs only our table; checkout and portal check for Stripe themselves.
    path = call.request.path.rstrip("/") or "/"
    if call.request.method == "GET":
        with db.session() as session:
            subscription = subscription_view(session, call.user_id)
        return {"subscription": subscription.model_dump() if subscription else None}
    if path == "/checkout":
        return {"url": start_checkout(call.user_id, call.json(CheckoutRequest).plan)}
    if path == "/portal":
        return {"url": open_portal(call.user_id)}
    raise not_found("POST /billing/checkout or /billing/portal.")
