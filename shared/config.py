"""One settings class over the environment (every variable: docs/configuration.md)."""

from __future__ import annotations

import functools
import json
import logging
from pathlib import Path
from typing import Annotated, Any, Literal
from urllib.parse import parse_qsl, urlencode, urlsplit, urlunsplit

from coderevai_core.options import review_language_name
from pydantic import AfterValidator, Field, field_validator, model_validator
from pydantic_settings import BaseSettings, NoDecode, SettingsConfigDict

SECRET_PREFIX = "sm://"  # noqa: S105  (a URL scheme, not a secret)
PROJECT_ROOT = Path(__file__).resolve().parent.parent
CommaList = Annotated[list[str], NoDecode]

# Requests per RATE_LIMIT_WINDOW_SECONDS (a minute) by route and plan. Pro is five times free
# (review_repo six: a repository review is the feature people upgrade for). RATE_LIMITS (JSON)
# overrides single entries, e.g. {"history": {"free": 60}}.
RATE_LIMITS: dict[str, dict[str, int]] = {
    "review_code": {"free": 20, "pro": 100},
    "review_repo": {"free": 5, "pro": 30},
    "generate_diff": {"free": 15, "pro": 75},
    "history": {"free": 120, "pro": 600},
    # Creating API keys (POST /api/keys only): each is a database write and a secret to track.
    "keys": {"free": 20, "pro": 20},
    # Web-vitals beacons, per client address rather than per user: plans do not apply.
    "metrics": {"free": 120},
}

log = logging.getLogger("coderevai.config")


class ConfigError(RuntimeError):
    """A required variable is missing or malformed; the message names it."""


class Settings(BaseSettings):
    model_config = SettingsConfigDict(extra="ignore", case_sensitive=False)

    app_env: Literal["production", "development"] = "development"
    log_level: str = "INFO"

    database_url: str | None = None
    # What DATABASE_URL points at: PostgreSQL itself (or a session-mode pooler), or a pooler in
    # transaction mode, under which nothing may outlive a transaction (docs/deploy.md). Prisma's
    # `?pgbouncer=true` on the URL means `transaction` too.
    database_pooler: Literal["none", "session", "transaction"] = "none"
    # This instance's pool: deploy.sh sizes it per function within the database's connection budget.
    database_pool_size: int = Field(default=2, ge=0, le=100)
    database_max_overflow: int = Field(default=4, ge=0, le=100)
    database_pool_timeout_seconds: float = Field(default=10.0, gt=0, le=60)
    direct_url: str | None = None  # migrations only: PostgreSQL itself when DATABASE_URL is a pooler

    upstash_redis_rest_url: str | None = None
    upstash_redis_rest_token: str | None = None
    redis_url: str | None = None
    rate_limits: Annotated[dict[str, dict[str, int]], NoDecode] = RATE_LIMITS
    rate_limit_window_seconds: float = 60.0
    rate_limit_prefix: str = "crv:rl:"
    rate_limit_timeout_seconds: float = 0.5
    rate_limit_breaker_seconds: float = 15.0
    plan_cache_seconds: float = 60.0
    api_key_cache_seconds: float = Field(default=5.0, ge=0, le=60)
    trusted_proxy_hops: int = Field(default=1, ge=1, le=5)

    # The review model: Gemini (the API key or Vertex AI, below) or any server speaking OpenAI's
    # chat-completions API, hosted, a gateway or local (shared/review/model.py).
    model_provider: Literal["gemini", "openai"] = "gemini"
    openai_base_url: str | None = None  # unset: OpenAI's own API
    openai_api_key: str | None = None  # optional for local servers
    openai_model: str | None = None
    # How the answer's structure is asked for: the JSON schema, JSON of any shape, or only the prompt.
    openai_response_format: Literal["json_schema", "json_object", "text"] = "json_schema"
    openai_timeout_seconds: float = Field(default=60.0, gt=0, le=300)
    openai_max_attempts: int = Field(default=3, ge=1, le=6)
    openai_retry_delay_seconds: float = Field(default=1.0, ge=0, le=30)
    # The model's context window and output limit in tokens; unset, the provider's (shared/review/budget.py).
    model_context_tokens: int | None = Field(default=None, ge=4096)
    model_output_tokens: int | None = Field(default=None, ge=512)
    # The language of the review's prose; a request's reviewLanguage overrides it.
    review_language: Annotated[str, AfterValidator(review_language_name)] = "English"

    gemini_api_key: str | None = None
    # Gemini through Vertex AI instead, read under google-genai's own names, with application
    # default credentials (the runtime service account on Google Cloud).
    google_genai_use_vertexai: bool = False
    google_cloud_project: str | None = None
    google_cloud_location: str = "global"
    gemini_model: str = "gemini-2.5-flash"
    gemini_base_url: str | None = None
    gemini_timeout_seconds: float = Field(default=60.0, gt=0, le=300)
    gemini_max_attempts: int = Field(default=3, ge=1, le=6)
    gemini_retry_delay_seconds: float = Field(default=1.0, ge=0, le=30)
    review_cache_ttl_seconds: int = Field(default=86_400, ge=0, le=30 * 86_400)
    static_tool_timeout_seconds: float = Field(default=30.0, gt=0, le=300)

    clerk_jwt_key: str | None = None
    clerk_secret_key: str | None = None
    clerk_authorized_parties: CommaList = []
    clerk_api_url: str = "https://api.clerk.com"

    stripe_secret_key: str | None = None
    stripe_webhook_secret: str | None = None
    stripe_price_id_pro: str | None = None
    stripe_api_base: str | None = None
    billing_success_url: str | None = None
    billing_cancel_url: str | None = None
    # The daily retention purge (shared/retention.py). Stripe resends an event for up to 3 days and
    # keeps it 30: fewer days could forget one it may still send.
    stripe_event_retention_days: int = Field(default=90, ge=30, le=3650)
    # GitHub offers to redeliver a delivery for 3 days; a review run must outlive the queue's retries
    # of its task (a day: deploy.sh's queue), as it stops a retry posting or counting twice.
    github_delivery_retention_days: int = Field(default=7, ge=4, le=3650)
    github_review_run_retention_days: int = Field(default=14, ge=2, le=3650)

    github_token: str | None = None
    github_api_url: str = "https://api.github.com"
    github_timeout_seconds: float = Field(default=30.0, gt=0)
    repo_archive_max_bytes: int = Field(default=25 * 1024 * 1024, gt=0)
    review_repo_batch_tokens: int = Field(default=100_000, ge=1000)
    review_repo_max_batches: int = Field(default=12, ge=1)
    review_repo_parallelism: int = Field(default=4, ge=1, le=32)

    # The GitHub App (docs/github-app.md): its id and PEM key sign the app JWT; the webhook secret
    # signs each delivery. Unset: the webhook answers 401 and no pull request is reviewed.
    github_app_id: str | None = None
    github_app_private_key: str | None = None
    github_webhook_secret: str | None = None
    github_app_slug: str | None = None  # "@<slug> review"; unset: read once from GET /app
    # Linking an installation to a signed-in user (the setup redirect's OAuth code).
    github_app_client_id: str | None = None
    github_app_client_secret: str | None = None
    github_web_url: str = "https://github.com"  # OAuth and the install page (GitHub Enterprise: its host)
    github_app_setup_return_url: str = "/"
    # The review queue: Cloud Tasks (production); unset, the same worker runs in-process (embedded).
    cloud_tasks_queue: str | None = None  # projects/P/locations/L/queues/Q
    cloud_tasks_api_url: str | None = None  # another endpoint (tests' fake)
    review_worker_url: str | None = None  # the worker's URL: the tasks' target and their token's audience
    review_worker_service_account: str | None = None  # the account the queue's OIDC tokens name
    review_worker_certs_url: str | None = None  # Google's OIDC certificates unless set (tests)
    # A pull request's review: most files, and the token budget of what the model reads.
    github_review_max_files: int = Field(default=50, ge=1, le=1000)
    github_review_max_tokens: int = Field(default=200_000, ge=1000)
    # Reviews per installation per GITHUB_REVIEW_WINDOW_SECONDS, by the linked user's plan.
    github_review_limits: Annotated[dict[str, int], NoDecode] = {"free": 30, "pro": 300}
    github_review_window_seconds: int = Field(default=86_400, ge=60)

    allowed_origins: CommaList = []

    @classmethod
    def settings_customise_sources(
        cls, settings_cls, init_settings, env_settings, dotenv_settings, file_secret_settings
    ):
        # The environment only (Cloud Functions sets it; scripts/serve and tests export it). The
        # default dotenv and secrets-directory sources would read nothing and cost ~1.5 ms a start.
        return init_settings, env_settings

    @model_validator(mode="before")
    @classmethod
    def _resolve_secret_references(cls, values: Any) -> Any:
        if isinstance(values, dict) and any(_is_secret_ref(v) for v in values.values()):
            return {k: _read_secret(k, v) if _is_secret_ref(v) else v for k, v in values.items()}
        return values

    @field_validator("clerk_authorized_parties", "allowed_origins", mode="before")
    @classmethod
    def _split_commas(cls, value: Any) -> Any:
        if isinstance(value, str):
            return [part.strip() for part in value.split(",") if part.strip()]
        return value

    @field_validator("rate_limits", mode="before")
    @classmethod
    def _parse_rate_limits(cls, value: Any) -> Any:
        if isinstance(value, str):
            try:
                return json.loads(value) if value.strip() else {}
            except ValueError:
                raise ValueError('RATE_LIMITS must be JSON like {"history": {"free": 60}}') from None
        return value

    @field_validator("rate_limits", mode="after")
    @classmethod
    def _merge_rate_limits(cls, value: dict[str, dict[str, int]]) -> dict[str, dict[str, int]]:
        merged = {route: dict(plans) for route, plans in RATE_LIMITS.items()}
        for route, plans in value.items():
            if route not in merged:
                raise ValueError(f"unknown route {route!r}; routes are {', '.join(RATE_LIMITS)}")
            if any(limit < 1 for limit in plans.values()):
                raise ValueError(f"limits for {route} must be at least 1")
            merged[route].update({plan.lower(): limit for plan, limit in plans.items()})
        return merged

    @field_validator("rate_limit_window_seconds", "rate_limit_timeout_seconds", mode="after")
    @classmethod
    def _positive(cls, value: float) -> float:
        if value <= 0:
            raise ValueError("must be greater than 0")
        return value

    @field_validator("github_review_limits", mode="before")
    @classmethod
    def _parse_review_limits(cls, value: Any) -> Any:
        if isinstance(value, str):
            try:
                value = json.loads(value) if value.strip() else {}
            except ValueError:
                raise ValueError('GITHUB_REVIEW_LIMITS must be JSON like {"free": 30, "pro": 300}') from None
        if isinstance(value, dict):
            return {"free": 30, "pro": 300, **{str(plan).lower(): limit for plan, limit in value.items()}}
        return value

    @field_validator("clerk_jwt_key", "github_app_private_key", mode="after")
    @classmethod
    def _unescape_pem(cls, value: str | None) -> str | None:
        # PEM keys pasted into one-line env files carry literal "\n".
        return value.replace("\\n", "\n") if value else value

    @model_validator(mode="after")
    def _require_production_settings(self) -> Settings:
        if self.production:
            for name in self.missing_for_production():
                raise ConfigError(f"{name} must be set when APP_ENV=production")
        if self.model_provider == "openai" and not self.openai_model:
            raise ConfigError("OPENAI_MODEL must be set when MODEL_PROVIDER is openai")
        if (
            self.model_output_tokens
            and self.model_context_tokens
            and self.model_output_tokens >= self.model_context_tokens
        ):
            raise ConfigError("MODEL_OUTPUT_TOKENS must be smaller than MODEL_CONTEXT_TOKENS")
        if self.google_genai_use_vertexai and not self.google_cloud_project:
            raise ConfigError("GOOGLE_CLOUD_PROJECT must be set when GOOGLE_GENAI_USE_VERTEXAI is true")
        if self.stripe_secret_key:
            for name in ("stripe_price_id_pro", "billing_success_url", "billing_cancel_url"):
                if not getattr(self, name):
                    raise ConfigError(f"{name.upper()} must be set when STRIPE_SECRET_KEY is set")
        if self.production and self.stripe_webhook_secret:
            # The webhook maps prices to plans and copies each plan to Clerk's publicMetadata.
            for name in ("stripe_price_id_pro", "clerk_secret_key"):
                if not getattr(self, name):
                    raise ConfigError(f"{name.upper()} must be set when STRIPE_WEBHOOK_SECRET is set")
        if self.production and self.github_app_id:
            # No background threads on Cloud Functions: the reviews go through the queue.
            for name in (
                "github_app_private_key",
                "github_webhook_secret",
                "cloud_tasks_queue",
                "review_worker_url",
                "review_worker_service_account",
            ):
                if not getattr(self, name):
                    raise ConfigError(f"{name.upper()} must be set when GITHUB_APP_ID is set")
        return self

    def missing_for_production(self) -> list[str]:
        missing = []
        if not self.database_url:
            missing.append("DATABASE_URL")
        if not (self.upstash_redis_rest_url and self.upstash_redis_rest_token) and not self.redis_url:
            missing.append("UPSTASH_REDIS_REST_URL and UPSTASH_REDIS_REST_TOKEN (or REDIS_URL)")
        if not (self.clerk_jwt_key or self.clerk_secret_key):
            missing.append("CLERK_JWT_KEY or CLERK_SECRET_KEY")
        return missing

    @property
    def production(self) -> bool:
        return self.app_env == "production"

    @property
    def dev_auth(self) -> bool:
        """Development only: no Clerk key configured, the caller names itself in X-Dev-User."""
        return not self.production and not (self.clerk_jwt_key or self.clerk_secret_key)

    @property
    def transaction_pooler(self) -> bool:
        return self.database_pooler == "transaction" or pgbouncer_flag(self.database_url or "")

    @property
    def sqlalchemy_url(self) -> str:
        if not self.database_url:
            path = PROJECT_ROOT / ".local" / "coderevai.sqlite3"
            path.parent.mkdir(exist_ok=True)
            return f"sqlite:///{path}"
        return normalize_database_url(self.database_url)


def normalize_database_url(url: str) -> str:
    """Prisma-style `postgresql://` (and Heroku-style `postgres://`) URLs run on psycopg 3; Prisma's
    own `pgbouncer` parameter is ours to read (libpq refuses parameters it does not know)."""
    url = _without_pgbouncer_flag(url)
    for prefix in ("postgresql://", "postgres://"):
        if url.startswith(prefix):
            return "postgresql+psycopg://" + url[len(prefix) :]
    return url


def pgbouncer_flag(url: str) -> bool:
    """`?pgbouncer=true`, as Prisma spells "this URL is a transaction-mode pooler"."""
    query = urlsplit(url).query
    return any(value.lower() == "true" for name, value in parse_qsl(query) if name == "pgbouncer")


def _without_pgbouncer_flag(url: str) -> str:
    parts = urlsplit(url)
    if "pgbouncer" not in parts.query:
        return url
    query = urlencode([(name, value) for name, value in parse_qsl(parts.query) if name != "pgbouncer"], safe="/:")
    return urlunsplit(parts._replace(query=query))


def _is_secret_ref(value: Any) -> bool:
    return isinstance(value, str) and value.startswith(SECRET_PREFIX)


def _read_secret(name: str, ref: str) -> str:
    # Imported only when a value points at Secret Manager: the client costs ~0.2 s of cold start.
    from google.cloud import secretmanager

    try:
        client = secretmanager.SecretManagerServiceClient()
        response = client.access_secret_version(name=ref[len(SECRET_PREFIX) :])
    except Exception as exc:  # the message names the variable, never the secret
        raise ConfigError(f"{name.upper()}: cannot read {ref} from Secret Manager ({type(exc).__name__})") from None
    return response.payload.data.decode("utf-8").strip()


@functools.cache
def get_settings() -> Settings:
    """Read once per instance; tests call `get_settings.cache_clear()` after changing the environment."""
    return Settings()


_said: set[str] = set()


def note_default(what: str) -> None:
    """Development falls back to an embedded default and says so once per instance."""
    if what not in _said:
        _said.add(what)
        log.info("development default: %s", what)
