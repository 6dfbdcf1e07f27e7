"""Clerk `publicMetadata.plan`, kept equal to the stored plan through clerk-backend-api.

Only the Stripe webhook imports this module: the SDK costs every other function cold-start time."""

from __future__ import annotations

import functools
import logging

import httpx
from clerk_backend_api import Clerk
from clerk_backend_api.models.clerkbaseerror import ClerkBaseError
from clerk_backend_api.utils import BackoffStrategy, RetryConfig

from shared.config import get_settings, note_default
from shared.errors import ApiError

log = logging.getLogger("coderevai.clerk_sync")

TIMEOUT_MS = 5_000
# The SDK's default retries 5xx for up to an hour; Stripe redelivers the event anyway, so give up
# within a few seconds and let the webhook answer non-2xx.
RETRIES = RetryConfig("backoff", BackoffStrategy(200, 1_000, 2.0, 2_500), retry_connection_errors=True)


def set_plan(user_id: str, plan: str) -> None:
    """Merge `{plan}` into the user's public metadata; ApiError 502 when Clerk cannot be updated."""
    settings = get_settings()
    if not settings.clerk_secret_key:
        note_default("CLERK_SECRET_KEY unset: plan changes are not copied to Clerk (development only)")
        return
    try:
        _clerk(settings.clerk_secret_key, settings.clerk_api_url).users.update_metadata(
            user_id=user_id, public_metadata={"plan": plan}
        )
    except (ClerkBaseError, httpx.HTTPError) as exc:
        if _status(exc) == 404:
            # The user was deleted in Clerk: no retry can succeed, and holding back the database
            # change would block this subscription's events until Stripe gives up.
            log.warning("clerk user %s not found; plan %s kept in the database only", user_id, plan)
            return
        log.error("clerk metadata update failed for %s: %s", user_id, _describe(exc))
        raise ApiError(
            502, "CLERK_UNAVAILABLE", "Could not update the user's plan in Clerk; retry later.", retryable=True
        ) from None
    log.info("clerk plan of %s set to %s", user_id, plan)


def _status(exc: Exception) -> int | None:
    return getattr(getattr(exc, "raw_response", None), "status_code", None)


def _describe(exc: Exception) -> str:
    status = _status(exc)
    return f"{type(exc).__name__} (HTTP {status})" if status else type(exc).__name__


@functools.cache
def _clerk(secret_key: str, api_url: str) -> Clerk:
    return Clerk(
        bearer_auth=secret_key,
        server_url=f"{api_url.rstrip('/')}/v1",
        retry_config=RETRIES,
        timeout_ms=TIMEOUT_MS,
    )
