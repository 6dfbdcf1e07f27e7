"""Who may run a task: Cloud Tasks, proven by the OIDC token it attaches to each dispatch.

Verified with google-auth's JWT code against Google's OIDC certificates (REVIEW_WORKER_CERTS_URL
overrides them for the tests' fake): the signature, `exp`/`iat`, the audience (REVIEW_WORKER_URL,
the worker's own URL, which deploy.sh gives the queue as the token's audience), the issuer
(accounts.google.com) and the email (REVIEW_WORKER_SERVICE_ACCOUNT, the account the queue signs
as, verified). Cloud Run's own IAM check (no --allow-unauthenticated, roles/run.invoker for that
account) stands in front of it in production; this check is what makes the worker safe anywhere.
The certificates are kept for the time Google's Cache-Control allows (about six hours)."""

from __future__ import annotations

import re
import threading
import time

import httpx

from shared.config import get_settings
from shared.errors import ApiError

GOOGLE_CERTS_URL = "https://www.googleapis.com/oauth2/v1/certs"
ISSUERS = ("accounts.google.com", "https://accounts.google.com")
DEFAULT_CERTS_SECONDS = 3600
CLOCK_SKEW_SECONDS = 30
_MAX_AGE = re.compile(r"max-age=(\d+)")

_certs: dict[str, tuple[dict, float]] = {}
_lock = threading.Lock()


def verify_dispatch(authorization: str | None) -> dict:
    """The token's claims when the request comes from the queue; ApiError 401 otherwise."""
    from google.auth import exceptions, jwt

    settings = get_settings()
    if not (settings.review_worker_url and settings.review_worker_service_account):
        raise ApiError(
            401,
            "WORKER_NOT_CONFIGURED",
            "The worker takes tasks only from the queue (REVIEW_WORKER_URL, REVIEW_WORKER_SERVICE_ACCOUNT).",
        )
    scheme, _, token = (authorization or "").partition(" ")
    if scheme.lower() != "bearer" or not token:
        raise ApiError(401, "UNAUTHORIZED", "A task needs the queue's OIDC token (Authorization: Bearer).")
    certs_url = settings.review_worker_certs_url or GOOGLE_CERTS_URL
    try:
        claims = jwt.decode(
            token,
            certs=_certs_at(certs_url),
            audience=settings.review_worker_url,
            clock_skew_in_seconds=CLOCK_SKEW_SECONDS,
        )
    except (ValueError, exceptions.GoogleAuthError) as exc:
        raise ApiError(401, "UNAUTHORIZED", f"The task's OIDC token is not valid ({_why(exc)}).") from None
    if claims.get("iss") not in ISSUERS:
        raise ApiError(401, "UNAUTHORIZED", "The task's OIDC token was not issued by Google.")
    if claims.get("email") != settings.review_worker_service_account or not claims.get("email_verified"):
        raise ApiError(403, "FORBIDDEN", "The task's OIDC token is for another service account.")
    return claims


def _certs_at(url: str) -> dict:
    now = time.monotonic()
    with _lock:
        kept = _certs.get(url)
    if kept and kept[1] > now:
        return kept[0]
    try:
        response = httpx.get(url, timeout=10)
        response.raise_for_status()
        certs = response.json()
    except (httpx.HTTPError, ValueError):
        raise ApiError(
            503, "CERTS_UNAVAILABLE", "Google's OIDC certificates could not be read.", retryable=True
        ) from None
    age = _MAX_AGE.search(response.headers.get("Cache-Control", ""))
    with _lock:
        _certs[url] = (certs, now + (int(age.group(1)) if age else DEFAULT_CERTS_SECONDS))
    return certs


def _why(exc: Exception) -> str:
    """The failing check, without the token: google-auth's messages quote claims, never the token."""
    text = str(exc).split(".")[0]
    return text[:120] or type(exc).__name__
