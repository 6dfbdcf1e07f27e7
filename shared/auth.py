"""Who is calling: a Clerk session token verified without a network call on the hot path.

Hand-written over PyJWT rather than through clerk-backend-api: the SDK would add its whole import
to every function's cold start, and the check is small (RS256 signature, exp/nbf, azp). The key is
the PEM from CLERK_JWT_KEY (networkless) or Clerk's JWKS, fetched once per instance and cached."""

from __future__ import annotations

import functools
import logging
import re
import threading
import time

import flask
import jwt

from shared.config import ConfigError, Settings, get_settings, note_default
from shared.errors import ApiError, unauthorized
from shared.keys.format import API_KEY_PREFIX

log = logging.getLogger("coderevai.auth")

LEEWAY_SECONDS = 5
JWKS_TTL_SECONDS = 3600
JWKS_MIN_REFRESH_SECONDS = 60  # an unknown kid refreshes the set, but not more often than this
_DEV_USER = re.compile(r"^[A-Za-z0-9_\-]{1,64}$")


def authenticate(request: flask.Request, *, api_keys: bool = False) -> str:
    """The caller's Clerk user id, or ApiError 401. With `api_keys`, a `Bearer sk_live_...` key
    signs in as its user; a key that does not is 401, never retried as a session or X-Dev-User."""
    key = _api_key(request)
    if key is not None:
        if not api_keys:
            raise unauthorized("API keys cannot be used here; sign in to the web app instead.")
        from shared.keys.signin import user_of_key  # on the first keyed call: the web app's never are

        return user_of_key(key)
    settings = get_settings()
    if settings.dev_auth:
        return _dev_user(request)
    token = _session_token(request)
    if not token:
        raise unauthorized("Missing session token: send `Authorization: Bearer <Clerk session token>`.")
    return verify_session_token(token, settings)


def verify_session_token(token: str, settings: Settings) -> str:
    try:
        header = jwt.get_unverified_header(token)
    except jwt.InvalidTokenError:
        raise unauthorized("Malformed session token.") from None
    if header.get("alg") != "RS256":
        raise unauthorized("Session token must be signed with RS256.")
    key = _pem_key(settings.clerk_jwt_key) if settings.clerk_jwt_key else _jwks.key_for(header.get("kid"), settings)
    try:
        claims = jwt.decode(
            token,
            key,
            algorithms=["RS256"],
            leeway=LEEWAY_SECONDS,
            options={"require": ["exp", "iat", "sub"], "verify_aud": False},
        )
    except jwt.ExpiredSignatureError:
        raise unauthorized("Session token has expired.") from None
    except jwt.ImmatureSignatureError:
        raise unauthorized("Session token is not valid yet.") from None
    except jwt.InvalidTokenError as exc:
        raise unauthorized(f"Invalid session token ({type(exc).__name__}).") from None
    # As Clerk's own SDKs do: a token that names its authorized party must name an allowed one.
    azp = claims.get("azp")
    if settings.clerk_authorized_parties and azp and azp not in settings.clerk_authorized_parties:
        raise unauthorized("Session token was issued for another origin.")
    return claims["sub"]


def check_jwt_key(settings: Settings) -> None:
    """Run at start: a CLERK_JWT_KEY that does not parse stops the instance, naming the variable,
    rather than letting it start and answer 500 to every request."""
    if settings.clerk_jwt_key:
        _pem_key(settings.clerk_jwt_key)


@functools.cache
def _pem_key(pem: str):
    """The parsed key, once per instance (PyJWT would parse the PEM text on every request)."""
    from cryptography.exceptions import UnsupportedAlgorithm
    from cryptography.hazmat.primitives.asymmetric.rsa import RSAPublicKey
    from cryptography.hazmat.primitives.serialization import load_pem_public_key

    try:
        key = load_pem_public_key(pem.encode())
    except (ValueError, TypeError, UnsupportedAlgorithm):
        key = None
    if not isinstance(key, RSAPublicKey):
        raise ConfigError("CLERK_JWT_KEY is not a PEM RSA public key (Clerk Dashboard > API keys > JWT public key)")
    return key


def _api_key(request: flask.Request) -> str | None:
    scheme, _, value = request.headers.get("Authorization", "").partition(" ")
    value = value.strip()
    return value if scheme.lower() == "bearer" and value.startswith(API_KEY_PREFIX) else None


def _session_token(request: flask.Request) -> str | None:
    header = request.headers.get("Authorization", "")
    scheme, _, value = header.partition(" ")
    if scheme.lower() == "bearer" and value.strip():
        return value.strip()
    return request.cookies.get("__session") or None


def _dev_user(request: flask.Request) -> str:
    note_default("no Clerk key set: the caller is taken from the X-Dev-User header (development only)")
    user = request.headers.get("X-Dev-User", "")
    if not _DEV_USER.match(user):
        raise unauthorized("Development mode: name the caller in the X-Dev-User header (letters, digits, _ or -).")
    return user


class _JwksCache:
    def __init__(self) -> None:
        self._keys: dict[str, jwt.PyJWK] = {}
        self._fetched_at = float("-inf")
        self._lock = threading.Lock()

    def key_for(self, kid: str | None, settings: Settings):
        if not kid:
            raise unauthorized("Session token has no key id.")
        with self._lock:
            age = time.monotonic() - self._fetched_at
            if age > JWKS_TTL_SECONDS or (kid not in self._keys and age > JWKS_MIN_REFRESH_SECONDS):
                self._refresh(settings)
            key = self._keys.get(kid)
        if key is None:
            raise unauthorized("Session token was signed with an unknown key.")
        return key.key

    def _refresh(self, settings: Settings) -> None:
        import httpx  # only instances configured for JWKS pay for it

        try:
            response = httpx.get(
                f"{settings.clerk_api_url.rstrip('/')}/v1/jwks",
                headers={"Authorization": f"Bearer {settings.clerk_secret_key}"},
                timeout=5.0,
            )
            response.raise_for_status()
            keys = jwt.PyJWKSet.from_dict(response.json()).keys
        except (httpx.HTTPError, jwt.PyJWKSetError, ValueError) as exc:
            log.error("cannot fetch Clerk JWKS: %s", type(exc).__name__)
            if not self._keys:
                raise ApiError(503, "AUTH_UNAVAILABLE", "Cannot verify sign-in right now.", retryable=True) from None
            # Keep serving the cached keys and try again in a minute, not on every request: each
            # attempt holds the lock for up to the timeout.
            self._fetched_at = time.monotonic() - JWKS_TTL_SECONDS + JWKS_MIN_REFRESH_SECONDS
            return
        self._keys = {k.key_id: k for k in keys if k.key_id}
        self._fetched_at = time.monotonic()


_jwks = _JwksCache()
