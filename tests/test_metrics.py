"""POST /metrics: the front end's web-vitals beacons, as sendBeacon posts them (a JSON string sent as
text/plain), validated, size-capped, one log line each, 204; limited per client address."""

from __future__ import annotations

import json

import pytest

from tests.conftest import REDIS_URL, function_client

# What web-vitals hands Next.js's useReportWebVitals callback, JSON.stringify'd by WebVitals.tsx.
LCP = {
    "name": "LCP",
    "value": 1834.5,
    "rating": "good",
    "delta": 1834.5,
    "id": "v4-1732550000000-8123456789012",
    "entries": [{"name": "", "entryType": "largest-contentful-paint", "startTime": 1834.5, "size": 50820}],
    "navigationType": "navigate",
}


def vital_lines(app_logs: list[str]) -> list[dict]:
    return [entry for entry in map(json.loads, app_logs) if "webVital" in entry]


def beacon(body, *, content_type: str = "text/plain;charset=UTF-8", address: str = "198.51.100.7", **headers):
    data = body if isinstance(body, (str, bytes)) else json.dumps(body)
    return function_client("metrics").post(
        "/", data=data, headers={"Content-Type": content_type, "X-Forwarded-For": address, **headers}
    )


def test_a_beacon_is_one_log_line_and_204(auth_env, app_logs):
    # Clerk is on, and the beacon carries no session: none is needed.
    response = beacon(LCP, Referer="https://app.example.com/dashboard?token=abc#x")
    assert response.status_code == 204
    assert response.data == b""
    [line] = vital_lines(app_logs)
    assert line["severity"] == "INFO"
    assert line["webVital"] == {
        "name": "LCP",
        "value": 1834.5,
        "rating": "good",
        "delta": 1834.5,
        "id": LCP["id"],
        "navigationType": "navigate",
        "page": "/dashboard",
    }
    assert line["requestId"]


@pytest.mark.parametrize("content_type", ["application/json", "text/plain"])
def test_json_and_plain_text_are_both_taken(db_env, content_type):
    cls = {"name": "CLS", "value": 0.02, "id": "v4-1", "rating": "good", "delta": 0.02}
    assert beacon(cls, content_type=content_type).status_code == 204


def test_nextjs_custom_metrics_are_taken(db_env):
    custom = {"name": "Next.js-hydration", "value": 12.3, "id": "1732550000-1", "label": "custom", "startTime": 3.2}
    assert beacon(custom).status_code == 204


def test_an_oversize_beacon_is_413(db_env, app_logs):
    big = {**LCP, "entries": [{"name": "x" * (64 * 1024)}]}  # past what one sendBeacon carries
    response = beacon(big)
    assert response.status_code == 413
    assert not vital_lines(app_logs)


@pytest.mark.parametrize(
    "body",
    [
        "not json",
        "[]",
        {**LCP, "name": "Bogus"},
        {**LCP, "value": -1},
        '{"name": "LCP", "value": 1e999, "id": "v4-1"}',
        {**LCP, "rating": "excellent"},
        {key: value for key, value in LCP.items() if key != "id"},
        {**LCP, "id": "has spaces\nand lines"},
    ],
    ids=["not json", "array", "unknown name", "negative", "infinite", "bad rating", "no id", "bad id"],
)
def test_bad_beacons_are_400_and_not_logged(db_env, app_logs, body):
    response = beacon(body)
    assert response.status_code == 400
    assert not vital_lines(app_logs)


def test_other_content_types_are_400(db_env):
    assert beacon("name=LCP", content_type="application/x-www-form-urlencoded").status_code == 400


def test_the_limit_is_per_client_address(db_env, redis_prefix):
    db_env(REDIS_URL=REDIS_URL, RATE_LIMIT_PREFIX=redis_prefix, RATE_LIMITS='{"metrics": {"free": 3}}')
    statuses = [beacon(LCP, address="203.0.113.5").status_code for _ in range(3)]
    refused = beacon(LCP, address="203.0.113.5")
    assert statuses == [204, 204, 204]
    assert refused.status_code == 429 and refused.headers["Retry-After"]
    # What the client put in front of the address Google appended does not make it someone else.
    assert beacon(LCP, address="10.9.9.9, 203.0.113.5").status_code == 429
    assert beacon(LCP, address="203.0.113.6").status_code == 204


def test_behind_the_load_balancer_the_client_is_the_second_address_from_the_end(db_env, redis_prefix):
    db_env(
        REDIS_URL=REDIS_URL,
        RATE_LIMIT_PREFIX=redis_prefix,
        RATE_LIMITS='{"metrics": {"free": 1}}',
        TRUSTED_PROXY_HOPS="2",
    )
    assert beacon(LCP, address="spoofed, 203.0.113.9, 34.120.0.1").status_code == 204
    assert beacon(LCP, address="other, 203.0.113.9, 34.120.0.1").status_code == 429
    assert beacon(LCP, address="203.0.113.10, 34.120.0.1").status_code == 204


def test_only_post(db_env):
    assert function_client("metrics").get("/").status_code == 405
