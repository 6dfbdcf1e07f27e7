"""Each function loads only what it needs: heavy SDKs stay out of functions that do not use them,
at start and while serving a request (checked in a fresh process, as an instance starts)."""

from __future__ import annotations

import json
import subprocess
import sys

import pytest

from tests.conftest import ROOT

GENAI, STRIPE, CLERK, SECRETS = "google.genai", "stripe", "clerk_backend_api", "google.cloud.secretmanager"
TASKS, GOOGLE_AUTH = "google.cloud.tasks_v2", "google.auth"
OPENAI = "openai"  # the OpenAI-compatible provider's SDK: loaded on its first call only
PROMPTS = "shared.review.prompts"  # the model's prompts: loaded where a model is configured
# The static pass's in-process analysers load on a function's first review, never at its start.
BANDIT, AST_GREP, YAML = "bandit", "ast_grep_py", "yaml"
ANALYSERS = {BANDIT, AST_GREP, YAML}
# function -> (modules it must never load, a request that exercises its common path)
EXPECTATIONS = {
    "history": ({GENAI, OPENAI, STRIPE, CLERK, SECRETS, *ANALYSERS}, ("GET", "/")),
    # With no model configured (the probe's environment) a review is the static pass: no model SDK,
    # and no prompts.
    "review_code": ({GENAI, OPENAI, STRIPE, CLERK, SECRETS, PROMPTS, *ANALYSERS}, ("POST", "/")),
    "generate_diff": ({GENAI, OPENAI, STRIPE, CLERK, SECRETS, *ANALYSERS}, ("POST", "/")),
    # Reading the subscription makes no Stripe call, so stripe loads only for checkout and portal.
    "billing": (
        {GENAI, OPENAI, STRIPE, CLERK, SECRETS, *ANALYSERS},
        ("GET", "/"),
        {
            "STRIPE_SECRET_KEY": "sk_test_x",
            "STRIPE_PRICE_ID_PRO": "price_x",
            "BILLING_SUCCESS_URL": "https://a.example/ok",
            "BILLING_CANCEL_URL": "https://a.example/no",
        },
    ),
    # An unsigned delivery is refused with 400 before anything else.
    "stripe_webhook": (
        {GENAI, OPENAI, SECRETS, *ANALYSERS},
        ("POST", "/"),
        {"STRIPE_WEBHOOK_SECRET": "whsec_x", "STRIPE_PRICE_ID_PRO": "price_x"},
    ),
    "review_repo": ({GENAI, OPENAI, STRIPE, CLERK, SECRETS, PROMPTS, *ANALYSERS}, ("POST", "/")),
    "keys": ({GENAI, OPENAI, STRIPE, CLERK, SECRETS, *ANALYSERS}, ("GET", "/")),
    "health": ({GENAI, OPENAI, STRIPE, CLERK, SECRETS, *ANALYSERS}, ("GET", "/")),
    "metrics": ({GENAI, OPENAI, STRIPE, CLERK, SECRETS, *ANALYSERS}, ("POST", "/")),
    # An unsigned delivery is refused with 401 before anything else: no queue client, no review engine.
    "github_webhook": (
        {GENAI, OPENAI, STRIPE, CLERK, SECRETS, TASKS, GOOGLE_AUTH, "shared.review.engine", *ANALYSERS},
        ("POST", "/"),
        {"GITHUB_WEBHOOK_SECRET": "x"},
    ),
    # The linked installations are one query: no GitHub call, no queue client.
    "github_app": ({GENAI, OPENAI, STRIPE, CLERK, SECRETS, TASKS, GOOGLE_AUTH, *ANALYSERS}, ("GET", "/")),
    # A dispatch without the queue's token is refused before the engine or the queue client loads.
    "review_worker": (
        {GENAI, OPENAI, STRIPE, CLERK, SECRETS, TASKS, *ANALYSERS},
        ("POST", "/"),
        {"REVIEW_WORKER_URL": "http://127.0.0.1:9/", "REVIEW_WORKER_SERVICE_ACCOUNT": "a@p.iam.gserviceaccount.com"},
    ),
}

PROBE = """
import json, sys
import functions_framework
name, method, path, heavy = sys.argv[1], sys.argv[2], sys.argv[3], json.loads(sys.argv[4])
client = functions_framework.create_app(name, f"functions/{name}/main.py").test_client()
at_start = sorted(h for h in heavy if h in sys.modules)
status = client.open(path, method=method, headers={"X-Dev-User": "cold_start"}).status_code
serving = sorted(h for h in heavy if h in sys.modules)
print(json.dumps({"start": at_start, "serving": serving, "status": status}))
"""


def probe(name: str, method: str, path: str, heavy: set[str], pg_url: str, **extra_env: str) -> dict:
    """Start the function in a fresh process, send it one request: which of `heavy` it loaded, when."""
    env = {"PATH": "/usr/bin:/bin", "LOG_LEVEL": "WARNING", "DATABASE_URL": pg_url, "PYTHONPATH": str(ROOT)}
    env.update(extra_env)
    out = subprocess.run(
        [sys.executable, "-c", PROBE, name, method, path, json.dumps(sorted(heavy))],
        cwd=ROOT,
        env=env,
        capture_output=True,
        text=True,
    )
    assert out.returncode == 0, out.stderr[-2000:]
    return json.loads(out.stdout.strip().splitlines()[-1])


@pytest.mark.parametrize("name", sorted(EXPECTATIONS))
def test_function_does_not_load_sdks_it_does_not_use(name, pg_url, tmp_path):
    forbidden, (method, path), *extra_env = EXPECTATIONS[name]
    result = probe(name, method, path, forbidden, pg_url, **(extra_env[0] if extra_env else {}))
    assert result["status"] < 500
    assert result["start"] == [] and result["serving"] == [], result


def test_every_function_has_expectations():
    present = {p.parent.name for p in (ROOT / "functions").glob("*/main.py")}
    assert present <= set(EXPECTATIONS), f"add cold-start expectations for {sorted(present - set(EXPECTATIONS))}"


# function -> the tables it maps at start (each costs SQLAlchemy and pydantic ~3 ms): the ones it
# touches on every call, and no others.
# The functions that take API keys map ApiKey on the first request that carries one, not at start;
# ApiUsage is mapped by the thread that writes the usage rows, after the first answer (shared/usage.py).
TABLES_AT_START = {
    "billing": {"user_subscription"},
    "generate_diff": {"user_subscription"},
    "history": {"user_subscription", "review_history", "review_feedback"},
    # With no model configured (as here) a review is never cached: its table loads with a model only.
    "review_code": {"user_subscription", "review_history"},
    "review_repo": {"user_subscription", "review_history"},
    "stripe_webhook": {"user_subscription", "stripe_event"},
    # Creating a key is rate-limited: the limiter imports the plans.
    "keys": {"user_subscription", "api_key"},
    "health": {"user_subscription"},  # the limiter, probed for its store, imports the plans
    # The limiter (per address here) imports the plans, and with them UserSubscription.
    "metrics": {"user_subscription"},
}
# Each area's services and bodies; a function loads its own area's and no other's.
AREAS = {
    "billing": {"shared.billing.service"},
    "generate_diff": {"shared.review.fix"},
    "history": {"shared.history.schemas", "shared.history.feedback"},
    "review_code": {"shared.review.engine"},
    "review_repo": {"shared.repo.review", "shared.review.engine"},
    "stripe_webhook": {"shared.billing.stripe_events", "shared.billing.service"},
    # Key sign-in (shared.keys.signin and its service) is shared like shared.auth; the bodies are the keys' own.
    "keys": {"shared.keys.schemas"},
    "health": {"shared.health"},
    "metrics": {"shared.web_vitals"},
}

MODULES_AT_START = """
import json, sys
import functions_framework
functions_framework.create_app(sys.argv[1], f"functions/{sys.argv[1]}/main.py")
print(json.dumps(sorted(m for m in sys.modules if m.startswith(("shared.", "coderevai_core")))))
"""


def modules_at_start(name: str, **extra_env: str) -> set[str]:
    """Our modules (shared's and the core's) the function has loaded once it is built, in a fresh process."""
    env = {"PATH": "/usr/bin:/bin", "LOG_LEVEL": "WARNING", "PYTHONPATH": str(ROOT), **extra_env}
    out = subprocess.run(
        [sys.executable, "-c", MODULES_AT_START, name], cwd=ROOT, env=env, capture_output=True, text=True
    )
    assert out.returncode == 0, out.stderr[-2000:]
    return set(json.loads(out.stdout.strip().splitlines()[-1]))


@pytest.mark.parametrize("name", sorted(TABLES_AT_START))
def test_function_builds_only_its_own_tables_and_bodies(name):
    loaded = modules_at_start(name)
    tables = {m.removeprefix("shared.models.") for m in loaded if m.startswith("shared.models.")}
    assert tables == TABLES_AT_START[name]
    other_areas = set().union(*AREAS.values()) - AREAS[name]
    assert loaded & other_areas == set()
    assert AREAS[name] <= loaded


def test_a_configured_model_loads_its_review_path_at_start_and_none_loads_it_never():
    """Where a model is configured every review uses its path (the cache and its table, prompts,
    triage), so the instance loads it at start rather than on the first request; with none, never."""
    model_path = {"shared.review.model_review", "shared.review.cache", "shared.models.review_cache"}
    assert modules_at_start("review_code") & model_path == set()
    assert modules_at_start("review_code", GEMINI_API_KEY="test-key") >= model_path
    batches = model_path | {"shared.repo.batches", "shared.repo.synthesis"}
    assert modules_at_start("review_repo") & batches == set()
    assert modules_at_start("review_repo", GEMINI_API_KEY="test-key") >= batches


# The static pass and its analysers' runners (shellcheck, hadolint, zizmor) are for reviews only.
NEVER_REVIEW = ("billing", "history", "stripe_webhook", "keys", "health", "metrics")
STATIC_PASS = {"shared.review.static", "shared.review.static.external", "shared.review.static.shell",
               "shared.review.static.dockerfile", "shared.review.static.workflows"}  # fmt: skip


@pytest.mark.parametrize("name", NEVER_REVIEW)
def test_functions_that_never_review_do_not_load_the_static_pass(name):
    assert modules_at_start(name) & STATIC_PASS == set()


@pytest.mark.parametrize("name", ["review_code", "review_repo", "generate_diff"])
def test_a_configured_openai_provider_loads_its_sdk_on_the_first_call_only(name, pg_url):
    """An instance that starts (and refuses a bad body) never pays for the SDK it has not called."""
    openai = {"MODEL_PROVIDER": "openai", "OPENAI_MODEL": "llama3.1:8b", "OPENAI_BASE_URL": "http://127.0.0.1:9/v1"}
    result = probe(name, "POST", "/", {OPENAI, GENAI}, pg_url, **openai)
    assert result["status"] == 400 and result["start"] == [] and result["serving"] == [], result


# The core's modules (coderevai_core) a function loads at start: what it loaded of them when they sat
# in shared/, no more. The package itself imports nothing; every function's log lines are cut to
# their bounds (coderevai_core.bounded, one standard-library function), and every function's settings
# and request bodies name the review modes and the language rule (coderevai_core.options: a Literal and
# a regular expression, which sat in shared/schemas.py and shared/config.py), so the history function,
# say, loads those two alone. `.coderevai.yml`'s model (coderevai_core.repo_config) is the App's only.
EVERY = {"coderevai_core", "coderevai_core.bounded", "coderevai_core.options"}
# The secrets check compiles its patterns on first use (coderevai_core.lazy_regex).
REVIEWS = EVERY | {
    "coderevai_core.findings",
    "coderevai_core.secret_scan",
    "coderevai_core.secret_values",
    "coderevai_core.lazy_regex",
}
CORE_AT_START = {
    "review_code": REVIEWS | {"coderevai_core.markdown"},
    "generate_diff": REVIEWS,
    "review_repo": REVIEWS | {"coderevai_core.markdown", "coderevai_core.changed_lines", "coderevai_core.selection"},
}


@pytest.mark.parametrize("name", sorted(TABLES_AT_START))
def test_function_loads_only_the_core_modules_it_uses(name):
    loaded = {m for m in modules_at_start(name) if m.startswith("coderevai_core")}
    assert loaded == CORE_AT_START.get(name, EVERY)


# The analysers of one kind of file each (ruff and bandit: python_tools), loaded with the first such file.
ANALYSER_MODULES = (
    "shared.review.static.python_tools",
    "shared.review.static.shell",
    "shared.review.static.dockerfile",
    "shared.review.static.workflows",
)
REVIEW_SHELL = """
import json, sys
import functions_framework
client = functions_framework.create_app("review_code", "functions/review_code/main.py").test_client()
analysers = json.loads(sys.argv[1])
at_start = [m for m in analysers if m in sys.modules]
body = {"code": "#!/bin/sh\\neval \\"$1\\"\\n", "language": "bash", "reviewModes": ["security"]}
status = client.post("/", json=body, headers={"X-Dev-User": "cold_start"}).status_code
print(json.dumps({"start": at_start, "serving": [m for m in analysers if m in sys.modules], "status": status}))
"""


def test_an_analyser_loads_with_the_first_file_of_its_kind(pg_url):
    env = {"PATH": "/usr/bin:/bin", "LOG_LEVEL": "WARNING", "DATABASE_URL": pg_url, "PYTHONPATH": str(ROOT)}
    out = subprocess.run(
        [sys.executable, "-c", REVIEW_SHELL, json.dumps(ANALYSER_MODULES)],
        cwd=ROOT,
        env=env,
        capture_output=True,
        text=True,
    )
    assert out.returncode == 0, out.stderr[-2000:]
    result = json.loads(out.stdout.strip().splitlines()[-1])
    assert result == {"start": [], "serving": ["shared.review.static.shell"], "status": 200}, result
