"""API keys as the front end's key manager and API callers use them: created once and shown once,
stored as SHA-256, listed without secrets, at most 10 active; used as `Bearer sk_live_...` on the
review and history functions with the user's own limits; revoked, unknown or expired keys are 401
(never retried as Clerk or X-Dev-User), revocation reaches other instances within the cache's TTL."""

from __future__ import annotations

import hashlib
import json
import re
import time
import uuid
from datetime import timedelta

import psycopg
import pytest

from tests.conftest import REDIS_URL, bearer, function_client

KEY = re.compile(r"^sk_live_[0-9a-f]{48}$")
CODE = {"code": "import os\nos.system(input())\n", "language": "python", "reviewModes": ["security"]}


def user(name: str) -> str:
    return f"{name}_{uuid.uuid4().hex[:8]}"


def dev(name: str) -> dict[str, str]:
    return {"X-Dev-User": name}


def create(owner: dict[str, str], name: str = "CI") -> dict:
    response = function_client("keys").post("/", json={"name": name}, headers=owner)
    assert response.status_code == 201, response.json
    return response.json


def row_of(pg_url: str, key_id: str) -> dict:
    with psycopg.connect(pg_url) as conn:
        cursor = conn.execute('SELECT * FROM "ApiKey" WHERE id = %s', (key_id,))
        names = [c.name for c in cursor.description]
        return dict(zip(names, cursor.fetchone(), strict=True))


def sql(pg_url: str, statement: str, *args) -> None:
    with psycopg.connect(pg_url, autocommit=True) as conn:
        conn.execute(statement, args)


def test_a_key_is_shown_once_and_only_its_sha256_is_stored(auth_env, clerk_keys, pg_url):
    owner = bearer(clerk_keys.token(user("owner")))
    created = create(owner, "  Make.com integration ")
    key, key_id = created["key"], created["keyId"]
    assert set(created) == {"key", "keyId", "expiresAt"} and created["expiresAt"] is None
    assert KEY.match(key)
    row = row_of(pg_url, key_id)
    assert row["keyHash"] == hashlib.sha256(key.encode()).hexdigest()
    assert key not in json.dumps(row, default=str)
    assert (row["name"], row["isActive"], row["lastUsed"], row["expiresAt"]) == (
        "Make.com integration",
        True,
        None,
        None,
    )

    listed = function_client("keys").get("/", headers=owner)
    assert listed.status_code == 200
    [item] = listed.json
    assert item["id"] == key_id and item["name"] == "Make.com integration"
    assert set(item) == {"id", "name", "createdAt", "lastUsed", "expiresAt", "isActive"}
    assert re.match(r"^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}Z$", item["createdAt"])
    assert key not in listed.text and row["keyHash"] not in listed.text
    # A second key is another secret; each list shows the newest first.
    second = create(owner, "GitHub Actions")
    assert second["key"] != key
    assert [k["name"] for k in function_client("keys").get("/", headers=owner).json] == [
        "GitHub Actions",
        "Make.com integration",
    ]


@pytest.mark.parametrize(
    "body",
    [{"name": ""}, {"name": "   "}, {"name": "x" * 51}, {}, {"name": 7}, {"name": "ok", "extra": 1}],
    ids=["empty", "blank", "51 chars", "missing", "number", "unknown key"],
)
def test_bad_names_are_refused_and_nothing_is_created(db_env, body):
    owner = dev(user("names"))
    response = function_client("keys").post("/", json=body, headers=owner)
    assert response.status_code == 400
    assert function_client("keys").get("/", headers=owner).json == []


def test_fifty_characters_is_the_longest_name(db_env):
    owner = dev(user("long"))
    create(owner, "x" * 50)
    assert function_client("keys").get("/", headers=owner).json[0]["name"] == "x" * 50


def test_the_eleventh_active_key_is_refused_until_one_is_revoked(db_env):
    owner = dev(user("many"))
    ids = [create(owner, f"key {n}")["keyId"] for n in range(10)]
    refused = function_client("keys").post("/", json={"name": "eleventh"}, headers=owner)
    assert refused.status_code == 409
    assert (refused.json["code"], refused.json["reason"]) == ("VALIDATION_ERROR", "KEY_LIMIT_REACHED")
    assert "10" in refused.json["error"]
    assert function_client("keys").delete(f"/?id={ids[0]}", headers=owner).json == {"success": True}
    create(owner, "eleventh")
    assert len(function_client("keys").get("/", headers=owner).json) == 10
    # Another user's keys do not count towards this one's.
    create(dev(user("other")))


def test_a_key_signs_in_on_reviews_and_history_as_its_user(auth_env, clerk_keys):
    owner_id = user("caller")
    key = create(bearer(clerk_keys.token(owner_id)))["key"]
    reviewed = function_client("review_code").post("/", json=CODE, headers=bearer(key))
    assert reviewed.status_code == 200, reviewed.json
    listed = function_client("history").get("/", headers=bearer(key))
    assert listed.status_code == 200
    assert [item["id"] for item in listed.json["history"]] == [reviewed.json["reviewId"]]
    # The same history as the user's own Clerk session sees it: the key is that user.
    as_user = function_client("history").get("/", headers=bearer(clerk_keys.token(owner_id)))
    assert as_user.json["history"] == listed.json["history"]
    diff = function_client("generate_diff").post(
        "/", json={"originalCode": "x=1\n", "language": "python", "feedback": "spacing"}, headers=bearer(key)
    )
    assert diff.status_code == 200, diff.json


def test_a_key_works_in_development_mode_without_x_dev_user(db_env):
    owner_id = user("devkey")
    key = create(dev(owner_id))["key"]
    function_client("history").post(
        "/", json={"type": "code", "reviewModes": [], "feedback": "ok"}, headers=dev(owner_id)
    )
    listed = function_client("history").get("/", headers=bearer(key))
    assert listed.status_code == 200 and len(listed.json["history"]) == 1


def test_requests_by_key_count_against_the_users_plan_limits(db_env, redis_prefix, pg_url):
    db_env(REDIS_URL=REDIS_URL, RATE_LIMIT_PREFIX=redis_prefix, RATE_LIMITS='{"history": {"free": 3, "pro": 5}}')
    owner_id = user("limited")
    key = create(dev(owner_id))["key"]
    history = function_client("history")
    statuses = [history.get("/", headers=bearer(key)).status_code for _ in range(2)]
    statuses.append(history.get("/", headers=dev(owner_id)).status_code)  # the same user, signed in otherwise
    refused = history.get("/", headers=bearer(key))
    assert statuses == [200, 200, 200] and refused.status_code == 429
    assert refused.headers["X-RateLimit-Limit"] == "3" and "Retry-After" in refused.headers

    pro_id = user("pro")
    sql(
        pg_url,
        """INSERT INTO "UserSubscription" (id, "userId", "stripeCustomerId", plan, status, "updatedAt")
           VALUES (%s, %s, %s, 'pro', 'active', now())""",
        uuid.uuid4().hex,
        pro_id,
        f"cus_{uuid.uuid4().hex[:10]}",
    )
    pro_key = create(dev(pro_id))["key"]
    assert history.get("/", headers=bearer(pro_key)).headers["X-RateLimit-Limit"] == "5"


def test_a_key_cannot_manage_keys(db_env):
    owner_id = user("manager")
    key = create(dev(owner_id))["key"]
    keys = function_client("keys")
    assert keys.get("/", headers=bearer(key)).status_code == 401
    assert keys.post("/", json={"name": "more"}, headers=bearer(key)).status_code == 401
    # Not even with X-Dev-User beside it: a key present decides the sign-in.
    assert keys.get("/", headers={**bearer(key), **dev(owner_id)}).status_code == 401


@pytest.mark.parametrize(
    "value",
    ["sk_live_" + "0" * 48, "sk_live_" + "A" * 48, "sk_live_short", "sk_live_" + "a" * 49],
    ids=["unknown", "upper case", "short", "long"],
)
@pytest.mark.parametrize("mode", ["clerk", "development"])
def test_an_unknown_or_malformed_key_is_401_and_never_falls_back(mode, value, db_env, clerk_keys):
    if mode == "clerk":
        db_env(CLERK_JWT_KEY=clerk_keys.public_pem)
    owner_id = user("fallback")
    # A valid session cookie and X-Dev-User ride along: neither is tried once a key is presented.
    client = function_client("review_code")
    client.set_cookie("__session", clerk_keys.token(owner_id))
    response = client.post("/", json=CODE, headers={**bearer(value), **dev(owner_id)})
    assert response.status_code == 401
    assert (response.json["code"], response.json["reason"]) == ("UNAUTHORIZED", "UNAUTHORIZED")


def test_an_expired_key_is_401(db_env, pg_url):
    db_env(API_KEY_CACHE_SECONDS="0.2")
    owner_id = user("expired")
    created = create(dev(owner_id))
    history = function_client("history")
    from shared.models import utcnow

    assert history.get("/", headers=bearer(created["key"])).status_code == 200  # verified, and cached
    sql(pg_url, """UPDATE "ApiKey" SET "expiresAt" = %s WHERE id = %s""", utcnow(), created["keyId"])
    time.sleep(0.3)  # past API_KEY_CACHE_SECONDS
    response = history.get("/", headers=bearer(created["key"]))
    assert response.status_code == 401 and "expired" in response.json["error"]


def test_revocation_reaches_another_instance_within_the_cache_ttl(db_env, pg_url):
    db_env(API_KEY_CACHE_SECONDS="0.5")
    owner = dev(user("revoker"))
    created = create(owner)
    # Instances that each verified (and cached) the key; the revocation is made by a third.
    review_instance, history_instance = function_client("review_code"), function_client("history")
    assert review_instance.post("/", json=CODE, headers=bearer(created["key"])).status_code == 200
    assert history_instance.get("/", headers=bearer(created["key"])).status_code == 200
    revoked = function_client("keys").delete(f"/?id={created['keyId']}", headers=owner)
    assert revoked.status_code == 200 and revoked.json == {"success": True}
    assert row_of(pg_url, created["keyId"])["isActive"] is False
    time.sleep(0.5)
    assert history_instance.get("/", headers=bearer(created["key"])).status_code == 401
    assert review_instance.post("/", json=CODE, headers=bearer(created["key"])).status_code == 401
    # Revoked keys leave the list (and their id cannot be revoked twice).
    assert function_client("keys").get("/", headers=owner).json == []
    assert function_client("keys").delete(f"/?id={created['keyId']}", headers=owner).status_code == 404


def test_another_users_key_cannot_be_revoked_and_its_id_is_404(db_env):
    owner, intruder = dev(user("victim")), dev(user("intruder"))
    created = create(owner)
    keys = function_client("keys")
    attempt = keys.delete(f"/?id={created['keyId']}", headers=intruder)
    assert attempt.status_code == 404
    assert keys.delete("/?id=c0nosuchkey000000000000", headers=intruder).status_code == 404
    assert keys.delete("/", headers=owner).status_code == 400  # which key?
    assert function_client("history").get("/", headers=bearer(created["key"])).status_code == 200
    assert [k["id"] for k in keys.get("/", headers=owner).json] == [created["keyId"]]
    assert keys.get("/", headers=intruder).json == []


def test_last_used_is_written_at_most_once_a_minute(db_env, pg_url):
    db_env(API_KEY_CACHE_SECONDS="0.2")
    owner = dev(user("lastused"))
    created = create(owner)
    history = function_client("history")
    assert function_client("keys").get("/", headers=owner).json[0]["lastUsed"] is None

    for _ in range(3):
        assert history.get("/", headers=bearer(created["key"])).status_code == 200
    first = row_of(pg_url, created["keyId"])["lastUsed"]
    assert first is not None
    time.sleep(0.25)  # the cached row expires and is read again: still within the minute
    history.get("/", headers=bearer(created["key"]))
    assert row_of(pg_url, created["keyId"])["lastUsed"] == first
    listed = function_client("keys").get("/", headers=owner).json[0]["lastUsed"]
    assert listed.startswith(first.strftime("%Y-%m-%dT%H:%M:%S"))

    # Another instance wrote it 30 s ago: not again. Two minutes ago: now.
    for age, written in ((30, False), (120, True)):
        sql(
            pg_url,
            """UPDATE "ApiKey" SET "lastUsed" = %s WHERE id = %s""",
            first - timedelta(seconds=age),
            created["keyId"],
        )
        time.sleep(0.25)
        history.get("/", headers=bearer(created["key"]))
        assert (row_of(pg_url, created["keyId"])["lastUsed"] > first - timedelta(seconds=1)) is written


def test_the_conditional_update_keeps_two_instances_from_writing_in_the_same_minute(db_env):
    from shared import db
    from shared.keys.service import record_use
    from shared.models import utcnow

    created = create(dev(user("race")))
    now = utcnow()
    with db.session() as session:
        assert record_use(session, created["keyId"], now) is True
    with db.session() as session:  # a second instance that last saw lastUsed as NULL
        assert record_use(session, created["keyId"], now + timedelta(seconds=30)) is False
    with db.session() as session:
        assert record_use(session, created["keyId"], now + timedelta(seconds=61)) is True


def test_no_key_or_hash_ever_reaches_a_log_line(db_env, app_logs):
    owner = dev(user("quiet"))
    created = create(owner)
    key, digest = created["key"], hashlib.sha256(created["key"].encode()).hexdigest()
    history = function_client("history")
    history.get("/", headers=bearer(key))
    history.get("/", headers=bearer(key[:-1] + ("0" if key[-1] != "0" else "1")))  # a wrong key
    function_client("keys").get("/", headers=bearer(key))  # refused where keys cannot sign in
    function_client("keys").delete(f"/?id={created['keyId']}", headers=owner)
    history.get("/", headers=bearer(key))  # revoked (after the TTL; refused or served, logged either way)
    assert len(app_logs) >= 5
    text = "\n".join(app_logs)
    assert key not in text and key[len("sk_live_") :] not in text and digest not in text


def test_a_key_created_with_an_expiry_is_refused_once_it_passes(db_env, pg_url):
    db_env(API_KEY_CACHE_SECONDS="0")
    owner = dev(user("expiring"))
    keys = function_client("keys")
    made = keys.post("/", json={"name": "CI", "expiresInDays": 30}, headers=owner)
    assert made.status_code == 201, made.json
    from shared.models import utcnow

    stored = row_of(pg_url, made.json["keyId"])["expiresAt"]
    assert timedelta(days=29, hours=23) < stored - utcnow() <= timedelta(days=30)
    assert made.json["expiresAt"].startswith(stored.isoformat()[:16])
    listed = keys.get("/", headers=owner).json
    assert listed[0]["expiresAt"] == made.json["expiresAt"]
    history = function_client("history")
    assert history.get("/", headers=bearer(made.json["key"])).status_code == 200
    sql(pg_url, """UPDATE "ApiKey" SET "expiresAt" = %s WHERE id = %s""", utcnow(), made.json["keyId"])
    refused = history.get("/", headers=bearer(made.json["key"]))
    assert refused.status_code == 401
    assert (refused.json["code"], refused.json["reason"]) == ("UNAUTHORIZED", "API_KEY_EXPIRED")
    assert "expired at" in refused.json["message"] and "create a new one" in refused.json["message"]


def test_an_expiry_as_a_date_time(db_env, pg_url):
    owner = dev(user("dated"))
    made = function_client("keys").post(
        "/", json={"name": "release", "expiresAt": "2030-01-02T03:04:05+02:00"}, headers=owner
    )
    assert made.status_code == 201, made.json
    assert made.json["expiresAt"] == "2030-01-02T01:04:05.000Z"
    assert row_of(pg_url, made.json["keyId"])["expiresAt"].isoformat() == "2030-01-02T01:04:05"
    plain = function_client("keys").post("/", json={"name": "forever"}, headers=owner)
    assert plain.json["expiresAt"] is None


@pytest.mark.parametrize(
    "body, problem",
    [
        ({"expiresAt": "2001-01-01T00:00:00Z"}, "in the future"),
        ({"expiresInDays": 0}, "expiresInDays"),
        ({"expiresInDays": 7, "expiresAt": "2099-01-01T00:00:00Z"}, "not both"),
        ({"expiresAt": "3000-01-01T00:00:00Z"}, "within 3650 days"),
    ],
)
def test_a_bad_expiry_is_400(db_env, body, problem):
    response = function_client("keys").post("/", json={"name": "x", **body}, headers=dev(user("bad_expiry")))
    assert response.status_code == 400 and response.json["code"] == "INVALID_INPUT"
    assert problem in response.json["message"]


def test_creating_keys_is_rate_limited_per_user_and_listing_is_not(db_env):
    db_env(RATE_LIMITS='{"keys": {"free": 3}}')
    keys = function_client("keys")
    owner, other = dev(user("hasty")), dev(user("calm"))
    statuses = [keys.post("/", json={"name": f"k{i}"}, headers=owner).status_code for i in range(5)]
    assert statuses == [201, 201, 201, 429, 429]
    limited = keys.post("/", json={"name": "k"}, headers=owner)
    assert limited.json["code"] == "RATE_LIMIT_EXCEEDED" and int(limited.headers["Retry-After"]) >= 1
    assert [keys.get("/", headers=owner).status_code for _ in range(5)] == [200] * 5
    assert "X-RateLimit-Limit" not in keys.get("/", headers=owner).headers
    assert keys.post("/", json={"name": "k"}, headers=other).status_code == 201  # per user
