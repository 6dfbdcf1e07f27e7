"""The one-port local server serves the web app's /api paths from the routes table, and each
function under its own name, as deployed."""

from werkzeug.test import Client


def test_web_app_paths_and_function_names_are_served(settings_env, pg_url):
    settings_env(DATABASE_URL=pg_url)
    from scripts.local_server import build_app

    client = Client(build_app())
    user = {"X-Dev-User": "local_server"}
    assert client.get("/api/history", headers=user).json == {"history": [], "nextCursor": None}
    assert client.get("/history", headers=user).json == {"history": [], "nextCursor": None}
    # a path rewritten to another of the function's own: /api/subscription is billing's GET /
    billing = client.get("/api/subscription", headers=user)
    assert billing.status_code == 200 and billing.json == {"subscription": None}  # read without Stripe
    rated = client.post("/api/history/feedback", json={"reviewId": "nope", "rating": 3}, headers=user)
    assert rated.status_code == 404 and rated.json["code"] == "NOT_FOUND"
    missing = client.get("/nothing")
    assert missing.status_code == 404
    assert missing.json["code"] == "NOT_FOUND" and "/api/history" in missing.json["message"]
