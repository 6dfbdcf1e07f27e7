"""Checks every service the configured environment uses and says what is wrong, one line each.

    .venv/bin/python scripts/doctor.py        (reads the same variables as the functions)

Exit code 1 when anything required fails; optional services that are not configured are reported
as skipped (the embedded defaults stand in for them)."""

from __future__ import annotations

import re
import sys
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from pydantic import BaseModel  # noqa: E402

from shared.config import ConfigError, Settings, get_settings  # noqa: E402
from shared.errors import ApiError  # noqa: E402

OK, FAIL, SKIP = "ok", "FAIL", "skip"


@dataclass
class Result:
    name: str
    status: str
    detail: str

    def line(self) -> str:
        return f"{self.status:>4}  {self.name:<10} {self.detail}"


def _database(settings: Settings) -> Result:
    from alembic.config import Config
    from alembic.runtime.migration import MigrationContext
    from alembic.script import ScriptDirectory
    from sqlalchemy import create_engine, pool

    root = Path(__file__).resolve().parent.parent
    head = ScriptDirectory.from_config(Config(str(root / "alembic.ini"))).get_current_head()
    where = "SQLite default" if not settings.database_url else "DATABASE_URL"
    engine = create_engine(settings.sqlalchemy_url, poolclass=pool.NullPool, connect_args=_timeout(settings))
    try:
        with engine.connect() as conn:
            current = MigrationContext.configure(conn).get_current_revision()
    except Exception as exc:
        return Result("database", FAIL, f"{where} unreachable: {_reason(exc)}")
    finally:
        engine.dispose()
    if current != head:
        return Result(
            "database", FAIL, f"{where} at migration {current or 'none'}, head is {head}: run `alembic upgrade head`"
        )
    return Result("database", OK, f"{where} reachable, migrations at head ({head})")


def _timeout(settings: Settings) -> dict:
    return {"connect_timeout": 5} if settings.database_url else {}


def _redis(settings: Settings) -> Result:
    from shared.ratelimit import build_limiter

    shared = build_limiter(settings).shared  # the very client the functions use, timeouts and all
    if shared is None:
        return Result("redis", FAIL if settings.production else SKIP, "no Redis configured: in-process limiter")
    label = {"upstash": "Upstash REST", "redis": "REDIS_URL"}[shared.name]
    key = f"{settings.rate_limit_prefix}doctor"
    try:
        shared.client.set(key, "1", ex=10)
        value = shared.client.get(key)
        decision = shared.decide(f"{key}:decision", limit=1_000_000, window_ms=1000)
    except Exception as exc:
        return Result("redis", FAIL, f"{label} failed: {_reason(exc)}")
    finally:
        shared.close()
    if value not in ("1", b"1"):
        return Result("redis", FAIL, f"{label} set/get returned {value!r}")
    if not decision.allowed:
        return Result("redis", FAIL, f"{label} limiter script denied a request it should allow")
    return Result("redis", OK, f"{label} set/get works, limiter script answered in one round trip")


def _model(settings: Settings) -> Result:
    return _openai(settings) if settings.model_provider == "openai" else _gemini(settings)


class _Ping(BaseModel):
    ok: bool


def _openai(settings: Settings) -> Result:
    """One tiny completion through the provider the functions use (its response format included):
    a server that lists no models (Azure's deployments) is still checked."""
    from shared.review import answers, openai_chat

    where = f"{settings.openai_base_url or 'OpenAI'} model {settings.openai_model}"
    try:
        answer = openai_chat.complete(
            system='Answer with the JSON object {"ok": true}.', contents="ping", schema=_Ping, max_output_tokens=64
        )
    except ApiError as exc:
        return Result("openai", FAIL, f"{where}: {exc.message}")
    try:
        answers.read(answer.text, _Ping)
    except answers.Unreadable as problem:
        hint = "" if settings.openai_response_format == "text" else " (try OPENAI_RESPONSE_FORMAT=json_object or text)"
        return Result("openai", FAIL, f"{where} answered, but its answer could not be read: {problem}{hint}")
    return Result("openai", OK, f"{where} answered in JSON ({settings.openai_response_format})")


def _gemini(settings: Settings) -> Result:
    from shared.review import gemini

    if not gemini.configured():
        return Result(
            "gemini", SKIP, "no GEMINI_API_KEY or GOOGLE_GENAI_USE_VERTEXAI: reviews use the static analysers only"
        )
    from google.genai import types

    how = "Vertex AI credentials" if settings.google_genai_use_vertexai else "key"
    options = types.HttpOptions(base_url=settings.gemini_base_url, timeout=10_000)
    try:
        client = gemini.new_client(settings, options)  # kept: closes when collected
        model = client.models.get(model=settings.gemini_model)
    except Exception as exc:
        return Result("gemini", FAIL, f"{how} or model {settings.gemini_model} not accepted: {_reason(exc)}")
    return Result("gemini", OK, f"{how} accepted, model {model.name or settings.gemini_model} available")


_STRIPE_KEY = re.compile(r"^(sk|rk)_(live|test)_[A-Za-z0-9]{10,}$")
_WEBHOOK_SECRET = re.compile(r"^whsec_[A-Za-z0-9+/=]{10,}$")


def _stripe(settings: Settings) -> Result:
    if not settings.stripe_secret_key:
        return Result("stripe", SKIP, "no STRIPE_SECRET_KEY: checkout and portal answer 503 BILLING_DISABLED")
    problems = []
    if not _STRIPE_KEY.match(settings.stripe_secret_key):
        problems.append("STRIPE_SECRET_KEY is not an sk_/rk_ live or test key")
    if not settings.stripe_webhook_secret:
        problems.append("STRIPE_WEBHOOK_SECRET is missing")
    elif not _WEBHOOK_SECRET.match(settings.stripe_webhook_secret):
        problems.append("STRIPE_WEBHOOK_SECRET is not a whsec_ secret")
    if not (settings.stripe_price_id_pro or "").startswith("price_"):
        problems.append("STRIPE_PRICE_ID_PRO is not a price_ id")
    if problems:
        return Result("stripe", FAIL, "; ".join(problems))
    mode = "live" if "_live_" in settings.stripe_secret_key else "test"
    return Result("stripe", OK, f"{mode} keys present and well formed")


def _clerk(settings: Settings) -> Result:
    if settings.clerk_jwt_key:
        from cryptography.hazmat.primitives.serialization import load_pem_public_key

        try:
            load_pem_public_key(settings.clerk_jwt_key.encode())
        except ValueError:
            return Result("clerk", FAIL, "CLERK_JWT_KEY is not a PEM public key")
        return Result("clerk", OK, "CLERK_JWT_KEY is a usable PEM public key (networkless verification)")
    if settings.clerk_secret_key:
        import httpx

        try:
            response = httpx.get(
                f"{settings.clerk_api_url.rstrip('/')}/v1/jwks",
                headers={"Authorization": f"Bearer {settings.clerk_secret_key}"},
                timeout=10,
            )
        except httpx.HTTPError as exc:
            return Result("clerk", FAIL, f"Clerk API unreachable: {_reason(exc)}")
        if response.status_code != 200 or not response.json().get("keys"):
            return Result("clerk", FAIL, f"CLERK_SECRET_KEY not accepted (JWKS answered {response.status_code})")
        return Result("clerk", OK, f"CLERK_SECRET_KEY accepted, {len(response.json()['keys'])} signing key(s)")
    if settings.production:
        return Result("clerk", FAIL, "no CLERK_JWT_KEY or CLERK_SECRET_KEY")
    return Result("clerk", SKIP, "no Clerk key: development sign-in through X-Dev-User")


CHECKS: tuple[Callable[[Settings], Result], ...] = (_database, _redis, _model, _stripe, _clerk)


def _reason(exc: Exception) -> str:
    text = str(exc).splitlines()[0] if str(exc) else ""
    return f"{type(exc).__name__}: {text}"[:200]


def run() -> int:
    try:
        settings = get_settings()
    except (ConfigError, ValueError) as exc:
        print(f"FAIL  config     {exc}")
        return 1
    print(f"environment: {settings.app_env}")
    failed = False
    for check in CHECKS:
        try:
            result = check(settings)
        except Exception as exc:  # a check that crashes is a failure, not a traceback
            result = Result(check.__name__.strip("_"), FAIL, _reason(exc))
        print(result.line(), flush=True)
        failed |= result.status == FAIL
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(run())
