"""stripe_webhook: Stripe's events, verified against STRIPE_WEBHOOK_SECRET, applied once and in
order to the UserSubscription rows, with each plan change copied to Clerk. Any non-2xx answer
makes Stripe deliver the event again."""

import functions_framework

from shared.billing.clerk_sync import set_plan
from shared.billing.stripe_events import process, verify
from shared.config import get_settings
from shared.http import Call, endpoint

get_settings()  # a missing required variable stops the instance at start, naming it


@functions_framework.http
@endpoint("stripe_webhook", methods=("POST",), authenticated=False)
def stripe_webhook(call: Call):
    event = verify(call.body(), call.request.headers.get("Stripe-Signature"))
    outcome = process(event, on_plan_change=set_plan)
    return {"received": True, "outcome": outcome}
