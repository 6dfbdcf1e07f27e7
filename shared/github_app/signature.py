"""`X-Hub-Signature-256`: HMAC-SHA256 of the delivery's raw body with the webhook secret, checked
before anything reads the body. No secret configured refuses every delivery: an app whose secret
is unset must not accept unsigned ones."""

from __future__ import annotations

import hashlib
import hmac

from shared.errors import ApiError

PREFIX = "sha256="


def verify(body: bytes, header: str | None, secret: str | None) -> None:
    """Return when `header` is GitHub's signature of exactly `body`; ApiError 401 otherwise."""
    if not secret:
        raise ApiError(
            401, "WEBHOOK_NOT_CONFIGURED", "This server has no GitHub webhook secret (GITHUB_WEBHOOK_SECRET)."
        )
    if not header or not header.startswith(PREFIX):
        raise ApiError(401, "WEBHOOK_SIGNATURE", "The X-Hub-Signature-256 header is missing.")
    expected = PREFIX + hmac.new(secret.encode(), body, hashlib.sha256).hexdigest()
    if not hmac.compare_digest(expected.encode(), header.strip().encode()):
        raise ApiError(401, "WEBHOOK_SIGNATURE", "The X-Hub-Signature-256 header does not match the body.")


def sign(body: bytes, secret: str) -> str:
    """What GitHub sends for `body` (the tests' deliveries, and docs/github-app.md's curl example)."""
    return PREFIX + hmac.new(secret.encode(), body, hashlib.sha256).hexdigest()
