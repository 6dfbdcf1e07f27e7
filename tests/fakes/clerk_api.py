"""Clerk's Backend API, as far as the webhook uses it: PATCH /v1/users/{id}/metadata (a merge),
answered with a User object the real clerk-backend-api SDK accepts. It can be made to fail."""

from __future__ import annotations

import time

from tests.fakes.server import FakeServer, Reply, Seen


class FakeClerk:
    def __init__(self) -> None:
        self.server = FakeServer()
        self.server.route("PATCH", "/v1/users/", self._update_metadata)
        self.reset()

    def reset(self) -> None:
        self.metadata: dict[str, dict] = {}
        self.updates: list[tuple[str, dict]] = []  # successful updates only, in order
        self.failing_with: int | None = None
        self.delay_seconds = 0.0
        self.server.requests.clear()

    @property
    def url(self) -> str:
        return self.server.url

    def plan_of(self, user_id: str) -> str | None:
        return self.metadata.get(user_id, {}).get("plan")

    def _update_metadata(self, seen: Seen) -> Reply:
        if seen.headers.get("Authorization") != "Bearer sk_test_clerk":
            return Reply(401, {"errors": [{"message": "Unauthorized", "long_message": "bad key", "code": "x"}]})
        if self.delay_seconds:
            time.sleep(self.delay_seconds)
        if self.failing_with:
            return Reply(self.failing_with, {"errors": [{"message": "unavailable", "code": "internal"}]})
        user_id = seen.path.split("/")[3]
        public = seen.json().get("public_metadata") or {}
        self.metadata.setdefault(user_id, {}).update(public)
        self.updates.append((user_id, public))
        return Reply(200, _user(user_id, self.metadata[user_id]))


def _user(user_id: str, public_metadata: dict) -> dict:
    now = int(time.time() * 1000)
    nulls = (
        "external_id primary_email_address_id primary_phone_number_id primary_web3_wallet_id username first_name "
        "last_name mfa_enabled_at mfa_disabled_at last_sign_in_at lockout_expires_in_seconds "
        "verification_attempts_remaining last_active_at legal_accepted_at"
    ).split()
    lists = "email_addresses phone_numbers web3_wallets passkeys external_accounts saml_accounts enterprise_accounts"
    falses = "has_image password_enabled two_factor_enabled totp_enabled backup_code_enabled banned locked"
    return {
        "id": user_id,
        "object": "user",
        "public_metadata": public_metadata,
        "private_metadata": {},
        "unsafe_metadata": {},
        "delete_self_enabled": True,
        "create_organization_enabled": True,
        "created_at": now,
        "updated_at": now,
        **dict.fromkeys(nulls),
        **{name: [] for name in lists.split()},
        **dict.fromkeys(falses.split(), False),
    }
