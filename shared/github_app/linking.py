"""Linking an installation to a signed-in user, so its reviews count against that user's plan.

The signed-in user starts at /api/github/install, which sends the browser to the app's install page
with a `state` bound to them (a short-lived HS256 token, keyed from the webhook secret). GitHub
sends the browser back to /api/github/setup with `installation_id`, the installing user's OAuth
`code` and that `state`. The link is made when all three hold: the state names this signed-in user
(a link crafted by someone else cannot attach their installation to your plan), the code is GitHub's
(exchanged for a user token), and GET /user/installations with that token lists the installation
(the GitHub user may administer it)."""

from __future__ import annotations

import hashlib
import hmac
import time
from urllib.parse import urlencode

import httpx
import jwt

from shared import db
from shared.config import get_settings
from shared.errors import ApiError, invalid_input
from shared.github_app import client
from shared.models import utcnow
from shared.models.github_installation import GitHubInstallation

STATE_SECONDS = 1800
_AUDIENCE = "coderevai-github-setup"


def _state_key() -> bytes:
    secret = get_settings().github_webhook_secret
    if not secret:
        raise ApiError(503, "GITHUB_APP_DISABLED", "The GitHub App is not configured (GITHUB_WEBHOOK_SECRET).")
    return hmac.new(secret.encode(), b"coderevai setup state", hashlib.sha256).digest()


def install_url(user_id: str) -> str:
    settings = get_settings()
    slug = client.app_slug()
    if not slug:
        raise ApiError(
            503, "GITHUB_APP_DISABLED", "The GitHub App's slug is unknown (GITHUB_APP_SLUG).", retryable=True
        )
    now = int(time.time())
    state = jwt.encode(
        {"sub": user_id, "aud": _AUDIENCE, "iat": now, "exp": now + STATE_SECONDS}, _state_key(), algorithm="HS256"
    )
    return f"{settings.github_web_url.rstrip('/')}/apps/{slug}/installations/new?{urlencode({'state': state})}"


def link(user_id: str, installation_id: int, code: str, state: str) -> GitHubInstallation:
    try:
        claims = jwt.decode(state, _state_key(), algorithms=["HS256"], audience=_AUDIENCE)
    except jwt.PyJWTError:
        raise ApiError(
            403, "SETUP_STATE", "This setup link is not yours or has expired: start again from /api/github/install."
        ) from None
    if claims.get("sub") != user_id:
        raise ApiError(
            403, "SETUP_STATE", "This setup link was started by another account: start again from /api/github/install."
        )
    token = _user_token(code)
    installation = _administered(token, installation_id)
    with db.session() as session:
        row = session.get(GitHubInstallation, installation_id) or GitHubInstallation(id=installation_id)
        account = installation.get("account") or {}
        row.accountLogin, row.accountType = (
            account.get("login") or row.accountLogin,
            account.get("type") or row.accountType,
        )
        row.userId, row.linkedAt, row.updatedAt = user_id, utcnow(), utcnow()
        session.add(row)
        session.flush()
        session.refresh(row)
        return row


def linked(user_id: str) -> list[GitHubInstallation]:
    from sqlmodel import select

    with db.session() as session:
        return list(
            session.exec(
                select(GitHubInstallation).where(GitHubInstallation.userId == user_id).order_by(GitHubInstallation.id)
            )
        )


def _user_token(code: str) -> str:
    settings = get_settings()
    if not (settings.github_app_client_id and settings.github_app_client_secret):
        raise ApiError(503, "GITHUB_APP_DISABLED", "Linking needs GITHUB_APP_CLIENT_ID and GITHUB_APP_CLIENT_SECRET.")
    try:
        response = httpx.post(
            f"{settings.github_web_url.rstrip('/')}/login/oauth/access_token",
            data={
                "client_id": settings.github_app_client_id,
                "client_secret": settings.github_app_client_secret,
                "code": code,
            },
            headers={"Accept": "application/json"},
            timeout=settings.github_timeout_seconds,
        )
        answer = response.json()
    except (httpx.HTTPError, ValueError):
        raise ApiError(
            503, "GITHUB_UNAVAILABLE", "GitHub could not be reached to check the setup code.", retryable=True
        ) from None
    if not isinstance(answer, dict) or not answer.get("access_token"):
        raise invalid_input(
            "GitHub did not accept the setup code (it is good once, for ten minutes): install or configure the app again."
        )
    return answer["access_token"]


def _administered(token: str, installation_id: int) -> dict:
    for installation in client.user_pages("/user/installations", token=token, key="installations"):
        if installation.get("id") == installation_id:
            return installation
    raise ApiError(403, "NOT_YOUR_INSTALLATION", "Your GitHub account cannot administer this installation of the app.")
