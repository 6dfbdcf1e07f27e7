"""Shared fixtures: a fresh PostgreSQL database per test run (created, migrated, dropped), the
settings environment, Clerk-style RSA keys and tokens, and function clients built by
functions-framework exactly as Cloud Functions builds them."""

from __future__ import annotations

import os
import sys
import time
import uuid
from pathlib import Path

import jwt
import psycopg
import pytest
from alembic import command
from alembic.config import Config
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import rsa

from shared.config import Settings

# Fixtures that tests in several modules use, defined beside their helpers.
pytest_plugins = ["tests.support.cli", "tests.support.billing", "tests.support.github_app"]

ROOT = Path(__file__).resolve().parent.parent
ADMIN_URL = os.environ.get("TEST_ADMIN_DATABASE_URL", "postgresql://postgres@127.0.0.1:5432/postgres")
REDIS_URL = os.environ.get("TEST_REDIS_URL", "redis://127.0.0.1:6379/0")

# Every variable the app reads (the settings class's fields): each test starts from a clean slate,
# then sets what it needs.
APP_VARIABLES = tuple(name.upper() for name in Settings.model_fields)
GATEWAY_TOKEN = "test-gateway-token"


def create_database(prefix: str = "crv_test") -> str:
    name = f"{prefix}_{os.getpid()}_{uuid.uuid4().hex[:8]}"
    with psycopg.connect(ADMIN_URL, autocommit=True) as conn:
        conn.execute(f'CREATE DATABASE "{name}"')
    return ADMIN_URL.rsplit("/", 1)[0] + "/" + name


def drop_database(url: str) -> None:
    name = url.rsplit("/", 1)[1]
    with psycopg.connect(ADMIN_URL, autocommit=True) as conn:
        conn.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')


def alembic_config(url: str) -> Config:
    config = Config(str(ROOT / "alembic.ini"))
    config.attributes["url"] = url.replace("postgresql://", "postgresql+psycopg://", 1)
    config.attributes["configure_logger"] = False
    return config


def migrate(url: str, revision: str = "head") -> None:
    command.upgrade(alembic_config(url), revision)


@pytest.fixture(scope="session")
def pg_url():
    """A migrated PostgreSQL database for the whole run."""
    url = create_database()
    migrate(url)
    yield url
    drop_database(url)


@pytest.fixture
def empty_pg_url():
    """An empty PostgreSQL database for one test."""
    url = create_database("crv_empty")
    yield url
    drop_database(url)


@pytest.fixture
def settings_env(monkeypatch):
    """Set app variables for one test: `settings_env(DATABASE_URL=..., APP_ENV=...)`."""
    from shared.config import get_settings

    for name in APP_VARIABLES:
        monkeypatch.delenv(name, raising=False)
    monkeypatch.setenv("LOG_LEVEL", "WARNING")

    def apply(**values: str | None) -> None:
        flush_usage()
        for name, value in values.items():
            if value is None:
                monkeypatch.delenv(name, raising=False)
            else:
                monkeypatch.setenv(name, value)
        get_settings.cache_clear()

    apply()
    yield apply
    flush_usage()
    get_settings.cache_clear()


def flush_usage() -> None:
    """Usage rows are written in batches: write the waiting ones to the database they belong to
    before the settings point elsewhere."""
    if "shared.usage" in sys.modules:
        sys.modules["shared.usage"].flush()


@pytest.fixture
def db_env(settings_env, pg_url):
    """The development environment on the test PostgreSQL database."""
    settings_env(DATABASE_URL=pg_url)
    return settings_env


class ClerkKeys:
    """An RSA key pair standing in for a Clerk instance's signing key."""

    def __init__(self, kid: str = "ins_test_key") -> None:
        self.kid = kid
        self.private = rsa.generate_private_key(public_exponent=65537, key_size=2048)
        self.public_pem = (
            self.private.public_key()
            .public_bytes(serialization.Encoding.PEM, serialization.PublicFormat.SubjectPublicKeyInfo)
            .decode()
        )

    def token(self, sub: str = "user_test", *, lifetime: int = 60, headers: dict | None = None, **claims) -> str:
        now = int(time.time())
        body = {"sub": sub, "iat": now, "nbf": now - 1, "exp": now + lifetime, "iss": "https://clerk.test", **claims}
        return jwt.encode(body, self.private, algorithm="RS256", headers={"kid": self.kid, **(headers or {})})

    def jwk(self) -> dict:
        import json

        data = json.loads(jwt.algorithms.RSAAlgorithm.to_jwk(self.private.public_key()))
        return {**data, "kid": self.kid, "use": "sig", "alg": "RS256"}


@pytest.fixture(scope="session")
def clerk_keys() -> ClerkKeys:
    return ClerkKeys()


@pytest.fixture
def auth_env(db_env, clerk_keys):
    """Clerk configured with a networkless PEM key and one authorized party."""
    db_env(CLERK_JWT_KEY=clerk_keys.public_pem, CLERK_AUTHORIZED_PARTIES="https://app.example.com")
    return db_env


def function_client(name: str):
    """A test client for one function; every response it gets is checked against openapi.yaml."""
    import functions_framework
    from flask.testing import FlaskClient

    from tests.support.openapi_check import check_response

    class DocumentedClient(FlaskClient):
        def open(self, *args, **kwargs):
            response = super().open(*args, **kwargs)
            check_response(name, response)
            return response

    app = functions_framework.create_app(name, str(ROOT / "functions" / name / "main.py"))
    app.test_client_class = DocumentedClient
    return app.test_client()


@pytest.fixture
def client_for():
    return function_client


def bearer(token: str) -> dict[str, str]:
    return {"Authorization": f"Bearer {token}"}


@pytest.fixture
def gemini(db_env):
    """The fake Gemini (tests/fakes/gemini.py) configured as the model: three attempts, short backoff."""
    from tests.fakes.gemini import FakeGemini

    with FakeGemini() as fake:
        db_env(GEMINI_API_KEY="test-gemini-key", GEMINI_BASE_URL=fake.url, GEMINI_RETRY_DELAY_SECONDS="0.01")
        yield fake


OPENAI_TEST_MODEL = "llama3.1:8b"


@pytest.fixture
def openai_server(db_env):
    """The fake chat-completions server (tests/fakes/openai_chat.py) as the model, as a local Ollama
    or vLLM would be configured: three attempts, short backoff."""
    from tests.fakes.openai_chat import FakeOpenAI

    with FakeOpenAI(api_key="test-openai-key") as fake:
        db_env(
            MODEL_PROVIDER="openai",
            OPENAI_BASE_URL=fake.url,
            OPENAI_API_KEY="test-openai-key",
            OPENAI_MODEL=OPENAI_TEST_MODEL,
            OPENAI_RETRY_DELAY_SECONDS="0.01",
        )
        yield fake


@pytest.fixture
def vertex_gemini(db_env, tmp_path):
    """The fake Gemini reached through Vertex AI, as on Google Cloud: the project and location
    settings, and application default credentials (a service-account file whose token endpoint
    is the fake); no API key anywhere."""
    from tests.fakes.gemini import FakeGemini

    with FakeGemini() as fake:
        db_env(
            GOOGLE_GENAI_USE_VERTEXAI="true",
            GOOGLE_CLOUD_PROJECT="test-project",
            GOOGLE_CLOUD_LOCATION="us-central1",
            GEMINI_BASE_URL=fake.url,
            GEMINI_RETRY_DELAY_SECONDS="0.01",
            GOOGLE_APPLICATION_CREDENTIALS=str(fake.credentials_file(tmp_path)),
            GEMINI_API_KEY=None,
            GOOGLE_API_KEY=None,
        )
        yield fake


@pytest.fixture(scope="session")
def stripe_server():
    """The fake of Stripe's API (tests/fakes/stripe_api.py), one for the run."""
    from tests.fakes.stripe_api import FakeStripe

    fake = FakeStripe()
    with fake.server:
        yield fake


@pytest.fixture
def fake_stripe(stripe_server):
    """The fake Stripe with nothing recorded and not failing."""
    stripe_server.checkouts.clear()
    stripe_server.portals.clear()
    stripe_server.failing_with = None
    return stripe_server


@pytest.fixture(scope="session")
def upstash_gateway():
    """The Upstash-compatible REST gateway (scripts/upstash_gateway.py) over the test Redis."""
    from scripts.upstash_gateway import Gateway

    gateway = Gateway(REDIS_URL, GATEWAY_TOKEN).start()
    yield gateway
    gateway.stop()


@pytest.fixture
def redis_prefix() -> str:
    """A key prefix of this test's own: tests and other users of the shared Redis stay apart."""
    return f"crv:test:{uuid.uuid4().hex[:12]}:"


@pytest.fixture
def app_logs():
    """Every line the app logs during the test, at every level, formatted as in production."""
    import logging

    from shared.logs import JsonFormatter, configure

    configure()  # once per process; done first, so its level does not replace ours below
    lines: list[str] = []

    class Collect(logging.Handler):
        def emit(self, record):
            lines.append(self.format(record))

    handler = Collect(level=logging.DEBUG)
    handler.setFormatter(JsonFormatter())
    root = logging.getLogger("coderevai")
    level = root.level
    root.addHandler(handler)
    root.setLevel(logging.DEBUG)
    yield lines
    root.removeHandler(handler)
    root.setLevel(level)
