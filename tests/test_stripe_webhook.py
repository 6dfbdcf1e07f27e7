"""The Stripe webhook end to end: signed events as Stripe sends them, the function as
functions-framework builds it, the real PostgreSQL, and Clerk's Backend API faked at the HTTP level
with the real clerk-backend-api SDK pointed at it."""

from __future__ import annotations

import json
import random
import threading
import time
from datetime import UTC, datetime

import psycopg
import pytest
from psycopg.rows import dict_row

from tests.conftest import function_client
from tests.fakes.clerk_api import FakeClerk
from tests.support.stripe_objects import OLD_API, checkout_session, event, invoice, new_id, sign, subscription

SECRET = "whsec_test_0123456789abcdef"
PRICE_PRO = "price_1ProMonthly"
DAY = 86_400
T0 = 1_760_000_000
P1 = (T0, T0 + 30 * DAY)
P2 = (T0 + 30 * DAY, T0 + 60 * DAY)


@pytest.fixture(scope="module")
def clerk_server():
    fake = FakeClerk()
    with fake.server:  # one per module: stopping a FakeServer waits out its 0.5 s poll
        yield fake


@pytest.fixture
def clerk(clerk_server):
    clerk_server.reset()
    return clerk_server


@pytest.fixture
def webhook(db_env, clerk):
    db_env(
        STRIPE_WEBHOOK_SECRET=SECRET,
        STRIPE_PRICE_ID_PRO=PRICE_PRO,
        CLERK_SECRET_KEY="sk_test_clerk",
        CLERK_API_URL=clerk.url,
    )
    return function_client("stripe_webhook")


def deliver(client, evt: dict, *, secret: str = SECRET, at: int | None = None):
    payload = json.dumps(evt)
    headers = {"Stripe-Signature": sign(payload, secret, at), "Content-Type": "application/json"}
    return client.post("/", data=payload, headers=headers)


def stored(pg_url: str, user: str) -> dict | None:
    with psycopg.connect(pg_url, row_factory=dict_row) as conn:
        return conn.execute(
            'SELECT "stripeSubscriptionId", "stripeCustomerId", "stripePriceId", plan, status, '
            '"currentPeriodStart", "currentPeriodEnd", "cancelAtPeriodEnd" FROM "UserSubscription" WHERE "userId" = %s',
            (user,),
        ).fetchone()


def recorded(pg_url: str, *event_ids: str) -> int:
    with psycopg.connect(pg_url) as conn:
        return conn.execute('SELECT count(*) FROM "StripeEvent" WHERE id = ANY(%s)', (list(event_ids),)).fetchone()[0]


def at(seconds: int) -> datetime:
    return datetime.fromtimestamp(seconds, UTC).replace(tzinfo=None)


class Lifecycle:
    """One user's Pro subscription from sign-up to its end, as the true sequence of its events,
    grouped by the second Stripe stamped them with."""

    def __init__(self, api: str = "2025-03-31.basil") -> None:
        self.user, self.sub, self.customer, self.api = new_id("user"), new_id("sub"), new_id("cus"), api

    def sub_event(self, kind: str, status: str, period, *, cancel: bool = False, when: int, previous=None) -> dict:
        obj = subscription(
            self.sub,
            self.customer,
            PRICE_PRO,
            status,
            period,
            user=self.user,
            cancel_at_period_end=cancel,
            api=self.api,
        )
        return event(f"customer.subscription.{kind}", obj, when, previous=previous, api=self.api)

    def invoice_event(self, kind: str, period, *, when: int) -> dict:
        obj = invoice(
            self.sub, self.customer, PRICE_PRO, kind != "payment_failed", period, user=self.user, api=self.api
        )
        return event(f"invoice.{kind}", obj, when, api=self.api)

    def checkout_event(self, *, when: int, paid: bool = True) -> dict:
        return event(
            "checkout.session.completed", checkout_session(self.sub, self.customer, user=self.user, paid=paid), when
        )

    def stages(self) -> list[list[dict]]:
        renewal, recovered, cancel_asked, ended = T0 + 30 * DAY, T0 + 32 * DAY, T0 + 40 * DAY, T0 + 60 * DAY
        return [
            [  # sign-up: Checkout's whole burst lands in one second
                self.sub_event("created", "incomplete", P1, when=T0),
                self.invoice_event("paid", P1, when=T0),
                self.invoice_event("payment_succeeded", P1, when=T0),
                self.checkout_event(when=T0),
                self.sub_event("updated", "active", P1, when=T0, previous={"status": "incomplete"}),
            ],
            [  # the first renewal fails
                self.invoice_event("payment_failed", P2, when=renewal),
                self.sub_event("updated", "past_due", P2, when=renewal, previous={"status": "active"}),
            ],
            [  # a retry succeeds
                self.invoice_event("paid", P2, when=recovered),
                self.invoice_event("payment_succeeded", P2, when=recovered),
                self.sub_event("updated", "active", P2, when=recovered, previous={"status": "past_due"}),
            ],
            [
                self.sub_event(
                    "updated", "active", P2, cancel=True, when=cancel_asked, previous={"cancel_at_period_end": False}
                )
            ],
            [  # the period ends; a last invoice event in the same second must not revive it
                self.sub_event("deleted", "canceled", P2, cancel=True, when=ended),
                self.invoice_event("paid", P2, when=ended),
            ],
        ]

    def events(self, stages: int) -> list[dict]:
        return [evt for stage in self.stages()[:stages] for evt in stage]

    def expected(self, stages: int) -> dict:
        status, plan, period, cancel = {
            1: ("active", "pro", P1, False),
            2: ("past_due", "free", P2, False),
            3: ("active", "pro", P2, False),
            4: ("active", "pro", P2, True),
            5: ("canceled", "free", P2, True),
        }[stages]
        return {
            "stripeSubscriptionId": self.sub,
            "stripeCustomerId": self.customer,
            "stripePriceId": PRICE_PRO,
            "plan": plan,
            "status": status,
            "currentPeriodStart": at(period[0]),
            "currentPeriodEnd": at(period[1]),
            "cancelAtPeriodEnd": cancel,
        }


# --- every event type -------------------------------------------------------------------------


def test_in_order_lifecycle_moves_row_and_clerk_through_each_stage(webhook, clerk, pg_url):
    life = Lifecycle()
    outcomes, ids = [], []
    for number, stage in enumerate(life.stages(), start=1):
        for evt in stage:
            ids.append(evt["id"])
            response = deliver(webhook, evt)
            assert response.status_code == 200, response.json
            outcomes.append((evt["type"], response.json["outcome"]))
        assert stored(pg_url, life.user) == life.expected(number)
    assert outcomes == [
        ("customer.subscription.created", "applied"),
        ("invoice.paid", "applied"),
        ("invoice.payment_succeeded", "applied"),
        ("checkout.session.completed", "stale"),  # same second as invoice.paid, which says more
        ("customer.subscription.updated", "applied"),
        ("invoice.payment_failed", "applied"),
        ("customer.subscription.updated", "applied"),
        ("invoice.paid", "applied"),
        ("invoice.payment_succeeded", "applied"),
        ("customer.subscription.updated", "applied"),
        ("customer.subscription.updated", "applied"),
        ("customer.subscription.deleted", "applied"),
        ("invoice.paid", "stale"),  # the subscription has ended
    ]
    plan = [public["plan"] for user, public in clerk.updates if user == life.user]
    assert plan == ["pro", "free", "pro", "free"]
    assert recorded(pg_url, *ids) == 13


def test_checkout_completed_alone_makes_the_user_pro(webhook, clerk, pg_url):
    life = Lifecycle()
    response = deliver(webhook, life.checkout_event(when=T0))
    assert response.status_code == 200 and response.json == {"received": True, "outcome": "applied"}
    row = stored(pg_url, life.user)
    assert row["plan"] == "pro" and row["status"] == "active"
    assert row["stripeCustomerId"] == life.customer and row["stripeSubscriptionId"] == life.sub
    assert row["stripePriceId"] == PRICE_PRO
    assert clerk.updates == [(life.user, {"plan": "pro"})]


def test_checkout_with_payment_pending_stays_free(webhook, clerk, pg_url):
    life = Lifecycle()
    assert deliver(webhook, life.checkout_event(when=T0, paid=False)).json["outcome"] == "applied"
    row = stored(pg_url, life.user)
    assert (row["status"], row["plan"]) == ("incomplete", "free")
    assert clerk.updates == []


@pytest.mark.parametrize("status", ["active", "trialing"])
def test_created_active_or_trialing_keeps_the_pro_plan(webhook, clerk, pg_url, status):
    life = Lifecycle()
    deliver(webhook, life.sub_event("created", status, P1, when=T0))
    assert stored(pg_url, life.user)["plan"] == "pro"
    assert clerk.plan_of(life.user) == "pro"


@pytest.mark.parametrize("status", ["incomplete", "past_due", "unpaid", "paused", "canceled", "incomplete_expired"])
def test_other_statuses_fall_to_free(webhook, clerk, pg_url, status):
    life = Lifecycle()
    deliver(webhook, life.sub_event("created", "active", P1, when=T0))
    deliver(webhook, life.sub_event("updated", status, P1, when=T0 + 60))
    row = stored(pg_url, life.user)
    assert (row["status"], row["plan"]) == (status, "free")
    assert clerk.plan_of(life.user) == "free"


def test_an_unknown_price_is_not_pro(webhook, clerk, pg_url):
    user, sub, customer = new_id("user"), new_id("sub"), new_id("cus")
    obj = subscription(sub, customer, "price_someone_elses", "active", P1, user=user)
    assert deliver(webhook, event("customer.subscription.created", obj, T0)).json["outcome"] == "applied"
    assert stored(pg_url, user)["plan"] == "free"
    assert clerk.updates == []


def test_payment_failed_then_paid_moves_between_past_due_and_active(webhook, clerk, pg_url):
    life = Lifecycle()
    deliver(webhook, life.sub_event("created", "active", P1, when=T0))
    deliver(webhook, life.invoice_event("payment_failed", P2, when=T0 + 30 * DAY))
    assert (stored(pg_url, life.user)["status"], stored(pg_url, life.user)["plan"]) == ("past_due", "free")
    deliver(webhook, life.invoice_event("payment_succeeded", P2, when=T0 + 31 * DAY))
    assert (stored(pg_url, life.user)["status"], stored(pg_url, life.user)["plan"]) == ("active", "pro")
    assert [public["plan"] for _, public in clerk.updates] == ["pro", "free", "pro"]


def test_pre_basil_shapes_read_periods_and_subscription_from_the_old_fields(webhook, clerk, pg_url):
    life = Lifecycle(api=OLD_API)
    deliver(webhook, life.sub_event("created", "active", P1, when=T0))
    row = stored(pg_url, life.user)
    assert (row["currentPeriodStart"], row["currentPeriodEnd"]) == (at(P1[0]), at(P1[1]))
    assert deliver(webhook, life.invoice_event("payment_failed", P2, when=T0 + DAY)).json["outcome"] == "applied"
    assert stored(pg_url, life.user)["status"] == "past_due"


def test_cancel_at_period_end_keeps_pro_without_touching_clerk(webhook, clerk, pg_url):
    life = Lifecycle()
    deliver(webhook, life.sub_event("created", "active", P1, when=T0))
    deliver(webhook, life.sub_event("updated", "active", P1, cancel=True, when=T0 + DAY))
    row = stored(pg_url, life.user)
    assert row["cancelAtPeriodEnd"] is True and row["plan"] == "pro"
    assert clerk.updates == [(life.user, {"plan": "pro"})]


def test_other_event_types_are_acknowledged_and_ignored(webhook, clerk, pg_url):
    evt = event("customer.created", {"id": new_id("cus"), "object": "customer", "metadata": {}}, T0)
    response = deliver(webhook, evt)
    assert response.status_code == 200 and response.json["outcome"] == "ignored"
    assert recorded(pg_url, evt["id"]) == 0


@pytest.mark.parametrize(
    "evt",
    [
        event("checkout.session.completed", checkout_session(new_id("sub"), new_id("cus"), user=None), T0),
        event("invoice.paid", {**invoice("sub_x", "cus_x", PRICE_PRO, True, P1, user=None), "parent": None}, T0),
    ],
    ids=["checkout-not-ours", "one-off-invoice"],
)
def test_events_that_are_not_ours_are_acknowledged_and_nothing_is_written(webhook, clerk, pg_url, evt):
    response = deliver(webhook, evt)
    assert response.status_code == 200 and response.json["outcome"] == "ignored"
    assert recorded(pg_url, evt["id"]) == 0
    assert clerk.updates == []


@pytest.mark.parametrize(
    "evt",
    [
        event(
            "customer.subscription.created",
            subscription(new_id("sub"), new_id("cus"), PRICE_PRO, "active", P1, user=None),
            T0,
        ),
        event("invoice.paid", invoice(new_id("sub"), new_id("cus"), PRICE_PRO, True, P1, user=None), T0),
    ],
    ids=["subscription", "invoice"],
)
def test_an_event_naming_no_user_yet_is_held_not_dropped(webhook, clerk, pg_url, evt):
    response = deliver(webhook, evt)
    assert response.status_code == 200 and response.json["outcome"] == "held"
    assert recorded(pg_url, evt["id"]) == 1
    assert deliver(webhook, evt).json["outcome"] == "duplicate"
    with psycopg.connect(pg_url) as conn:
        assert (
            conn.execute(
                'SELECT count(*) FROM "UserSubscription" WHERE "stripeSubscriptionId" = %s',
                (
                    evt["data"]["object"].get("id")
                    if evt["type"].startswith("customer")
                    else evt["data"]["object"]["parent"]["subscription_details"]["subscription"],
                ),
            ).fetchone()[0]
            == 0
        )
    assert clerk.updates == []


def test_events_held_longer_than_30_days_are_removed(webhook, clerk, pg_url):
    old, recent = Lifecycle(), Lifecycle()
    stale_hold = five_events(old, metadata=False)[1]
    assert deliver(webhook, stale_hold).json["outcome"] == "held"
    with psycopg.connect(pg_url) as conn:
        conn.execute(
            """UPDATE "StripeEvent" SET "processedAt" = now() - interval '31 days' WHERE id = %s""", (stale_hold["id"],)
        )
    assert deliver(webhook, five_events(recent, metadata=False)[1]).json["outcome"] == "held"
    assert recorded(pg_url, stale_hold["id"]) == 0


def five_events(life: Lifecycle, *, metadata: bool) -> list[dict]:
    """checkout, created, invoice paid, updated, deleted: the subscription's own events carry our
    userId only when `metadata` (a Dashboard or payment-link subscription does not)."""
    user = life.user if metadata else None

    def sub(kind: str, status: str, when: int) -> dict:
        obj = subscription(life.sub, life.customer, PRICE_PRO, status, P1, user=user)
        return event(f"customer.subscription.{kind}", obj, when)

    paid = invoice(life.sub, life.customer, PRICE_PRO, True, P1, user=user)
    return [
        life.checkout_event(when=T0),
        sub("created", "incomplete", T0),
        event("invoice.paid", paid, T0),
        sub("updated", "active", T0),
        sub("deleted", "canceled", T0 + 30 * DAY),
    ]


@pytest.mark.parametrize("metadata", [True, False], ids=["metadata", "no-metadata"])
@pytest.mark.parametrize("seed", [1, 2, 3, 4, 5])
def test_five_events_three_times_in_any_order_end_canceled_and_free(webhook, clerk, pg_url, seed, metadata):
    """Stripe never redelivers an event it got a 2xx for: each answer must be final. A non-2xx
    answer is redelivered later (here: at the end of the queue)."""
    life = Lifecycle()
    queue = five_events(life, metadata=metadata) * 3
    random.Random(seed).shuffle(queue)
    outcomes: dict[str, set[str]] = {}
    for _ in range(200):
        if not queue:
            break
        evt = queue.pop(0)
        response = deliver(webhook, evt)
        if response.status_code // 100 != 2:
            queue.append(evt)
            continue
        outcomes.setdefault(evt["id"], set()).add(response.json["outcome"])
    assert not queue
    row = stored(pg_url, life.user)
    assert (row["status"], row["plan"], row["stripeSubscriptionId"]) == ("canceled", "free", life.sub)
    plans = [public["plan"] for user, public in clerk.updates if user == life.user]
    assert plans.count("free") <= 1 and (clerk.plan_of(life.user) or "free") == "free"
    assert all(a != b for a, b in zip(plans, plans[1:], strict=False))  # never the same plan twice
    assert all(seen - {"duplicate"} <= {"applied", "held", "stale"} for seen in outcomes.values())
    with psycopg.connect(pg_url) as conn:
        held = conn.execute(
            'SELECT count(*) FROM "StripeEvent" WHERE "subscriptionId" = %s AND "heldFacts" IS NOT NULL', (life.sub,)
        ).fetchone()[0]
    assert held == 0  # every held event was applied once checkout named the user


def test_held_events_are_applied_in_order_when_checkout_names_the_user(webhook, clerk, pg_url):
    life = Lifecycle()
    checkout, created, paid, updated, deleted = five_events(life, metadata=False)
    for evt in (deleted, updated, paid, created):
        assert deliver(webhook, evt).json["outcome"] == "held"
    assert stored(pg_url, life.user) is None
    assert deliver(webhook, checkout).json["outcome"] == "applied"  # in its place, before those it released
    row = stored(pg_url, life.user)
    assert (row["status"], row["plan"]) == ("canceled", "free")
    assert clerk.updates == []  # the user was never pro, so Clerk's default plan stands


def test_events_without_metadata_follow_the_row_their_subscription_already_has(webhook, clerk, pg_url):
    life = Lifecycle()
    deliver(webhook, life.checkout_event(when=T0))
    obj = subscription(life.sub, life.customer, PRICE_PRO, "past_due", P2, user=None)
    assert deliver(webhook, event("customer.subscription.updated", obj, T0 + DAY)).json["outcome"] == "applied"
    assert stored(pg_url, life.user)["status"] == "past_due"


# --- order and duplicates -----------------------------------------------------------------------


@pytest.mark.parametrize("stages", [1, 2, 3, 4, 5])
@pytest.mark.parametrize("seed", [7, 8])
def test_three_deliveries_in_any_order_end_as_in_order(webhook, clerk, pg_url, stages, seed):
    in_order = Lifecycle()
    for evt in in_order.events(stages):
        assert deliver(webhook, evt).status_code == 200

    shuffled = Lifecycle()
    deliveries = shuffled.events(stages) * 3
    random.Random(seed * 100 + stages).shuffle(deliveries)
    seen: set[str] = set()
    plan = "free"
    for evt in deliveries:
        updates_before = len(clerk.updates)
        response = deliver(webhook, evt)
        assert response.status_code == 200, response.json
        if evt["id"] in seen:
            assert response.json["outcome"] == "duplicate"
        seen.add(evt["id"])
        now = (stored(pg_url, shuffled.user) or {"plan": "free"})["plan"]
        # exactly one Clerk update per real plan change, none otherwise
        assert clerk.updates[updates_before:] == ([(shuffled.user, {"plan": now})] if now != plan else [])
        plan = now

    assert stored(pg_url, shuffled.user) == shuffled.expected(stages)
    assert stored(pg_url, in_order.user) == in_order.expected(stages)
    assert (clerk.plan_of(shuffled.user) or "free") == shuffled.expected(stages)["plan"]
    assert recorded(pg_url, *seen) == len(seen)


def test_a_same_second_burst_in_reverse_keeps_the_most_telling_event(webhook, clerk, pg_url):
    life = Lifecycle()
    burst = life.stages()[0]  # created, invoice.paid, invoice.payment_succeeded, checkout, updated
    outcomes = [deliver(webhook, evt).json["outcome"] for evt in reversed(burst)]
    assert outcomes == ["applied", "stale", "stale", "stale", "stale"]
    assert stored(pg_url, life.user) == life.expected(1)
    assert clerk.updates == [(life.user, {"plan": "pro"})]


def test_an_older_event_is_recorded_but_never_overwrites_a_newer_one(webhook, clerk, pg_url):
    life = Lifecycle()
    newer = life.sub_event("updated", "past_due", P2, when=T0 + 30 * DAY)
    older = life.sub_event("updated", "active", P1, when=T0 + DAY)
    assert deliver(webhook, newer).json["outcome"] == "applied"
    assert deliver(webhook, older).json["outcome"] == "stale"
    assert stored(pg_url, life.user)["status"] == "past_due"
    assert recorded(pg_url, older["id"]) == 1
    assert deliver(webhook, older).json["outcome"] == "duplicate"


def test_an_old_subscriptions_late_events_do_not_displace_the_current_one(webhook, clerk, pg_url):
    old = Lifecycle()
    deliver(webhook, old.sub_event("created", "active", P1, when=T0))
    deliver(webhook, old.sub_event("deleted", "canceled", P1, when=T0 + 10 * DAY))
    new = Lifecycle()
    new.user = old.user
    deliver(webhook, new.checkout_event(when=T0 + 20 * DAY))
    assert stored(pg_url, old.user)["stripeSubscriptionId"] == new.sub
    late = old.sub_event("updated", "past_due", P1, when=T0 + 9 * DAY)
    assert deliver(webhook, late).json["outcome"] == "stale"
    late_end = old.sub_event("deleted", "canceled", P1, when=T0 + 25 * DAY)
    assert deliver(webhook, late_end).json["outcome"] == "stale"
    row = stored(pg_url, old.user)
    assert (row["stripeSubscriptionId"], row["plan"]) == (new.sub, "pro")


def test_concurrent_deliveries_of_one_event_apply_it_once(webhook, clerk, pg_url):
    life = Lifecycle()
    evt = life.checkout_event(when=T0)
    clerk.delay_seconds = 0.3  # hold the first delivery inside its transaction while the others arrive
    start = threading.Barrier(4)
    outcomes: list[str] = []

    def send():
        client = function_client("stripe_webhook")
        start.wait()
        response = deliver(client, evt)
        outcomes.append(f"{response.status_code} {response.json['outcome']}")

    threads = [threading.Thread(target=send) for _ in range(4)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert sorted(outcomes) == ["200 applied", "200 duplicate", "200 duplicate", "200 duplicate"]
    assert clerk.updates == [(life.user, {"plan": "pro"})]
    assert recorded(pg_url, evt["id"]) == 1


def test_concurrent_first_events_of_a_new_subscription_create_one_row(webhook, clerk, pg_url):
    life = Lifecycle()
    burst = life.stages()[0]
    clerk.delay_seconds = 0.2
    start = threading.Barrier(len(burst))
    statuses: list[int] = []

    def send(evt):
        client = function_client("stripe_webhook")
        start.wait()
        statuses.append(deliver(client, evt).status_code)

    threads = [threading.Thread(target=send, args=(evt,)) for evt in burst]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert statuses == [200] * len(burst)
    assert stored(pg_url, life.user) == life.expected(1)
    assert clerk.updates == [(life.user, {"plan": "pro"})]


# --- signatures -------------------------------------------------------------------------------


def _rejected(response, pg_url, evt, clerk):
    assert response.status_code == 400
    assert response.json["code"] == "INVALID_INPUT" and response.json["retryable"] is False
    assert recorded(pg_url, evt["id"]) == 0
    assert clerk.updates == []


def test_a_signature_with_another_secret_is_refused(webhook, clerk, pg_url):
    evt = Lifecycle().checkout_event(when=T0)
    _rejected(deliver(webhook, evt, secret="whsec_not_ours"), pg_url, evt, clerk)


def test_a_missing_signature_is_refused(webhook, clerk, pg_url):
    evt = Lifecycle().checkout_event(when=T0)
    _rejected(webhook.post("/", data=json.dumps(evt), content_type="application/json"), pg_url, evt, clerk)


def test_a_stale_signature_is_refused(webhook, clerk, pg_url):
    evt = Lifecycle().checkout_event(when=T0)
    _rejected(deliver(webhook, evt, at=int(time.time()) - 301), pg_url, evt, clerk)
    assert deliver(webhook, evt, at=int(time.time()) - 240).status_code == 200  # inside the tolerance


def test_a_tampered_body_is_refused(webhook, clerk, pg_url):
    evt = Lifecycle().checkout_event(when=T0)
    payload = json.dumps(evt)
    forged = payload.replace('"paid"', '"no_payment_required"')
    response = webhook.post("/", data=forged, headers={"Stripe-Signature": sign(payload, SECRET)})
    _rejected(response, pg_url, evt, clerk)


def test_a_signed_body_that_is_not_an_event_is_refused(webhook, clerk, pg_url):
    for payload in ("not json", json.dumps({"id": "evt_1", "type": "invoice.paid"})):
        response = webhook.post("/", data=payload, headers={"Stripe-Signature": sign(payload, SECRET)})
        assert response.status_code == 400 and response.json["code"] == "INVALID_INPUT"


def table_sizes(pg_url: str) -> tuple[int, int]:
    with psycopg.connect(pg_url) as conn:
        return tuple(conn.execute(f'SELECT count(*) FROM "{table}"').fetchone()[0] for table in TABLES)


TABLES = ("StripeEvent", "UserSubscription")


@pytest.mark.parametrize(
    "payload",
    [
        "[]",
        "42",
        "null",
        '"evt"',
        "[" * 10_000 + "]" * 10_000,
        f'{{"id": "evt_deep", "type": "invoice.paid", "created": {T0}, "data": {{"object": {{"lines": '
        + "[" * 10_000
        + "]" * 10_000
        + "}}}",
        json.dumps({"id": "evt_list", "type": "invoice.paid", "created": T0, "data": {"object": []}}),
        json.dumps(
            event("customer.subscription.updated", {"id": "sub_x", "metadata": [], "items": "x", "status": 1}, T0)
        ),
        json.dumps(event("invoice.paid", {"id": "in_x", "parent": {"subscription_details": 7}}, T0)),
    ],
    ids=["list", "number", "null", "string", "deep-list", "deep-object", "object-list", "bad-fields", "bad-parent"],
)
def test_a_signed_body_that_is_not_an_event_object_is_400_and_writes_nothing(webhook, clerk, pg_url, payload):
    before = table_sizes(pg_url)
    response = webhook.post("/", data=payload, headers={"Stripe-Signature": sign(payload, SECRET)})
    assert response.status_code == 400, response.json
    assert response.json["code"] == "INVALID_INPUT"
    assert table_sizes(pg_url) == before and clerk.updates == []


def test_without_a_webhook_secret_the_webhook_is_disabled(db_env, clerk):
    db_env(STRIPE_PRICE_ID_PRO=PRICE_PRO)
    evt = Lifecycle().checkout_event(when=T0)
    response = deliver(function_client("stripe_webhook"), evt)
    assert response.status_code == 503 and response.json["reason"] == "BILLING_DISABLED"


@pytest.mark.parametrize("missing", ["STRIPE_PRICE_ID_PRO", "CLERK_SECRET_KEY"])
def test_in_production_the_webhook_will_not_start_without_what_it_needs(settings_env, pg_url, clerk_keys, missing):
    production = {
        "APP_ENV": "production",
        "DATABASE_URL": pg_url,
        "REDIS_URL": "redis://127.0.0.1:6379/0",
        "CLERK_JWT_KEY": clerk_keys.public_pem,
        "STRIPE_WEBHOOK_SECRET": SECRET,
        "STRIPE_PRICE_ID_PRO": PRICE_PRO,
        "CLERK_SECRET_KEY": "sk_test_clerk",
    }
    settings_env(**{**production, missing: None})
    with pytest.raises(Exception, match=missing):
        function_client("stripe_webhook")


# --- outages ----------------------------------------------------------------------------------


def test_database_down_answers_500_so_stripe_retries(settings_env, clerk):
    settings_env(
        DATABASE_URL="postgresql://postgres@127.0.0.1:9/nowhere",
        STRIPE_WEBHOOK_SECRET=SECRET,
        STRIPE_PRICE_ID_PRO=PRICE_PRO,
        CLERK_SECRET_KEY="sk_test_clerk",
        CLERK_API_URL=clerk.url,
    )
    response = deliver(function_client("stripe_webhook"), Lifecycle().checkout_event(when=T0))
    assert response.status_code == 500
    assert response.json["reason"] == "DATABASE_UNAVAILABLE" and response.json["retryable"] is True
    assert clerk.updates == []


def test_clerk_down_answers_non_2xx_and_the_retry_applies_once(webhook, clerk, pg_url):
    life = Lifecycle()
    evt = life.checkout_event(when=T0)
    clerk.failing_with = 503
    response = deliver(webhook, evt)
    assert response.status_code == 502
    assert response.json["reason"] == "CLERK_UNAVAILABLE" and response.json["retryable"] is True
    assert stored(pg_url, life.user) is None and recorded(pg_url, evt["id"]) == 0  # rolled back
    assert len([seen for seen in clerk.server.requests if seen.method == "PATCH"]) > 1  # the SDK retried

    clerk.failing_with = None
    assert deliver(webhook, evt).json["outcome"] == "applied"  # Stripe's retry
    assert deliver(webhook, evt).json["outcome"] == "duplicate"
    assert stored(pg_url, life.user)["plan"] == "pro"
    assert clerk.updates == [(life.user, {"plan": "pro"})]


def test_a_user_deleted_in_clerk_does_not_block_their_events(webhook, clerk, pg_url):
    """A 404 from Clerk is permanent: the database change is kept and Stripe is not asked to retry."""
    life = Lifecycle()
    evt = life.checkout_event(when=T0)
    clerk.failing_with = 404
    response = deliver(webhook, evt)
    assert response.status_code == 200 and response.json["outcome"] == "applied"
    assert stored(pg_url, life.user)["plan"] == "pro"
    assert recorded(pg_url, evt["id"]) == 1
    assert len([seen for seen in clerk.server.requests if seen.method == "PATCH"]) == 1  # not retried


def test_a_commit_that_fails_after_clerk_was_updated_puts_clerk_back(webhook, clerk, pg_url):
    """Clerk is told before the commit; if the commit then fails, Clerk must not keep a plan the
    database does not have (a newer event would find no change to copy, the retry would be stale)."""
    life = Lifecycle()
    deliver(webhook, life.checkout_event(when=T0))
    failing = life.sub_event("updated", "past_due", P2, when=T0 + 30 * DAY, previous={"status": "active"})
    # A deferred constraint trigger: PostgreSQL itself refuses this event's row at COMMIT time.
    with psycopg.connect(pg_url, autocommit=True) as conn:
        conn.execute(
            f"""CREATE FUNCTION fail_commit() RETURNS trigger LANGUAGE plpgsql AS $$
                BEGIN IF NEW.id = '{failing["id"]}' THEN RAISE EXCEPTION 'commit refused'; END IF; RETURN NULL; END $$;
                CREATE CONSTRAINT TRIGGER fail_commit AFTER INSERT ON "StripeEvent"
                DEFERRABLE INITIALLY DEFERRED FOR EACH ROW EXECUTE FUNCTION fail_commit();"""
        )
    try:
        response = deliver(webhook, failing)
    finally:
        with psycopg.connect(pg_url, autocommit=True) as conn:
            conn.execute('DROP TRIGGER fail_commit ON "StripeEvent"; DROP FUNCTION fail_commit();')
    assert response.status_code == 500
    assert stored(pg_url, life.user)["plan"] == "pro"  # the database kept its state
    assert [public["plan"] for _, public in clerk.updates] == ["pro", "free", "pro"]  # told, then put back
    assert clerk.plan_of(life.user) == "pro"
    assert deliver(webhook, failing).json["outcome"] == "applied"  # Stripe's retry
    assert clerk.plan_of(life.user) == "free" and stored(pg_url, life.user)["plan"] == "free"
