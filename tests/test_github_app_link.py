"""Linking an installation to a signed-in user (the setup redirect), and the schema of
.coderevai.yml: what it accepts, what it refuses, and its published JSON Schema."""

from __future__ import annotations

from urllib.parse import parse_qs, urlsplit

import psycopg
import pytest

from tests.conftest import function_client
from tests.support.github_app import INSTALLATION


@pytest.fixture
def linking(app_env, fake_github):
    app_env(
        GITHUB_APP_CLIENT_ID=fake_github.client_id,
        GITHUB_APP_CLIENT_SECRET=fake_github.client_secret,
        GITHUB_APP_SETUP_RETURN_URL="/settings",
    )
    fake_github.user_installations["octo-admin"] = [INSTALLATION, 99]
    return function_client("github_app")


def start(client, user: str = "user_linker") -> str:
    response = client.get("/install", headers={"X-Dev-User": user})
    assert response.status_code == 302, response.get_json()
    location = urlsplit(response.headers["Location"])
    assert location.path == "/apps/coderevai-test/installations/new"
    return parse_qs(location.query)["state"][0]


def setup(client, state: str, *, code: str = "code-1", installation: int = INSTALLATION, user: str = "user_linker"):
    query = {"installation_id": installation, "setup_action": "install", "code": code, "state": state}
    return client.get("/setup", query_string=query, headers={"X-Dev-User": user})


def linked_user(pg_url: str, installation: int) -> str | None:
    with psycopg.connect(pg_url) as conn:
        row = conn.execute('SELECT "userId" FROM "GitHubInstallation" WHERE id = %s', (installation,)).fetchone()
    return row[0] if row else None


def test_an_installation_is_linked_through_the_setup_redirect(linking, fake_github, pg_url):
    state = start(linking)
    fake_github.oauth_codes["code-1"] = "octo-admin"
    response = setup(linking, state)
    assert response.status_code == 302, response.get_json()
    assert response.headers["Location"] == f"/settings?github=linked&installation={INSTALLATION}"
    assert linked_user(pg_url, INSTALLATION) == "user_linker"
    listed = linking.get("/", headers={"X-Dev-User": "user_linker"}).get_json()["installations"]
    assert [(i["id"], i["active"]) for i in listed] == [(INSTALLATION, True)]
    assert linking.get("/", headers={"X-Dev-User": "someone_else"}).get_json() == {"installations": []}


def test_a_user_who_cannot_administer_the_installation_links_nothing(linking, fake_github, pg_url):
    state = start(linking)
    fake_github.oauth_codes["code-1"] = "outsider"  # GET /user/installations lists nothing for them
    response = setup(linking, state)
    assert response.status_code == 403 and response.get_json()["reason"] == "NOT_YOUR_INSTALLATION"
    assert linked_user(pg_url, INSTALLATION) is None


def test_a_setup_link_started_by_another_account_links_nothing(linking, fake_github, pg_url):
    """Someone sends you their own setup redirect: it must not attach their installation to your plan."""
    theirs = start(linking, user="user_attacker")
    fake_github.oauth_codes["code-1"] = "octo-admin"
    response = setup(linking, theirs, user="user_victim")
    assert response.status_code == 403 and response.get_json()["reason"] == "SETUP_STATE"
    assert linked_user(pg_url, INSTALLATION) is None
    forged = setup(linking, "not-a-state")
    assert forged.status_code == 403


def test_a_code_github_does_not_accept_is_400(linking, fake_github):
    response = setup(linking, start(linking), code="used-or-made-up")
    assert response.status_code == 400 and response.get_json()["code"] == "INVALID_INPUT"


def test_linking_needs_a_signed_in_user(linking, app_env, clerk_keys):
    app_env(CLERK_JWT_KEY=clerk_keys.public_pem)
    assert linking.get("/install").status_code == 401


def test_a_linked_installation_reviews_on_its_users_plan(linking, fake_github, pg_url):
    from shared.github_app.installations import standing

    with psycopg.connect(pg_url, autocommit=True) as conn:
        conn.execute(
            'INSERT INTO "UserSubscription" (id, "userId", "stripeCustomerId", plan, status, "cancelAtPeriodEnd", "createdAt", "updatedAt") '
            "VALUES ('sub_link_1', 'user_pro', 'cus_link_1', 'pro', 'active', false, now(), now()) ON CONFLICT DO NOTHING"
        )
    assert standing(INSTALLATION).plan == "free"  # unknown: the free plan's limits
    fake_github.oauth_codes["code-1"] = "octo-admin"
    assert setup(linking, start(linking, user="user_pro"), user="user_pro").status_code == 302
    assert standing(INSTALLATION) == (True, "user_pro", "pro")
