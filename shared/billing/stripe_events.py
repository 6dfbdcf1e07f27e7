"""Verified Stripe events -> the caller's UserSubscription row, exactly once and in order.

`HANDLERS` maps each event type we act on to a small function that reads the facts its object
carries (stripe-samples style); `process` applies those facts.

Exactly once. Each event's StripeEvent row is written in the same transaction as its effect, under
a PostgreSQL advisory lock on the subscription, so a redelivery (even a concurrent one, which waits
for the lock) finds the row and does nothing. Clerk is updated inside that transaction, before the
commit: when Clerk fails the whole effect rolls back, we answer non-2xx and Stripe's retry applies
it afresh (the database effect never lands twice, and duplicates never call Clerk). Holding the
locks across the Clerk call also keeps Clerk's updates in the order the database applied them.

Order. We compare event times rather than re-read the subscription from Stripe: the events carry
the whole subscription, so the webhook needs no Stripe call and no API key, and stays testable as
"the same events in any order give the same row". An event strictly older than the newest one
recorded for its subscription is recorded (so it is acknowledged and deduplicated) but not
applied. Stripe's `created` has one-second resolution and a sign-up produces a burst of events in
the same second, so ties are broken by what each type can mean at that moment (`_SAME_SECOND_RANK`):
`created` is a subscription's first event, an `updated` snapshot is the most complete word, and a
`deleted` is final. Ended subscriptions (canceled, incomplete_expired) never change again: Stripe
cannot revive them. Two `updated` events in the same second apply in arrival order.

Held. An event that names no user and matches no row (a subscription made without our `userId`
metadata, whose events can come before the checkout that names its user) is recorded with its
facts (`heldFacts`) and acknowledged, never dropped: Stripe does not redeliver an acknowledged
event. The first event of that subscription that finds its user applies the held ones and itself
in the order above, in one transaction, and Clerk hears the resulting plan once. Held events no one
claims within HELD_FOR are removed. Why holding rather than retrieving the subscription from Stripe
or answering non-2xx: docs/reliability.md."""

from __future__ import annotations

import json
import logging
from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from typing import NamedTuple

import sqlalchemy as sa
from pydantic import BaseModel, ValidationError
from sqlmodel import Session, col, func, select

from shared import db
from shared.billing.service import billing_disabled, plan_from_price, price_for
from shared.config import get_settings
from shared.errors import ApiError, invalid_input
from shared.models import utcnow
from shared.models.stripe_event import StripeEvent
from shared.models.user_subscription import UserSubscription
from shared.plans import FREE, PLAN_KEEPING_STATUSES

log = logging.getLogger("coderevai.stripe_events")

TOLERANCE_SECONDS = 300  # Stripe's default: a signature older than this is a replay
HELD_FOR = timedelta(days=30)  # Stripe keeps events 30 days; a subscription unclaimed by then is not ours
ENDED_STATUSES = frozenset({"canceled", "incomplete_expired"})
_SAME_SECOND_RANK = {
    "customer.subscription.created": 0,
    "checkout.session.completed": 1,
    "invoice.paid": 2,
    "invoice.payment_succeeded": 2,
    "invoice.payment_failed": 2,
    "customer.subscription.updated": 3,
    "customer.subscription.deleted": 4,
}

PlanListener = Callable[[str, str], None]  # (user, new plan): copies the plan to Clerk
ChangeListener = Callable[[str, str, str], None]  # (user, new plan, plan before)


class Facts(NamedTuple):
    """What one event says about one subscription; None means "the event does not say"."""

    subscription_id: str
    customer_id: str | None
    user_id: str | None
    status: str
    price_id: str | None = None
    period_start: datetime | None = None
    period_end: datetime | None = None
    cancel_at_period_end: bool | None = None


# --- the facts each event type carries -------------------------------------------------------


def _subscription_changed(sub: dict) -> Facts | None:
    item = _first(sub.get("items")) or {}
    price = item.get("price")
    return Facts(
        subscription_id=sub["id"],
        customer_id=_id(sub.get("customer")),
        user_id=(sub.get("metadata") or {}).get("userId"),
        status=sub.get("status") or "incomplete",
        price_id=_id(price),
        # API 2025-03-31 (basil) moved the period to the items; older versions have it on top.
        period_start=_time(item.get("current_period_start") or sub.get("current_period_start")),
        period_end=_time(item.get("current_period_end") or sub.get("current_period_end")),
        cancel_at_period_end=bool(sub.get("cancel_at_period_end")),
    )


def _subscription_deleted(sub: dict) -> Facts | None:
    facts = _subscription_changed(sub)
    if facts.status not in ENDED_STATUSES:
        facts = facts._replace(status="canceled")
    return facts


def _checkout_completed(session: dict) -> Facts | None:
    metadata = session.get("metadata") or {}
    price = price_for(metadata.get("plan", ""))
    if session.get("mode") != "subscription" or not session.get("subscription") or not price:
        return None
    paid = session.get("payment_status") in ("paid", "no_payment_required")
    return Facts(
        subscription_id=_id(session["subscription"]),
        customer_id=_id(session.get("customer")),
        user_id=metadata.get("userId"),
        status="active" if paid else "incomplete",
        price_id=price,
    )


def _invoice_paid(invoice: dict) -> Facts | None:
    return _invoice_facts(invoice, "active")


def _invoice_failed(invoice: dict) -> Facts | None:
    return _invoice_facts(invoice, "past_due")


def _invoice_facts(invoice: dict, status: str) -> Facts | None:
    # basil: parent.subscription_details; before: top-level subscription and subscription_details.
    details = (invoice.get("parent") or {}).get("subscription_details") or invoice.get("subscription_details") or {}
    subscription = _id(details.get("subscription") or invoice.get("subscription"))
    if not subscription:
        return None  # a one-off invoice: no plan depends on it
    line = _first(invoice.get("lines")) or {}
    price = ((line.get("pricing") or {}).get("price_details") or {}).get("price") or line.get("price")
    return Facts(
        subscription_id=subscription,
        customer_id=_id(invoice.get("customer")),
        user_id=(details.get("metadata") or {}).get("userId"),
        status=status,
        price_id=_id(price),
    )


HANDLERS: dict[str, Callable[[dict], Facts | None]] = {
    "checkout.session.completed": _checkout_completed,
    "customer.subscription.created": _subscription_changed,
    "customer.subscription.updated": _subscription_changed,
    "customer.subscription.deleted": _subscription_deleted,
    "invoice.paid": _invoice_paid,
    "invoice.payment_succeeded": _invoice_paid,
    "invoice.payment_failed": _invoice_failed,
}


# --- verifying and applying -------------------------------------------------------------------


class EventData(BaseModel):
    object: dict


class VerifiedEvent(BaseModel):
    id: str
    type: str
    created: int
    data: EventData


def verify(payload: bytes, signature: str | None) -> VerifiedEvent:
    """The event, if Stripe signed this exact body within the last 300 s; ApiError 400 otherwise."""
    settings = get_settings()
    if not (settings.stripe_webhook_secret and settings.stripe_price_id_pro):
        raise billing_disabled()
    import stripe

    try:
        stripe.WebhookSignature.verify_header(payload, signature, settings.stripe_webhook_secret, TOLERANCE_SECONDS)
    except stripe.SignatureVerificationError:
        raise ApiError(400, "INVALID_SIGNATURE", "The Stripe-Signature header is missing, wrong or too old.") from None
    except UnicodeDecodeError:
        raise invalid_input("The body is not UTF-8 text.") from None
    # Parsed by pydantic rather than stripe.Webhook.construct_event: its json.loads takes any JSON
    # (`[]`, `42`, 10,000 nested arrays) and fails later as AttributeError or RecursionError; pydantic
    # wants an object and stops at 200 levels of nesting.
    try:
        return VerifiedEvent.model_validate_json(payload)
    except ValidationError:
        raise invalid_input("The body is not a Stripe event.") from None


def process(event: VerifiedEvent, on_plan_change: PlanListener) -> str:
    """Apply one verified event: "applied", "held", "duplicate", "stale" or "ignored"."""
    handler = HANDLERS.get(event.type)
    if handler is None:
        return "ignored"
    try:
        facts = handler(event.data.object)
    except (AttributeError, TypeError, KeyError, ValueError):  # a field of an unexpected type
        raise invalid_input(f"The {event.type} event's object is not shaped as Stripe documents it.") from None
    if facts is None:
        log.info("event %s (%s) names no subscription or no known plan; ignored", event.id, event.type)
        return "ignored"
    changes: list[tuple[str, str]] = []  # (user, plan before) once Clerk was told of a change
    try:
        with db.session() as session:
            return _apply_once(session, event, facts, _noting(on_plan_change, changes))
    except Exception as exc:
        for user_id, plan_before in changes:  # Clerk took the change but the commit did not
            _undo_plan_change(user_id, plan_before, on_plan_change)
        if isinstance(exc, ApiError) and exc.code == "DATABASE_UNAVAILABLE":  # the issue asks for 500
            raise ApiError(500, exc.code, exc.message, retryable=True) from None
        raise


def _noting(on_plan_change: PlanListener, changes: list[tuple[str, str]]) -> ChangeListener:
    def listener(user_id: str, plan: str, plan_before: str) -> None:
        on_plan_change(user_id, plan)
        changes.append((user_id, plan_before))

    return listener


def _undo_plan_change(user_id: str, plan_before: str, on_plan_change: PlanListener) -> None:
    """Put Clerk back to the plan the database still holds: otherwise a newer event could find no
    change to copy, and Stripe's retry of this one would be stale, leaving Clerk wrong for good."""
    try:
        on_plan_change(user_id, plan_before)
    except Exception:
        log.error("clerk plan of %s may differ from the database (%s) until its next change", user_id, plan_before)


def _apply_once(session: Session, event: VerifiedEvent, facts: Facts, on_plan_change: ChangeListener) -> str:
    _lock(session, f"stripe-subscription:{facts.subscription_id}")
    if session.get(StripeEvent, event.id) is not None:
        return "duplicate"
    created = datetime.fromtimestamp(event.created, UTC).replace(tzinfo=None)
    found = _find_row(session, facts)
    user_id = found.userId if found else facts.user_id
    if not user_id or not (found or facts.customer_id):
        _hold(session, event, facts, created)
        return "held"
    _lock(session, f"stripe-user:{user_id}")  # two subscriptions of one user share its row and its Clerk plan
    row = session.exec(select(UserSubscription).where(UserSubscription.userId == user_id)).first()
    plan_before = row.plan if row else FREE
    # This event, and any its subscription's earlier events held for want of a user, in Stripe's order.
    held = session.exec(select(StripeEvent).where(_of(facts.subscription_id), col(StripeEvent.heldFacts).is_not(None)))
    steps = [(record, _load_facts(record.heldFacts)) for record in held]
    steps.append(
        (StripeEvent(id=event.id, type=event.type, subscriptionId=facts.subscription_id, eventCreatedAt=created), facts)
    )
    steps.sort(key=lambda step: (step[0].eventCreatedAt, _SAME_SECOND_RANK[step[0].type]))
    outcome = "stale"
    for record, step_facts in steps:
        reason = _superseded(session, step_facts, record.eventCreatedAt, record.type) or _held_elsewhere(
            row, step_facts
        )
        record.heldFacts = None
        session.add(record)
        if reason:
            log.info("event %s (%s) not applied: %s", record.id, record.type, reason)
        else:
            row = _write(session, row, user_id, step_facts)
            outcome = "applied" if record.id == event.id else outcome
        session.flush()
    if row is not None and row.plan != plan_before:
        on_plan_change(user_id, row.plan, plan_before)  # before the commit: a failure rolls all back
    return outcome


def _hold(session: Session, event: VerifiedEvent, facts: Facts, created: datetime) -> None:
    """Keep an event no one can be found for yet (a subscription made without our userId metadata,
    ahead of the checkout that names its user): acknowledged, and applied when its user is known."""
    log.info(
        "event %s (%s) names no user yet; held until an event of %s does", event.id, event.type, facts.subscription_id
    )
    cutoff = utcnow() - HELD_FOR
    session.execute(
        sa.delete(StripeEvent).where(col(StripeEvent.heldFacts).is_not(None), col(StripeEvent.processedAt) < cutoff)
    )
    session.add(
        StripeEvent(
            id=event.id,
            type=event.type,
            subscriptionId=facts.subscription_id,
            eventCreatedAt=created,
            heldFacts=json.dumps(facts._asdict(), default=datetime.isoformat),
        )
    )
    session.flush()


def _load_facts(text: str) -> Facts:
    fields = json.loads(text)
    for name in ("period_start", "period_end"):
        fields[name] = datetime.fromisoformat(fields[name]) if fields[name] else None
    return Facts(**fields)


def _of(subscription_id: str):
    return StripeEvent.subscriptionId == subscription_id


def _lock(session: Session, key: str) -> None:
    """A transaction-scoped lock; it also covers rows that do not exist yet. SQLite (the local
    default) serialises writers by itself."""
    if session.get_bind().dialect.name == "postgresql":
        session.execute(sa.text("SELECT pg_advisory_xact_lock(hashtextextended(:key, 0))"), {"key": key})


def _find_row(session: Session, facts: Facts) -> UserSubscription | None:
    for column, value in (
        (UserSubscription.stripeSubscriptionId, facts.subscription_id),
        (UserSubscription.userId, facts.user_id),
        (UserSubscription.stripeCustomerId, facts.customer_id),
    ):
        if value:
            row = session.exec(select(UserSubscription).where(column == value)).first()
            if row:
                return row
    return None


def _superseded(session: Session, facts: Facts, created: datetime, event_type: str) -> str | None:
    of_subscription = sa.and_(_of(facts.subscription_id), col(StripeEvent.heldFacts).is_(None))  # applied ones
    newest = session.exec(select(func.max(StripeEvent.eventCreatedAt)).where(of_subscription)).one()
    if newest is None or created > newest:
        return None
    if created < newest:
        return "older than the newest event of its subscription"
    same_second = session.exec(select(StripeEvent.type).where(of_subscription, StripeEvent.eventCreatedAt == newest))
    if _SAME_SECOND_RANK[event_type] < max(_SAME_SECOND_RANK.get(t, 0) for t in same_second):
        return "a later kind of event of the same second was applied"
    return None


def _held_elsewhere(row: UserSubscription | None, facts: Facts) -> str | None:
    if row is None:
        return None
    if row.stripeSubscriptionId == facts.subscription_id:
        return "the subscription has ended" if row.status in ENDED_STATUSES else None
    # Another subscription of the same user: it takes the row over only from one that no longer
    # holds the plan, and an ended one never takes it over.
    if row.stripeSubscriptionId and (row.status in PLAN_KEEPING_STATUSES or facts.status in ENDED_STATUSES):
        return f"the user's row follows subscription {row.stripeSubscriptionId}"
    return None


def _write(session: Session, row: UserSubscription | None, user_id: str, facts: Facts) -> UserSubscription:
    if row is None:
        row = UserSubscription(userId=user_id, stripeCustomerId=facts.customer_id, plan=FREE, status=facts.status)
        session.add(row)
    elif row.stripeSubscriptionId != facts.subscription_id:  # a new subscription: nothing carries over
        row.stripePriceId = row.currentPeriodStart = row.currentPeriodEnd = None
        row.cancelAtPeriodEnd = False
    row.stripeSubscriptionId = facts.subscription_id
    row.stripeCustomerId = facts.customer_id or row.stripeCustomerId
    row.status = facts.status
    row.stripePriceId = facts.price_id or row.stripePriceId
    row.currentPeriodStart = facts.period_start or row.currentPeriodStart
    row.currentPeriodEnd = facts.period_end or row.currentPeriodEnd
    if facts.cancel_at_period_end is not None:
        row.cancelAtPeriodEnd = facts.cancel_at_period_end
    row.plan = plan_from_price(row.stripePriceId, row.status)
    return row


# --- reading Stripe's objects -------------------------------------------------------------------


def _id(value) -> str | None:
    """An id field, whether Stripe sent the id or the expanded object."""
    return value.get("id") if isinstance(value, dict) else value


def _first(listing) -> dict | None:
    data = (listing or {}).get("data") or []
    return data[0] if data else None


def _time(seconds: int | None) -> datetime | None:
    return datetime.fromtimestamp(seconds, UTC).replace(tzinfo=None) if seconds else None
