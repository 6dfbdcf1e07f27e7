"""Each call's log line names the /api path the caller used (shared/routes.py) beside the function
and the path the function saw, as Cloud Logging's httpRequest.requestUrl and in the message."""

from __future__ import annotations

import json

from tests.conftest import function_client


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
