"""Stripe events as Stripe sends them: the objects' real shapes (API 2025-03-31 "basil" by default,
the older shapes on request) and the Stripe-Signature scheme (`t=<unix>,v1=<HMAC-SHA256 of
"t.payload" under the endpoint's secret>`)."""

from __future__ import annotations

import hashlib
import hmac
import itertools
import time
import uuid

BASIL = "2025-03-31.basil"
OLD_API = "2024-06-20"
_serial = itertools.count(1)


def new_id(prefix: str) -> str:
    return f"{prefix}_{uuid.uuid4().hex[:16]}"


def sign(payload: str, secret: str, at: int | None = None) -> str:
    timestamp = int(time.time()) if at is None else at
    digest = hmac.new(secret.encode(), f"{timestamp}.{payload}".encode(), hashlib.sha256).hexdigest()
    return f"t={timestamp},v1={digest}"


def event(event_type: str, obj: dict, created: int, *, previous: dict | None = None, api: str = BASIL) -> dict:
    data: dict = {"object": obj}
    if previous is not None:
        data["previous_attributes"] = previous
    return {
        "id": new_id("evt"),
        "object": "event",
        "api_version": api,
        "created": created,
        "data": data,
        "livemode": False,
        "pending_webhooks": 1,
        "request": {"id": f"req_{next(_serial):08d}", "idempotency_key": str(uuid.uuid4())},
        "type": event_type,
    }


def subscription(
    sub_id: str,
    customer: str,
    price: str,
    status: str,
    period: tuple[int, int],
    *,
    user: str | None,
    cancel_at_period_end: bool = False,
    api: str = BASIL,
) -> dict:
    start, end = period
    item = {
        "id": f"si_{sub_id[4:]}",
        "object": "subscription_item",
        "created": start,
        "metadata": {},
        "price": _price(price),
        "quantity": 1,
        "subscription": sub_id,
    }
    body = {
        "id": sub_id,
        "object": "subscription",
        "application": None,
        "billing_cycle_anchor": start,
        "cancel_at": end if cancel_at_period_end else None,
        "cancel_at_period_end": cancel_at_period_end,
        "canceled_at": None,
        "collection_method": "charge_automatically",
        "created": start,
        "currency": "usd",
        "customer": customer,
        "ended_at": None,
        "items": {
            "object": "list",
            "data": [item],
            "has_more": False,
            "url": f"/v1/subscription_items?subscription={sub_id}",
        },
        "latest_invoice": new_id("in"),
        "livemode": False,
        "metadata": {"userId": user, "plan": "pro"} if user else {},
        "start_date": start,
        "status": status,
        "trial_end": None,
        "trial_start": None,
    }
    if api == BASIL:
        item |= {"current_period_start": start, "current_period_end": end}
    else:
        body |= {"current_period_start": start, "current_period_end": end, "plan": {"id": price, "object": "plan"}}
    if status == "canceled":
        body |= {"canceled_at": start, "ended_at": start}
    return body


def invoice(
    sub_id: str, customer: str, price: str, paid: bool, period: tuple[int, int], *, user: str | None, api: str = BASIL
) -> dict:
    start, end = period
    in_id = new_id("in")
    line = {
        "id": new_id("il"),
        "object": "line_item",
        "amount": 2000,
        "currency": "usd",
        "description": "1 × CodeRevAI Pro (at $20.00 / month)",
        "period": {"start": start, "end": end},
        "quantity": 1,
    }
    body = {
        "id": in_id,
        "object": "invoice",
        "amount_due": 2000,
        "amount_paid": 2000 if paid else 0,
        "amount_remaining": 0 if paid else 2000,
        "attempt_count": 1,
        "billing_reason": "subscription_cycle",
        "collection_method": "charge_automatically",
        "created": start,
        "currency": "usd",
        "customer": customer,
        "lines": {"object": "list", "data": [line], "has_more": False, "url": f"/v1/invoices/{in_id}/lines"},
        "livemode": False,
        "period_start": start,
        "period_end": end,
        "status": "paid" if paid else "open",
    }
    metadata = {"userId": user, "plan": "pro"} if user else {}
    if api == BASIL:
        body["parent"] = {
            "type": "subscription_details",
            "quote_details": None,
            "subscription_details": {"metadata": metadata, "subscription": sub_id},
        }
        line["pricing"] = {"type": "price_details", "price_details": {"price": price, "product": "prod_pro"}}
        line["parent"] = {
            "type": "subscription_item_details",
            "subscription_item_details": {"subscription": sub_id, "subscription_item": f"si_{sub_id[4:]}"},
        }
    else:
        body |= {"subscription": sub_id, "subscription_details": {"metadata": metadata}}
        line |= {"price": _price(price), "subscription": sub_id, "type": "subscription"}
    return body


def checkout_session(sub_id: str, customer: str, *, user: str | None, plan: str = "pro", paid: bool = True) -> dict:
    cs_id = new_id("cs_test")
    return {
        "id": cs_id,
        "object": "checkout.session",
        "amount_subtotal": 2000,
        "amount_total": 2000,
        "cancel_url": "https://app.example.com/billing",
        "client_reference_id": user,
        "currency": "usd",
        "customer": customer,
        "livemode": False,
        "metadata": {"userId": user, "plan": plan} if user else {},
        "mode": "subscription",
        "payment_status": "paid" if paid else "unpaid",
        "status": "complete",
        "subscription": sub_id,
        "success_url": "https://app.example.com/billing/success",
        "url": None,
    }


def _price(price: str) -> dict:
    return {
        "id": price,
        "object": "price",
        "active": True,
        "currency": "usd",
        "product": "prod_pro",
        "recurring": {"interval": "month", "interval_count": 1, "usage_type": "licensed"},
        "type": "recurring",
        "unit_amount": 2000,
    }
