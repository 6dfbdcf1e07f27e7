"""Schemathesis against the one-port local server: generated requests for every operation in
openapi.yaml (bounded in count and time) must get no server error and no response that breaks the
document."""

from __future__ import annotations

import json
import os
import subprocess
import sys

import pytest

from tests.conftest import ROOT
from tests.fakes.gemini import DEFAULT_REVIEW, FakeGemini, generation
from tests.fakes.server import Reply, Seen
from tests.fakes.stripe_api import FakeStripe
from tests.support import server_process

CHECKS = "not_a_server_error,status_code_conformance,content_type_conformance,response_headers_conformance,response_schema_conformance"


def answer_any_schema(seen: Seen) -> Reply:
    """Gemini as the fuzz run needs it: a valid answer for whichever schema the call asks for."""
    schema = json.dumps(seen.json().get("generationConfig", {}))
    return generation({"modifiedCode": "fixed = True\n"} if "modifiedCode" in schema else DEFAULT_REVIEW)


@pytest.fixture
def upstreams():
    """Gemini and Stripe faked, so the run reaches the code paths of a configured deployment."""
    with FakeGemini() as gemini:
        gemini.server.route("POST", "/", answer_any_schema)
        stripe = FakeStripe()
        stripe.server.start()
        yield {
            "GEMINI_API_KEY": "fuzz-gemini-key",
            "GEMINI_BASE_URL": gemini.url,
            "GEMINI_MAX_ATTEMPTS": "1",
            "STRIPE_SECRET_KEY": "sk_test_billing",  # the key the fake accepts
            "STRIPE_WEBHOOK_SECRET": "whsec_fuzz0123456789",
            "STRIPE_PRICE_ID_PRO": "price_fuzz_pro",
            "STRIPE_API_BASE": stripe.url,
            "BILLING_SUCCESS_URL": "https://app.example.com/ok",
            "BILLING_CANCEL_URL": "https://app.example.com/cancel",
            # The GitHub App's signed-in side configured: its install link answers 302, not 503.
            "GITHUB_WEBHOOK_SECRET": "github-fuzz-secret",
            "GITHUB_APP_SLUG": "coderevai-fuzz",
        }
        stripe.server.stop()


@pytest.fixture
def local_server(pg_url, tmp_path, upstreams):
    routes = ("review_code", "review_repo", "generate_diff", "history", "keys", "metrics")
    generous = {route: {"free": 100_000} for route in routes}  # 429s would leave the logic behind them untested
    env = {
        "DATABASE_URL": pg_url,
        "LOG_LEVEL": "ERROR",
        "RATE_LIMITS": json.dumps(generous),
        "GITHUB_API_URL": "http://127.0.0.1:1",  # nothing listens: a fetched repository is an upstream outage
        **upstreams,
    }
    with server_process.local_server(env, tmp_path / "server.log") as url:
        yield url


def test_fuzzed_requests_get_no_server_error_and_match_the_document(local_server, tmp_path):
    command = [
        os.path.join(os.path.dirname(sys.executable), "st"), "run", str(ROOT / "openapi.yaml"),
        "--url", local_server,
        "--header", "X-Dev-User: fuzzer",
        "--checks", CHECKS,
        "--max-examples", os.environ.get("FUZZ_EXAMPLES", "25"),
        "--max-time", "150",
        "--seed", "20261125",
        "--request-timeout", "30",
        "--workers", "2",
        "--no-color",
    ]  # fmt: skip
    result = subprocess.run(command, cwd=tmp_path, capture_output=True, text=True, timeout=300)
    output = result.stdout + result.stderr
    server_log = (tmp_path / "server.log").read_text()
    assert result.returncode == 0, output[-6000:] + "\n--- server log ---\n" + server_log[-3000:]
    assert "passed" in output.lower()
