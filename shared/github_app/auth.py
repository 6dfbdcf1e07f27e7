"""Calling GitHub as the app: an RS256 JWT signed with GITHUB_APP_PRIVATE_KEY (ten minutes at
most, GitHub's cap), exchanged for an installation token (an hour) that is kept per installation
until shortly before it expires, so a busy installation costs one token call an hour per instance."""

from __future__ import annotations

import threading
import time
from datetime import datetime

import jwt

from shared.config import get_settings
from shared.errors import ApiError

JWT_LIFETIME_SECONDS = 540  # GitHub refuses more than 600; a minute of margin for clock skew
JWT_BACKDATE_SECONDS = 60  # GitHub's advice: issued a minute ago, in case its clock is behind ours
TOKEN_MARGIN_SECONDS = 300  # a token is renewed this long before it expires: a review may take minutes

_lock = threading.Lock()
_app_jwt: tuple[str, float, str] | None = None  # (jwt, good until, for which app id)
_tokens: dict[tuple[str, int], tuple[str, float]] = {}  # (api url, installation) -> (token, good until)


def app_configured() -> bool:
    settings = get_settings()
    return bool(settings.github_app_id and settings.github_app_private_key)


def app_jwt() -> str:
    """The app's own JWT (for /app endpoints), reused while it has a minute left."""
    global _app_jwt
    settings = get_settings()
    if not app_configured():
        raise ApiError(
            503, "GITHUB_APP_DISABLED", "The GitHub App is not configured (GITHUB_APP_ID, GITHUB_APP_PRIVATE_KEY)."
        )
    now = time.time()
    with _lock:
        if _app_jwt and _app_jwt[1] > now + 60 and _app_jwt[2] == settings.github_app_id:
            return _app_jwt[0]
    claims = {
        "iat": int(now) - JWT_BACKDATE_SECONDS,
        "exp": int(now) + JWT_LIFETIME_SECONDS,
        "iss": settings.github_app_id,
    }
    try:
        token = jwt.encode(claims, settings.github_app_private_key, algorithm="RS256")
    except (ValueError, TypeError, jwt.PyJWTError):  # never the key itself in the message
        raise ApiError(503, "GITHUB_APP_KEY", "GITHUB_APP_PRIVATE_KEY is not an RSA private key in PEM form.") from None
    with _lock:
        _app_jwt = (token, now + JWT_LIFETIME_SECONDS, settings.github_app_id)
    return token


def cached_token(installation_id: int) -> str | None:
    key = (get_settings().github_api_url, installation_id)
    with _lock:
        found = _tokens.get(key)
    return found[0] if found and found[1] > time.time() else None


def keep_token(installation_id: int, token: str, expires_at: str | None) -> None:
    until = _expiry(expires_at) - TOKEN_MARGIN_SECONDS
    with _lock:
        _tokens[(get_settings().github_api_url, installation_id)] = (token, until)


def forget_token(installation_id: int) -> None:
    """After a 401 with a kept token (revoked early, or the app's key rotated)."""
    with _lock:
        _tokens.pop((get_settings().github_api_url, installation_id), None)


def _expiry(expires_at: str | None) -> float:
    if not expires_at:
        return time.time() + 3600  # GitHub's documented lifetime
    return datetime.fromisoformat(expires_at.replace("Z", "+00:00")).timestamp()


def forget_all() -> None:
    """Every kept JWT and token (tests; and after rotating the app's key)."""
    global _app_jwt
    with _lock:
        _app_jwt = None
        _tokens.clear()
