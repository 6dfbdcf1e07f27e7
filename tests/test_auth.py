"""Clerk session tokens: every failure is a 401; the hot path makes no network call."""

from __future__ import annotations

import base64
import json
import time

import jwt
import pytest

from tests.conftest import ClerkKeys, bearer, function_client
from tests.fakes.server import FakeServer, Reply

PARTY = "https://app.example.com"


@pytest.fixture
def client(auth_env):
    return function_client("history")


def test_valid_token_is_accepted(client, clerk_keys):
    response = client.get("/", headers=bearer(clerk_keys.token("user_ok", azp=PARTY)))
    assert response.status_code == 200, response.json


def test_session_cookie_is_accepted(client, clerk_keys):
    client.set_cookie("__session", clerk_keys.token("user_cookie", azp=PARTY))
    assert client.get("/").status_code == 200


def _unsigned(claims: dict) -> str:
    def part(data: dict) -> str:
        return base64.urlsafe_b64encode(json.dumps(data).encode()).decode().rstrip("=")

    return f"{part({'alg': 'none', 'typ': 'JWT'})}.{part(claims)}."


def _bad_tokens(keys: ClerkKeys) -> dict[str, str | None]:
    now = int(time.time())
    other = ClerkKeys()
    return {
        "missing": None,
        "malformed": "not.a.jwt",
        "garbage": "abc",
        "expired": keys.token("user_x", azp=PARTY, exp=now - 60, iat=now - 120, nbf=now - 120),
        "not yet valid": keys.token("user_x", azp=PARTY, nbf=now + 600),
        "wrong key": other.token("user_x", azp=PARTY),
        "alg none": _unsigned({"sub": "user_x", "exp": now + 60, "iat": now, "azp": PARTY}),
        "HS256": jwt.encode(
            {"sub": "user_x", "exp": now + 60, "iat": now}, "a-shared-secret-that-is-not-clerks-key", algorithm="HS256"
        ),
        "wrong azp": keys.token("user_x", azp="https://evil.example"),
        "no exp": jwt.encode({"sub": "user_x", "iat": now, "azp": PARTY}, keys.private, algorithm="RS256"),
        "no sub": jwt.encode({"exp": now + 60, "iat": now, "azp": PARTY}, keys.private, algorithm="RS256"),
        "tampered": keys.token("user_x", azp=PARTY)[:-4] + "AAAA",
    }


@pytest.mark.parametrize(
    "case",
    [
        "missing",
        "malformed",
        "garbage",
        "expired",
        "not yet valid",
        "wrong key",
        "alg none",
        "HS256",
        "wrong azp",
        "no exp",
        "no sub",
        "tampered",
    ],
)
def test_bad_tokens_get_401(client, clerk_keys, case):
    token = _bad_tokens(clerk_keys)[case]
    response = client.get("/", headers=bearer(token) if token else {})
    assert response.status_code == 401, (case, response.json)
    assert response.json["code"] == "UNAUTHORIZED"
    assert response.json["retryable"] is False


def test_dev_header_is_ignored_once_clerk_is_configured(client):
    assert client.get("/", headers={"X-Dev-User": "user_dev"}).status_code == 401


def test_production_never_takes_the_dev_header(settings_env, pg_url, clerk_keys):
    settings_env(
        APP_ENV="production",
        DATABASE_URL=pg_url,
        REDIS_URL="redis://127.0.0.1:6379/0",
        CLERK_JWT_KEY=clerk_keys.public_pem,
    )
    client = function_client("history")
    assert client.get("/", headers={"X-Dev-User": "user_dev"}).status_code == 401
    assert client.get("/", headers=bearer(clerk_keys.token("user_prod"))).status_code == 200


def _ec_public_pem() -> str:
    from cryptography.hazmat.primitives import serialization
    from cryptography.hazmat.primitives.asymmetric import ec

    public = ec.generate_private_key(ec.SECP256R1()).public_key()
    return public.public_bytes(serialization.Encoding.PEM, serialization.PublicFormat.SubjectPublicKeyInfo).decode()


@pytest.mark.parametrize(
    "key",
    [
        "not a pem",
        "-----BEGIN PUBLIC KEY-----\\nabc\\n-----END PUBLIC KEY-----",
        "pk_test_Y2xlcmsuZXhhbXBsZS5jb20k",  # a publishable key pasted into the wrong variable
        "ec",
    ],
    ids=["text", "truncated-pem", "publishable-key", "ec-key"],
)
def test_a_clerk_key_that_does_not_parse_stops_the_instance_at_start(db_env, clerk_keys, key):
    from shared.config import ConfigError

    db_env(CLERK_JWT_KEY=_ec_public_pem() if key == "ec" else key)
    with pytest.raises(ConfigError, match="CLERK_JWT_KEY"):
        function_client("history")


def test_jwks_is_fetched_once_and_cached(db_env):
    keys = ClerkKeys(kid="ins_jwks_key")
    with FakeServer() as clerk:
        clerk.route("GET", "/v1/jwks", Reply(200, {"keys": [keys.jwk()]}))
        db_env(CLERK_SECRET_KEY="sk_test_jwks", CLERK_API_URL=clerk.url)
        client = function_client("history")
        for _ in range(5):
            assert client.get("/", headers=bearer(keys.token("user_jwks"))).status_code == 200
        fetches = [r for r in clerk.requests if r.path == "/v1/jwks"]
        assert len(fetches) == 1
        assert fetches[0].headers["Authorization"] == "Bearer sk_test_jwks"
        # A token signed by a key the set does not hold is refused without another fetch (rate-bounded).
        assert client.get("/", headers=bearer(ClerkKeys(kid="ins_other").token())).status_code == 401
        assert len([r for r in clerk.requests if r.path == "/v1/jwks"]) == 1


def test_jwks_outage_on_first_use_is_503_retryable(db_env):
    from shared import auth

    auth._jwks.__init__()  # a fresh instance: nothing cached yet
    with FakeServer() as clerk:
        clerk.route("GET", "/v1/jwks", Reply(500, {"error": "down"}))
        db_env(CLERK_SECRET_KEY="sk_test_down", CLERK_API_URL=clerk.url)
        response = function_client("history").get("/", headers=bearer(ClerkKeys(kid="k_down").token()))
    assert response.status_code == 503
    assert response.json["reason"] == "AUTH_UNAVAILABLE"
    assert response.json["retryable"] is True


def test_clerk_outage_after_keys_are_cached_costs_one_attempt_a_minute(db_env):
    from shared import auth

    auth._jwks.__init__()
    keys = ClerkKeys(kid="ins_cached_key")
    with FakeServer() as clerk:
        clerk.route("GET", "/v1/jwks", Reply(200, {"keys": [keys.jwk()]}))
        db_env(CLERK_SECRET_KEY="sk_test_outage", CLERK_API_URL=clerk.url)
        client = function_client("history")
        assert client.get("/", headers=bearer(keys.token("user_cached"))).status_code == 200
        clerk.route("GET", "/v1/jwks", Reply(503, {"error": "down"}))
        auth._jwks._fetched_at -= auth.JWKS_TTL_SECONDS + 1  # the cached set's hour is over
        statuses = [client.get("/", headers=bearer(keys.token("user_cached"))).status_code for _ in range(5)]
        fetches = [r for r in clerk.requests if r.path == "/v1/jwks"]
    assert statuses == [200] * 5  # the cached keys keep serving
    assert len(fetches) == 2  # the first fetch, then one failed refresh, not one per request
