"""Who talks to whom: the worker takes tasks only with the queue's OIDC token (google-auth's
verification against the fake's certificates: signature, expiry, audience, issuer, account), and
the app reaches GitHub with an RS256 app JWT the fake checks against the app's public key, then
an installation token kept until shortly before it expires."""

from __future__ import annotations

import time

import httpx
import jwt
import pytest

from shared.github_app import auth, client
from tests.support.github_app import APP_ID, INSTALLATION, WORKER_ACCOUNT, AppKey

TASK = {
    "installationId": INSTALLATION,
    "repository": "octo/app",
    "repositoryId": 100,
    "pullNumber": 7,
    "headSha": "a" * 40,
    "deliveryId": "d-1",
}


@pytest.fixture
def worker(queue_env, worker_server, fake_github):
    fake_github.repository("octo/app", installation_id=INSTALLATION)  # no pull request 7: a valid task is dropped
    return worker_server


def post(url: str, token: str | None, body: dict = TASK) -> httpx.Response:
    headers = {"Authorization": f"Bearer {token}"} if token else {}
    return httpx.post(url, json=body, headers=headers, timeout=30)


def test_a_task_with_the_queues_token_runs(worker, queue_env):
    response = post(worker, queue_env.token(WORKER_ACCOUNT, worker))
    assert response.status_code == 200, response.text
    assert response.json()["outcome"] == "dropped: the pull request cannot be read (404)"


@pytest.mark.parametrize(
    ("make", "status"),
    [
        (lambda fake, url: None, 401),
        (lambda fake, url: "not-a-jwt", 401),
        (lambda fake, url: fake.token(WORKER_ACCOUNT, "https://elsewhere.example/worker"), 401),
        (lambda fake, url: fake.token(WORKER_ACCOUNT, url, lifetime=-600), 401),
        (lambda fake, url: fake.token(WORKER_ACCOUNT, url, iss="https://evil.example"), 401),
        (lambda fake, url: fake.token("someone@else.iam.gserviceaccount.com", url), 403),
        (lambda fake, url: fake.token(WORKER_ACCOUNT, url, email_verified=False), 403),
        (
            lambda fake, url: jwt.encode(
                {
                    "aud": url,
                    "email": WORKER_ACCOUNT,
                    "iss": "https://accounts.google.com",
                    "exp": int(time.time()) + 60,
                    "iat": int(time.time()),
                    "email_verified": True,
                },
                AppKey().private,
                algorithm="RS256",
                headers={"kid": fake.kid},
            ),
            401,
        ),
    ],
    ids=[
        "no token",
        "garbage",
        "other audience",
        "expired",
        "other issuer",
        "other account",
        "unverified email",
        "other key",
    ],
)
def test_a_task_without_a_valid_token_is_refused(worker, queue_env, make, status):
    response = post(worker, make(queue_env, worker))
    assert response.status_code == status, response.text
    assert response.json()["code"] == "UNAUTHORIZED"


def test_a_worker_without_its_settings_takes_no_task(worker, queue_env, app_env):
    app_env(REVIEW_WORKER_SERVICE_ACCOUNT=None)
    response = post(worker, queue_env.token(WORKER_ACCOUNT, worker))
    assert response.status_code == 401 and response.json()["reason"] == "WORKER_NOT_CONFIGURED"


def test_an_installation_token_is_kept_until_shortly_before_it_expires(app_env, fake_github):
    repo = fake_github.repository("octo/app", installation_id=INSTALLATION)
    repo.open_pull_request(1, repo.commit({"a.py": "x = 1\n"}, branch="main"))
    github = client.Installation(INSTALLATION)
    for _ in range(3):
        assert github.get("/repos/octo/app/pulls/1")["number"] == 1
    assert fake_github.token_calls == [INSTALLATION]
    # Five minutes before its expiry it is renewed, not used.
    key = next(iter(auth._tokens))
    token, _until = auth._tokens[key]
    auth._tokens[key] = (token, time.time() - 1)
    client.installation_token(INSTALLATION)
    assert fake_github.token_calls == [INSTALLATION, INSTALLATION]


def test_a_revoked_token_is_replaced_once(app_env, fake_github):
    fake_github.repository("octo/app", installation_id=INSTALLATION)
    github = client.Installation(INSTALLATION)
    with pytest.raises(client.GitHubError):
        github.get("/repos/octo/app/pulls/1")  # 404: no such pull request, but the token worked
    fake_github.tokens.clear()  # GitHub revoked it
    with pytest.raises(client.GitHubError) as caught:
        github.get("/repos/octo/app/pulls/1")
    assert caught.value.github_status == 404  # not 401: a fresh token was fetched and used
    assert len(fake_github.token_calls) == 2


def test_the_app_jwt_is_refused_when_signed_by_another_key(app_env, fake_github):
    app_env(GITHUB_APP_PRIVATE_KEY=AppKey().private_pem)
    auth.forget_all()
    with pytest.raises(client.GitHubError) as caught:
        client.installation_token(INSTALLATION)
    assert caught.value.github_status == 401 and not caught.value.retryable


def test_the_app_jwt_names_the_app_and_lives_ten_minutes_at_most(app_env, app_key):
    claims = jwt.decode(auth.app_jwt(), app_key.public_pem, algorithms=["RS256"])
    assert claims["iss"] == APP_ID and 0 < claims["exp"] - claims["iat"] <= 600
    assert auth.app_jwt() == auth.app_jwt()  # reused while it has time left


def test_a_key_that_is_not_pem_is_a_clear_error_without_the_key(app_env):
    app_env(GITHUB_APP_PRIVATE_KEY="not-a-key-but-a-secret-value")
    auth.forget_all()
    with pytest.raises(client.ApiError) as caught:
        auth.app_jwt()
    assert caught.value.code == "GITHUB_APP_KEY" and "secret-value" not in caught.value.message


def test_a_rate_limited_call_is_retryable_with_githubs_wait(app_env, fake_github):
    from tests.fakes.server import Reply

    reset = str(int(time.time()) + 120)
    fake_github.route(
        "GET",
        "/repos/octo/limited",
        Reply(403, {"message": "API rate limit exceeded"}, {"X-RateLimit-Remaining": "0", "X-RateLimit-Reset": reset}),
    )
    fake_github.repository("octo/limited", installation_id=INSTALLATION)
    with pytest.raises(client.GitHubError) as caught:
        client.Installation(INSTALLATION).get("/repos/octo/limited/pulls/1")
    assert caught.value.retryable and caught.value.code == "GITHUB_RATE_LIMITED"
    assert 100 <= int(caught.value.headers["Retry-After"]) <= 121


def test_production_wants_the_queue_with_the_app(settings_env):
    from shared.config import ConfigError, Settings

    settings_env(
        APP_ENV="production",
        DATABASE_URL="postgresql://u@h/db",
        REDIS_URL="redis://h:6379/0",
        CLERK_SECRET_KEY="sk_test_x",
        GITHUB_APP_ID=APP_ID,
        GITHUB_APP_PRIVATE_KEY="pem",
        GITHUB_WEBHOOK_SECRET="s",
    )
    with pytest.raises(ConfigError, match="CLOUD_TASKS_QUEUE must be set when GITHUB_APP_ID is set"):
        Settings()
