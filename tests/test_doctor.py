"""scripts/doctor.py: one line per service, non-zero exit when something required fails."""

from __future__ import annotations

from scripts import doctor
from tests.conftest import ClerkKeys
from tests.fakes.server import FakeServer, Reply


def lines(capsys) -> dict[str, str]:
    out = capsys.readouterr().out.splitlines()
    return {line.split()[1]: line for line in out if not line.startswith("environment")}


def test_healthy_configuration_passes(settings_env, pg_url, capsys):
    keys = ClerkKeys()
    with FakeServer() as gemini:
        gemini.route("GET", "/v1", Reply(200, {"name": "models/gemini-2.5-flash"}))
        settings_env(
            DATABASE_URL=pg_url,
            REDIS_URL="redis://127.0.0.1:6379/0",
            GEMINI_API_KEY="test-gemini-key",
            GEMINI_BASE_URL=gemini.url,
            CLERK_JWT_KEY=keys.public_pem,
            STRIPE_SECRET_KEY="sk_test_0123456789abcdef",
            STRIPE_WEBHOOK_SECRET="whsec_0123456789abcdef",
            STRIPE_PRICE_ID_PRO="price_pro123",
            BILLING_SUCCESS_URL="https://app.example.com/ok",
            BILLING_CANCEL_URL="https://app.example.com/no",
        )
        assert doctor.run() == 0
        assert gemini.requests[0].headers.get("x-goog-api-key") == "test-gemini-key"
    result = lines(capsys)
    assert result["database"].startswith("  ok") and "at head" in result["database"]
    assert result["redis"].startswith("  ok")
    assert result["gemini"].startswith("  ok")
    assert result["stripe"].startswith("  ok") and "test keys" in result["stripe"]
    assert result["clerk"].startswith("  ok")
    assert "sk_test_0123456789abcdef" not in capsys.readouterr().out


def test_each_failure_is_named_in_one_line(settings_env, empty_pg_url, capsys):
    with FakeServer() as gemini:
        gemini.route("GET", "/v1", Reply(400, {"error": {"code": 400, "message": "API key not valid"}}))
        settings_env(
            DATABASE_URL=empty_pg_url,
            REDIS_URL="redis://127.0.0.1:1/0",
            GEMINI_API_KEY="bad-key",
            GEMINI_BASE_URL=gemini.url,
            CLERK_JWT_KEY="not a pem",
            STRIPE_SECRET_KEY="pk_test_wrongkind",
            STRIPE_PRICE_ID_PRO="price_x",
            BILLING_SUCCESS_URL="https://a/ok",
            BILLING_CANCEL_URL="https://a/no",
        )
        assert doctor.run() == 1
    result = lines(capsys)
    assert result["database"].startswith("FAIL") and "alembic upgrade head" in result["database"]
    assert result["redis"].startswith("FAIL") and "REDIS_URL failed" in result["redis"]
    assert result["gemini"].startswith("FAIL")
    assert result["stripe"].startswith("FAIL") and "STRIPE_WEBHOOK_SECRET is missing" in result["stripe"]
    assert result["clerk"].startswith("FAIL") and "PEM" in result["clerk"]


def test_unreachable_database_and_production_gaps(settings_env, capsys):
    settings_env(
        APP_ENV="production",
        DATABASE_URL="postgresql://postgres@127.0.0.1:1/none",
        REDIS_URL="redis://127.0.0.1:6379/0",
        CLERK_SECRET_KEY="sk_test_clerk",
        CLERK_API_URL="http://127.0.0.1:1",
    )
    assert doctor.run() == 1
    result = lines(capsys)
    assert "unreachable" in result["database"]
    assert result["clerk"].startswith("FAIL") and "unreachable" in result["clerk"]


def test_missing_production_variable_is_one_line(settings_env, capsys):
    settings_env(APP_ENV="production")
    assert doctor.run() == 1
    assert "DATABASE_URL must be set" in capsys.readouterr().out


def test_upstash_is_checked_through_the_rest_protocol(settings_env, pg_url, upstash_gateway, capsys):
    settings_env(
        DATABASE_URL=pg_url, UPSTASH_REDIS_REST_URL=upstash_gateway.url, UPSTASH_REDIS_REST_TOKEN=upstash_gateway.token
    )
    assert doctor.run() == 0
    assert "Upstash REST set/get works" in lines(capsys)["redis"]
    settings_env(UPSTASH_REDIS_REST_TOKEN="wrong-token")
    assert doctor.run() == 1
    assert lines(capsys)["redis"].startswith("FAIL  redis      Upstash REST failed")


def test_an_openai_compatible_server_is_checked_with_one_tiny_completion(settings_env, capsys):
    from tests.fakes.openai_chat import FakeOpenAI, completion

    with FakeOpenAI() as server:
        settings_env(MODEL_PROVIDER="openai", OPENAI_BASE_URL=server.url, OPENAI_MODEL="qwen2.5-coder")
        server.then(completion('```json\n{"ok": true}\n```'), completion("I am fine, thanks!"))
        doctor.run()
        good = lines(capsys)["openai"]
        doctor.run()
        bad = lines(capsys)["openai"]
        assert server.calls[0].json()["response_format"]["json_schema"]["name"] == "_Ping"
    assert good.startswith("  ok") and "qwen2.5-coder" in good
    assert bad.startswith("FAIL") and "could not be read" in bad and "OPENAI_RESPONSE_FORMAT=json_object" in bad
