"""Stripe's API, as far as billing uses it: Checkout sessions and customer-portal sessions. The
real stripe-python client is pointed at it through STRIPE_API_BASE; it records the form-encoded
parameters it received and can be made to fail."""

from __future__ import annotations

import itertools
from urllib.parse import parse_qs

from tests.fakes.server import FakeServer, Reply, Seen

_ids = itertools.count(1)


class FakeStripe:
    def __init__(self) -> None:
        self.server = FakeServer()
        self.checkouts: list[dict[str, str]] = []
        self.portals: list[dict[str, str]] = []
        self.failing_with: int | None = None
        self.server.route("POST", "/v1/checkout/sessions", self._checkout)
        self.server.route("POST", "/v1/billing_portal/sessions", self._portal)

    @property
    def url(self) -> str:
        return self.server.url

    def _checkout(self, seen: Seen) -> Reply:
        if failure := self._failure(seen):
            return failure
        params = _form(seen)
        self.checkouts.append(params)
        session_id = f"cs_test_{next(_ids):06d}"
        return Reply(
            200,
            {
                "id": session_id,
                "object": "checkout.session",
                "mode": params.get("mode"),
                "customer": params.get("customer"),
                "metadata": {k[9:-1]: v for k, v in params.items() if k.startswith("metadata[")},
                "status": "open",
                "url": f"https://checkout.stripe.com/c/pay/{session_id}",
            },
        )

    def _portal(self, seen: Seen) -> Reply:
        if failure := self._failure(seen):
            return failure
        params = _form(seen)
        self.portals.append(params)
        session_id = f"bps_test_{next(_ids):06d}"
        return Reply(
            200,
            {
                "id": session_id,
                "object": "billing_portal.session",
                "customer": params["customer"],
                "return_url": params.get("return_url"),
                "url": f"https://billing.stripe.com/p/session/{session_id}",
            },
        )

    def _failure(self, seen: Seen) -> Reply | None:
        if seen.headers.get("Authorization") != "Bearer sk_test_billing":
            return Reply(401, {"error": {"type": "invalid_request_error", "message": "Invalid API Key provided"}})
        if self.failing_with:
            return Reply(self.failing_with, {"error": {"type": "api_error", "message": "Stripe is having a bad day"}})
        return None


def _form(seen: Seen) -> dict[str, str]:
    return {key: values[0] for key, values in parse_qs(seen.body.decode()).items()}
