"""Settings: production refuses to start without what it needs; Secret Manager only when used."""

from __future__ import annotations

import subprocess
import sys

import pytest

from shared.config import ConfigError, Settings, normalize_database_url
from tests.conftest import ROOT


def test_production_names_each_missing_variable(settings_env):
    settings_env(APP_ENV="production")
    with pytest.raises(ConfigError, match="DATABASE_URL must be set"):
        Settings()
    settings_env(DATABASE_URL="postgresql://x@h/db")
    with pytest.raises(ConfigError, match="UPSTASH_REDIS_REST_URL"):
        Settings()
    settings_env(REDIS_URL="redis://h:6379")
    with pytest.raises(ConfigError, match="CLERK_JWT_KEY or CLERK_SECRET_KEY"):
        Settings()
    settings_env(CLERK_SECRET_KEY="sk_test_x")
    assert Settings().production


def test_stripe_needs_its_companions(settings_env):
    settings_env(STRIPE_SECRET_KEY="sk_test_x")
    with pytest.raises(ConfigError, match="STRIPE_PRICE_ID_PRO"):
        Settings()


def test_function_fails_at_start_naming_the_variable(settings_env):
    settings_env(APP_ENV="production")
    from tests.conftest import function_client

    with pytest.raises(ConfigError, match="DATABASE_URL"):
        function_client("history")


def test_lists_and_pem_are_parsed(settings_env):
    settings_env(ALLOWED_ORIGINS="https://a.example, https://b.example", CLERK_JWT_KEY="-----BEGIN\\nabc\\n-----END")
    settings = Settings()
    assert settings.allowed_origins == ["https://a.example", "https://b.example"]
    assert settings.clerk_jwt_key == "-----BEGIN\nabc\n-----END"


def test_database_url_forms():
    assert normalize_database_url("postgresql://u:p@h:5432/db") == "postgresql+psycopg://u:p@h:5432/db"
    assert normalize_database_url("postgres://u@h/db") == "postgresql+psycopg://u@h/db"
    cloud_sql = "postgresql://u:p@/db?host=/cloudsql/proj:region:inst"
    assert normalize_database_url(cloud_sql) == "postgresql+psycopg://u:p@/db?host=/cloudsql/proj:region:inst"


@pytest.mark.parametrize(
    ("url", "pooler", "transaction", "connects_to"),
    [
        ("postgresql://u@h:6432/db", None, False, "postgresql+psycopg://u@h:6432/db"),  # a port says nothing
        ("postgresql://u@h:6432/db?pgbouncer=true", None, True, "postgresql+psycopg://u@h:6432/db"),
        (
            "postgresql://u:p@/db?host=/cloudsql/p:r:i&pgbouncer=true&sslmode=disable",
            None,
            True,
            "postgresql+psycopg://u:p@/db?host=/cloudsql/p:r:i&sslmode=disable",
        ),
        ("postgresql://u@h/db?pgbouncer=false", None, False, "postgresql+psycopg://u@h/db"),
        ("postgresql://u@h/db", "transaction", True, "postgresql+psycopg://u@h/db"),
        ("postgresql://u@h/db", "session", False, "postgresql+psycopg://u@h/db"),
    ],
)
def test_a_transaction_pooler_is_named_by_setting_or_by_prismas_url_flag(url, pooler, transaction, connects_to):
    settings = Settings(database_url=url, **({"database_pooler": pooler} if pooler else {}))
    assert settings.transaction_pooler is transaction
    assert settings.sqlalchemy_url == connects_to  # libpq refuses parameters it does not know


def test_secret_manager_is_not_imported_without_references():
    code = "import sys; from shared.config import get_settings; get_settings(); print('google.cloud.secretmanager' in sys.modules)"
    out = subprocess.run([sys.executable, "-c", code], cwd=ROOT, capture_output=True, text=True, check=True)
    assert out.stdout.strip() == "False"


def test_unreadable_secret_reference_names_the_variable_not_the_value(settings_env, monkeypatch, tmp_path):
    # No Google credentials on this machine: the client cannot be built, and the error must say which
    # variable pointed at Secret Manager.
    monkeypatch.setenv("GOOGLE_APPLICATION_CREDENTIALS", str(tmp_path / "missing.json"))
    settings_env(GEMINI_API_KEY="sm://projects/p/secrets/gemini/versions/latest")
    with pytest.raises(
        ConfigError, match=r"GEMINI_API_KEY: cannot read sm://projects/p/secrets/gemini/versions/latest"
    ):
        Settings()


def test_production_webhook_needs_the_price_and_clerk(settings_env):
    settings_env(
        APP_ENV="production",
        DATABASE_URL="postgresql://x@h/db",
        REDIS_URL="redis://h:6379",
        CLERK_JWT_KEY="-----BEGIN PUBLIC KEY-----",
        STRIPE_WEBHOOK_SECRET="whsec_x",
    )
    with pytest.raises(ConfigError, match="STRIPE_PRICE_ID_PRO must be set when STRIPE_WEBHOOK_SECRET is set"):
        Settings()
    settings_env(STRIPE_PRICE_ID_PRO="price_pro")
    with pytest.raises(ConfigError, match="CLERK_SECRET_KEY must be set"):
        Settings()
    settings_env(CLERK_SECRET_KEY="sk_test_clerk")
    assert Settings().stripe_webhook_secret == "whsec_x"
