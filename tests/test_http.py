"""The request pipeline every function shares (shared/http.py), through the history and billing
functions: body limits, methods, sign-in, request ids, CORS, a database that is down, usage rows,
and the log line that names the caller's /api path (shared/routes.py) beside the function and the
path the function saw, as Cloud Logging's httpRequest.requestUrl and in the message."""

from __future__ import annotations

import json

import psycopg
import pytest

from shared import usage
from tests.conftest import function_client
from tests.support.history import add, as_user, unique_user


@pytest.fixture
def client(db_env):
    return function_client("history")


def test_malformed_and_empty_and_oversized_bodies(client):
    user = unique_user("body")
    not_json = client.post("/", data="{nope", headers={**as_user(user), "Content-Type": "application/json"})
    assert (not_json.status_code, not_json.json["error"]) == (400, "The request body is not valid JSON.")
    empty = client.post("/", data="", headers=as_user(user))
    assert (empty.status_code, empty.json["code"]) == (400, "INVALID_INPUT")
    past_the_platform = json.dumps({"type": "code", "feedback": "ok", "code": "x" * (32 * 1024 * 1024)})
    huge = client.post("/", data=past_the_platform, headers=as_user(user))
    assert huge.status_code == 413
    assert huge.json["reason"] == "PAYLOAD_TOO_LARGE"
    assert "33554432 bytes" in huge.json["error"]


def test_other_methods_get_405_with_allow(client):
    response = client.put("/", json={}, headers=as_user("someone"))
    assert response.status_code == 405
    assert response.json["reason"] == "METHOD_NOT_ALLOWED"
    assert response.headers["Allow"] == "GET, POST, DELETE, OPTIONS"


def test_missing_user_is_401(client):
    response = client.get("/")
    assert response.status_code == 401
    assert response.json["code"] == "UNAUTHORIZED"
    assert response.headers["X-Request-ID"]


def test_request_id_is_echoed_when_well_formed(client):
    response = client.get("/", headers={**as_user("rid"), "X-Request-ID": "trace-0123456789"})
    assert response.headers["X-Request-ID"] == "trace-0123456789"
    forged = client.get("/", headers={**as_user("rid"), "X-Request-ID": "bad id <script>"})
    assert forged.headers["X-Request-ID"] != "bad id <script>"


def test_cors_allows_only_configured_origins(db_env):
    db_env(ALLOWED_ORIGINS="https://app.example.com")
    client = function_client("history")
    ok = client.options("/", headers={"Origin": "https://app.example.com", "Access-Control-Request-Method": "GET"})
    assert ok.status_code == 204
    assert ok.headers["Access-Control-Allow-Origin"] == "https://app.example.com"
    assert "DELETE" in ok.headers["Access-Control-Allow-Methods"]
    assert "Authorization" in ok.headers["Access-Control-Allow-Headers"]
    denied = client.options("/", headers={"Origin": "https://evil.example", "Access-Control-Request-Method": "GET"})
    assert denied.status_code == 403
    assert "Access-Control-Allow-Origin" not in denied.headers
    plain = client.get("/", headers={**as_user("cors"), "Origin": "https://evil.example"})
    assert "Access-Control-Allow-Origin" not in plain.headers
    allowed = client.get("/", headers={**as_user("cors"), "Origin": "https://app.example.com"})
    assert allowed.headers["Access-Control-Allow-Origin"] == "https://app.example.com"
    assert "X-RateLimit-Remaining" in allowed.headers["Access-Control-Expose-Headers"]


def test_database_down_is_503_not_an_empty_list(settings_env):
    settings_env(DATABASE_URL="postgresql://postgres@127.0.0.1:1/nothing")
    client = function_client("history")
    response = client.get("/", headers=as_user("down"))
    assert response.status_code == 503
    message = "The database is unreachable; try again shortly."
    assert response.json == {
        "code": "DATABASE_ERROR",
        "message": message,
        "error": message,
        "retryable": True,
        "reason": "DATABASE_UNAVAILABLE",
    }


def test_each_call_records_usage(client, pg_url):
    user = unique_user("usage")
    add(client, user)
    client.get("/", headers=as_user(user))
    client.get("/", query_string={"limit": 0}, headers=as_user(user))
    usage.flush()  # rows are written in batches, off the request's path
    with psycopg.connect(pg_url) as conn:
        rows = conn.execute(
            'SELECT endpoint, "statusCode", duration FROM "ApiUsage" WHERE "userId" = %s ORDER BY timestamp', (user,)
        ).fetchall()
    assert [(endpoint, status) for endpoint, status, _ in rows] == [
        ("/history", 201),
        ("/history", 200),
        ("/history", 400),
    ]
    assert all(duration >= 0 for _, _, duration in rows)


def request_lines(lines: list[str]) -> list[dict]:
    return [entry for entry in map(json.loads, lines) if entry.get("logger") == "coderevai.http"]


def test_the_log_line_names_the_callers_api_path(db_env, app_logs):
    user = {"X-Dev-User": "logged_user"}
    function_client("billing").get("/", headers=user)
    function_client("billing").post("/portal", headers=user)
    function_client("history").post("/feedback", json={"reviewId": "none", "rating": 3}, headers=user)
    subscription, portal, feedback = request_lines(app_logs)
    assert subscription["httpRequest"]["requestUrl"] == "/api/subscription"
    assert (subscription["function"], subscription["functionPath"]) == ("billing", "/")
    assert subscription["message"].startswith("GET /api/subscription -> 200 in ")
    assert subscription["message"].endswith("(billing /)")
    assert portal["httpRequest"]["requestUrl"] == "/api/customer-portal" and portal["functionPath"] == "/portal"
    assert portal["errorCode"] == "BILLING_DISABLED"
    assert feedback["httpRequest"]["requestUrl"] == "/api/history/feedback" and feedback["function"] == "history"


def test_a_path_no_route_serves_keeps_the_functions_name(db_env, app_logs):
    function_client("billing").post("/elsewhere", json={}, headers={"X-Dev-User": "logged_user"})
    [line] = request_lines(app_logs)
    assert line["httpRequest"]["requestUrl"] == "/billing"
    assert line["functionPath"] == "/elsewhere"


def test_a_function_whose_options_contradict_each_other_does_not_start():
    from shared.http import endpoint

    with pytest.raises(ValueError, match="rate limits are per user"):
        endpoint("probe", methods=("post",), authenticated=False, limit="history")
    with pytest.raises(ValueError, match="idempotency keys are per user"):
        endpoint("probe", methods=("post",), authenticated=False, idempotent=True)
    with pytest.raises(TypeError):
        endpoint("probe", methods=("post",), limts="history")  # a misspelt option is refused too


def test_methods_are_matched_whatever_case_the_function_names_them_in(db_env):
    import flask

    from shared.http import Call, endpoint

    @endpoint("probe", methods=("get",), authenticated=False)
    def probe(call: Call):
        return {"ok": True}

    app = flask.Flask("probe")
    app.add_url_rule("/", view_func=lambda: probe(flask.request), methods=["GET", "POST"])
    client = app.test_client()
    assert client.get("/").json == {"ok": True}
    refused = client.post("/")
    assert (refused.status_code, refused.headers["Allow"]) == (405, "GET, OPTIONS")
