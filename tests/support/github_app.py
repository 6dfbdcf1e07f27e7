"""The GitHub App's test rig: the app's RSA key, the fake GitHub (tests/fakes/github.py's
FakeGitHubApp), the fake Cloud Tasks, the private worker served over HTTP as functions-framework
builds it, and signed deliveries as GitHub sends them."""

from __future__ import annotations

import json
import threading
import uuid

import pytest
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import rsa

from shared.github_app.signature import sign
from tests.conftest import ROOT

APP_ID = "31337"
WEBHOOK_SECRET = "whsec-github-test-0123456789"
QUEUE = "projects/test-project/locations/us-central1/queues/coderevai-reviews"
WORKER_ACCOUNT = "coderevai-tasks@test-project.iam.gserviceaccount.com"
INSTALLATION = 42


class AppKey:
    def __init__(self) -> None:
        self.private = rsa.generate_private_key(public_exponent=65537, key_size=2048)
        self.private_pem = self.private.private_bytes(
            serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, serialization.NoEncryption()
        ).decode()
        self.public_pem = (
            self.private.public_key()
            .public_bytes(serialization.Encoding.PEM, serialization.PublicFormat.SubjectPublicKeyInfo)
            .decode()
        )


@pytest.fixture(scope="session")
def app_key() -> AppKey:
    return AppKey()


@pytest.fixture(scope="module")
def github_server(app_key):
    from tests.fakes.github import FakeGitHubApp

    with FakeGitHubApp(APP_ID, app_key.public_pem) as fake:
        yield fake


@pytest.fixture
def fake_github(github_server):
    """The fake GitHub with no repository, token or code left by an earlier test."""
    github_server.repos.clear()
    github_server.tokens.clear()
    github_server.token_calls.clear()
    github_server.oauth_codes.clear()
    github_server.user_installations.clear()
    github_server.requests.clear()
    return github_server


@pytest.fixture
def app_env(db_env, pg_url, fake_github, app_key, redis_prefix):
    """The app configured against the fake GitHub, on the embedded queue (no CLOUD_TASKS_QUEUE),
    with no installation, delivery or run left by an earlier test (this run's own database)."""
    import psycopg

    from shared.github_app import auth

    with psycopg.connect(pg_url, autocommit=True) as conn:
        conn.execute('DELETE FROM "GitHubInstallation"; DELETE FROM "GitHubDelivery"; DELETE FROM "GitHubReviewRun"')

    db_env(
        GITHUB_APP_ID=APP_ID,
        GITHUB_APP_PRIVATE_KEY=app_key.private_pem,
        GITHUB_WEBHOOK_SECRET=WEBHOOK_SECRET,
        GITHUB_API_URL=fake_github.url,
        GITHUB_WEB_URL=fake_github.url,
        REDIS_URL="redis://127.0.0.1:6379/0",
        RATE_LIMIT_PREFIX=redis_prefix,
    )
    auth.forget_all()
    yield db_env
    auth.forget_all()


def serve_function(name: str):
    """The function on a local port, as Cloud Run serves it (werkzeug in a thread)."""
    import functions_framework
    from werkzeug.serving import make_server

    app = functions_framework.create_app(name, str(ROOT / "functions" / name / "main.py"))
    server = make_server("127.0.0.1", 0, app, threaded=True)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    return server, f"http://127.0.0.1:{server.server_port}/"


@pytest.fixture(scope="module")
def worker_server():
    server, url = serve_function("review_worker")
    yield url
    server.shutdown()


@pytest.fixture(scope="module")
def tasks_server():
    from tests.fakes.cloud_tasks import FakeCloudTasks

    with FakeCloudTasks() as fake:
        yield fake


@pytest.fixture
def queue_env(app_env, tasks_server, worker_server):
    """The app with the review queue on the fake Cloud Tasks, dispatching to the worker over HTTP."""
    tasks_server.tasks.clear()
    tasks_server.attempts.clear()
    tasks_server.refused.clear()
    tasks_server.answers.clear()
    tasks_server.dispatching = True
    app_env(
        CLOUD_TASKS_QUEUE=QUEUE,
        CLOUD_TASKS_API_URL=tasks_server.url,
        REVIEW_WORKER_URL=worker_server,
        REVIEW_WORKER_SERVICE_ACCOUNT=WORKER_ACCOUNT,
        REVIEW_WORKER_CERTS_URL=tasks_server.certs_url,
    )
    return tasks_server


@pytest.fixture
def queued_webhook(queue_env):
    """The webhook function, its tasks going through the fake Cloud Tasks to the worker."""
    from tests.conftest import function_client

    return function_client("github_webhook")


def delivery(event: str, payload: dict, *, secret: str = WEBHOOK_SECRET, delivery_id: str | None = None):
    """(body, headers) of a delivery as GitHub signs it."""
    body = json.dumps(payload).encode()
    headers = {
        "X-GitHub-Event": event,
        "X-GitHub-Delivery": delivery_id or str(uuid.uuid4()),
        "X-Hub-Signature-256": sign(body, secret),
        "Content-Type": "application/json",
        "User-Agent": "GitHub-Hookshot/test",
    }
    return body, headers


def pull_request_event(repo, number: int, *, action: str = "opened", installation: int = INSTALLATION) -> dict:
    pull = repo.pulls[number]
    return {
        "action": action,
        "number": number,
        "pull_request": {k: pull[k] for k in ("number", "state", "draft", "head", "base", "user")},
        "repository": {"id": repo.id, "full_name": repo.full_name},
        "installation": {
            "id": installation,
            "account": {"login": repo.full_name.split("/")[0], "type": "Organization"},
        },
        "sender": pull["user"],
    }


def comment_event(
    repo,
    number: int,
    body: str,
    *,
    login: str = "maintainer",
    installation: int = INSTALLATION,
    user_type: str = "User",
) -> dict:
    return {
        "action": "created",
        "issue": {
            "number": number,
            "pull_request": {"url": f"https://api.github.test/repos/{repo.full_name}/pulls/{number}"},
        },
        "comment": {"id": uuid.uuid4().int % 10**9, "body": body, "user": {"login": login, "type": user_type}},
        "repository": {"id": repo.id, "full_name": repo.full_name},
        "installation": {"id": installation},
        "sender": {"login": login, "type": user_type},
    }
