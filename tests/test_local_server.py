"""The one-port local server mounts each function under its path, as deployed."""

from werkzeug.test import Client


def test_functions_are_mounted_by_path(settings_env, pg_url):
    settings_env(DATABASE_URL=pg_url)
    from scripts.local_server import build_app

    client = Client(build_app())
    response = client.get("/history", headers={"X-Dev-User": "local_server"})
    assert response.status_code == 200
    assert response.json == {"items": [], "nextCursor": None}
    missing = client.get("/nothing")
    assert missing.status_code == 404
    assert "/history" in missing.json["error"]
