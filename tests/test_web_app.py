"""Every call of the CodeRevAI web app (../shared/FRONTEND.md), sent exactly as its browser code sends
it: to the one-port local server's /api paths, signed in by Clerk's `__session` cookie, from the
app's origin. Each test asserts the fields the web app reads and the error bodies it handles; every
answer is also checked against openapi.yaml."""

from __future__ import annotations

import io
import json
import re
import uuid

import psycopg
import pytest
from werkzeug.test import Client
from werkzeug.wrappers import Request

from shared.errors import PUBLIC_CODES
from tests.fakes.gemini import FakeGemini, failure

APP = "https://app.example.com"
PRICE_PRO = "price_1ProMonthly"
VULNERABLE_TS = "const run = (req) => eval(req.body.code);\nconst AWS = 'AKIAQ3EGRWTZH6LYVNM5';\n"


class WebApp:
    """The browser: the app's origin, the session cookie, JSON bodies, and the checks the web app's
    own code makes on each answer (apiErrorHandling.ts: an error needs string `code` and `message`)."""

    def __init__(self, client: Client, token: str) -> None:
        self.client = client
        self.client.set_cookie("__session", token, domain="localhost")
        self.headers = {"Origin": APP}

    def call(self, method: str, path: str, *, json=None, data=None, headers=None, **kwargs):
        sent = {name: value for name, value in {**self.headers, **(headers or {})}.items() if value is not None}
        response = self.client.open(path, method=method, json=json, data=data, headers=sent, **kwargs)
        check_documented(response)
        assert response.headers["X-Request-ID"]
        response.ok = 200 <= response.status_code < 300  # what the web app checks, as fetch's Response.ok
        if response.status_code >= 400:
            body = response.json
            assert isinstance(body["code"], str) and body["code"] in PUBLIC_CODES, body
            assert isinstance(body["message"], str) and body["message"], body
            assert isinstance(body["retryable"], bool)
            assert "details" not in body or isinstance(body["details"], str)
        return response


def check_documented(response) -> None:
    """openapi.yaml describes the /api paths themselves: check the answer under the path it was sent to."""
    from openapi_core.contrib.werkzeug import WerkzeugOpenAPIRequest, WerkzeugOpenAPIResponse

    from tests.support.openapi_check import _documented, _spec

    environ = dict(response.request.environ)
    if environ["REQUEST_METHOD"] not in _documented().get(environ["PATH_INFO"], set()):
        return
    environ.update(HTTP_HOST="127.0.0.1:8080", SERVER_NAME="127.0.0.1", SERVER_PORT="8080")
    environ.update({"wsgi.url_scheme": "http", "wsgi.input": io.BytesIO(b""), "CONTENT_LENGTH": "0"})
    _spec().validate_response(WerkzeugOpenAPIRequest(Request(environ)), WerkzeugOpenAPIResponse(response))


@pytest.fixture
def web_env(auth_env, fake_stripe, redis_prefix):
    auth_env(
        ALLOWED_ORIGINS=APP,
        REDIS_URL="redis://127.0.0.1:6379/0",
        RATE_LIMIT_PREFIX=redis_prefix,
        STRIPE_SECRET_KEY="sk_test_billing",
        STRIPE_PRICE_ID_PRO=PRICE_PRO,
        STRIPE_API_BASE=fake_stripe.url,
        BILLING_SUCCESS_URL=f"{APP}/billing/success",
        BILLING_CANCEL_URL=f"{APP}/billing",
    )
    return auth_env


@pytest.fixture
def user_id() -> str:
    return f"user_{uuid.uuid4().hex[:12]}"


@pytest.fixture
def browser(web_env, clerk_keys, user_id) -> WebApp:
    from scripts.local_server import build_app

    return WebApp(Client(build_app()), clerk_keys.token(user_id, azp=APP))


def history_rows(pg_url: str, user: str) -> list[tuple]:
    with psycopg.connect(pg_url) as conn:
        return conn.execute(
            'SELECT type, language, "fileName", "repoUrl", "reviewModes" FROM "ReviewHistory" WHERE "userId" = %s',
            (user,),
        ).fetchall()


def history_item(feedback: str, **fields) -> dict:
    """What the dashboard (app/dashboard/page.tsx) POSTs after each review."""
    return {"id": str(uuid.uuid4()), "timestamp": 1_764_000_000_000, "feedback": feedback, **fields}


# --- the review flow: a review, then the web app's POST of it to the history ------------------------


def test_file_review_then_its_history_post_leaves_one_row_the_panel_reads(browser, pg_url, user_id):
    assert browser.call("GET", "/api/history").json["history"] == []
    review = browser.call(
        "POST",
        "/api/review-code",
        json={
            "code": VULNERABLE_TS,
            "language": "typescript",
            "customPrompt": "",
            "reviewModes": ["security", "bug-fixes"],
        },
    )
    assert review.status_code == 200
    feedback = review.json["feedback"]
    assert "AKIAQ3EGRWTZH6LYVNM5" not in feedback and feedback

    item = history_item(
        feedback,
        fileName="src/run.ts",
        language="TypeScript",
        code=VULNERABLE_TS,
        mode=["security", "bug_fixes"],
        reviewType="file",
    )
    saved = browser.call("POST", "/api/history", json=item)
    assert saved.ok
    assert saved.json["id"] == review.json["reviewId"]
    again = browser.call("POST", "/api/history", json=item)  # fetchWithRetry may send it twice
    assert again.ok and again.json["id"] == review.json["reviewId"]

    [row] = history_rows(pg_url, user_id)
    assert row == ("code", "TypeScript", "src/run.ts", None, ["security", "bug_fixes"])
    [listed] = browser.call("GET", "/api/history").json["history"]
    assert listed["id"] == review.json["reviewId"]
    assert (listed["fileName"], listed["language"], listed["reviewType"]) == ("src/run.ts", "TypeScript", "file")
    assert listed["mode"] == ["security", "bug_fixes"] and listed["feedback"] == feedback
    assert listed["code"] == VULNERABLE_TS and isinstance(listed["timestamp"], int)
    # and the database's shape, for the setup guide's version of the app
    assert (listed["type"], listed["codeSnippet"], listed["repoUrl"]) == ("code", VULNERABLE_TS, None)


@pytest.mark.parametrize(
    "typed",
    [
        "https://github.com/octo/demo",
        "http://github.com/octo/demo",
        "https://github.com/octo/demo.git",
        "https://github.com/octo/demo/tree/main/src",
        "https://github.com/octo/demo/blob/main/app.py",
        "https://github.com/octo/demo?tab=readme-ov-file",
    ],
)
def test_repository_review_with_the_url_as_typed_then_its_history_post(browser, pg_url, user_id, typed):
    files = [
        {"path": "app.py", "content": "import os\n\nprint(eval(input()))\n"},
        {"path": "README.md", "content": "# hi\n"},
    ]
    review = browser.call(
        "POST",
        "/api/review-repo",
        json={"files": files, "repoUrl": typed, "customPrompt": "", "reviewModes": ["security"]},
    )
    assert review.status_code == 200, review.json
    item = history_item(
        review.json["feedback"], fileName=typed, language="Repository", code="", mode=["security"], reviewType="repo"
    )
    assert browser.call("POST", "/api/history", json=item).ok
    [row] = history_rows(pg_url, user_id)
    assert row == ("repository", "Repository", None, "https://github.com/octo/demo", ["security"])
    [listed] = browser.call("GET", "/api/history").json["history"]
    assert (listed["reviewType"], listed["fileName"], listed["code"]) == ("repo", "https://github.com/octo/demo", "")


def test_a_history_post_of_an_earlier_review_is_stored(browser, pg_url, user_id):
    """An item no review function saved (the old app's local history, say) is added."""
    item = history_item(
        "## Old review",
        fileName="Pasted Snippet",
        language="Go",
        code="package main",
        mode="security",
        reviewType="file",
    )
    assert browser.call("POST", "/api/history", json=item).status_code == 201
    assert history_rows(pg_url, user_id) == [("code", "Go", "Pasted Snippet", None, ["security"])]


def test_clearing_the_history(browser, pg_url, user_id):
    browser.call(
        "POST",
        "/api/history",
        json=history_item(
            "## one", fileName="a.py", language="Python", code="x", mode=["comprehensive"], reviewType="file"
        ),
    )
    cleared = browser.call("DELETE", "/api/history")
    assert cleared.ok and cleared.json["success"] is True
    assert history_rows(pg_url, user_id) == []


def test_generate_diff_with_the_language_label(browser):
    fixed = browser.call(
        "POST",
        "/api/generate-diff",
        json={
            "originalCode": "import os\nimport sys\n\nprint(sys.argv)\n",
            "language": "Python",
            "feedback": "## Remove the unused import",
        },
    )
    assert fixed.status_code == 200
    assert fixed.json["modifiedCode"] == "import sys\n\nprint(sys.argv)\n"


@pytest.mark.parametrize(
    "language", ["typescript", "TypeScript", "csharp", "C#", "go", "Go", "php", "sql", "rust", "java"]
)
def test_every_language_value_and_label_is_reviewed(browser, language):
    review = browser.call(
        "POST",
        "/api/review-code",
        json={
            "code": "x = 1  # a snippet\n",
            "language": language,
            "customPrompt": "",
            "reviewModes": ["comprehensive"],
        },
    )
    assert review.status_code == 200 and review.json["feedback"]


# --- sizes: every body the web app sends fits the cap of the function it goes to -------------------


def as_sent(body: dict) -> bytes:
    """What the browser's JSON.stringify writes: no spaces, characters as they are (not escaped)."""
    return json.dumps(body, ensure_ascii=False, separators=(",", ":")).encode()


def filled(body: dict, path: tuple, size: int) -> bytes:
    """`body` with the text at `path` (keys and indexes) grown with ASCII letters to `size` bytes in all."""
    target = body
    for step in path[:-1]:
        target = target[step]
    target[path[-1]] += "a" * (size - len(as_sent(body)))
    sent = as_sent(body)
    assert len(sent) == size
    return sent


def test_every_body_the_web_app_sends_fits_its_functions_cap(browser):
    """FRONTEND.md's calls, each with the largest body the web app sends: review-code and review-repo
    as much as the platform carries (judged on their fields, not refused for their size), the
    history save of such a review with its whole code and the longest feedback a review answers, that
    feedback to generate-diff, a key's longest name, a beacon as large as sendBeacon carries. One byte
    past the platform is 413 with the web app's code."""
    from shared.history.service import MAX_FEEDBACK_CHARS
    from shared.http import PLATFORM_MAX_BODY_BYTES as PLATFORM
    from shared.review.schemas import MAX_DIFF_CODE_BYTES

    feedback = "😀" * MAX_FEEDBACK_CHARS  # a review's feedback is cut to this many characters, 4 bytes each at most
    bad_mode = {"customPrompt": "", "reviewModes": ["poetry"]}  # read whole, then refused on this field

    def review_code():
        return {"code": "", "language": "typescript", **bad_mode}

    def review_repo():
        return {"files": [{"path": "src/app.ts", "content": ""}], "repoUrl": "https://github.com/o/r", **bad_mode}

    def save():
        return {"id": str(uuid.uuid4()), "timestamp": 1_764_000_000_000, "fileName": "src/app.ts",
                "language": "typescript", "feedback": feedback, "code": "", "mode": ["security"],
                "reviewType": "file"}  # fmt: skip

    calls = [
        ("/api/review-code", review_code, ("code",), 400, "FILE_TOO_LARGE"),
        ("/api/review-repo", review_repo, ("files", 0, "content"), 400, "REPO_TOO_LARGE"),
        ("/api/history", save, ("code",), 201, "FILE_TOO_LARGE"),
    ]
    json_type = {"Content-Type": "application/json"}
    for path, body, field, status, too_large in calls:
        at_cap = browser.call("POST", path, data=filled(body(), field, PLATFORM), headers=json_type)
        assert at_cap.status_code == status, (path, at_cap.json)
        if status == 400:
            assert at_cap.json["message"].startswith("Invalid input: reviewModes"), (path, at_cap.json)
        past = browser.call("POST", path, data=filled(body(), field, PLATFORM + 1), headers=json_type)
        assert (past.status_code, past.json["code"], past.json["maxBytes"]) == (413, too_large, PLATFORM), path

    code = "x = 1\n" * (MAX_DIFF_CODE_BYTES // 6)
    diff = {"originalCode": code, "language": "Python", "feedback": feedback}
    fixed = browser.call("POST", "/api/generate-diff", data=as_sent(diff), headers=json_type)
    assert fixed.status_code == 200, fixed.json
    named = browser.call("POST", "/api/keys", data=as_sent({"name": "😀" * 50}), headers=json_type)
    assert named.status_code == 201, named.json
    shift = {"name": "", "entryType": "layout-shift", "startTime": 812.4, "duration": 0, "value": 0.02,
             "hadRecentInput": False, "lastInputTime": 0,
             "sources": [{"node": {}, "previousRect": {"x": 0, "y": 96, "width": 1280, "height": 402},
                          "currentRect": {"x": 0, "y": 120, "width": 1280, "height": 402}}]}  # fmt: skip
    metric = {"name": "CLS", "value": 0.3, "rating": "poor", "delta": 0.3, "id": "v4-1-3", "entries": [],
              "navigationType": "navigate"}  # fmt: skip
    while len(as_sent({**metric, "entries": [*metric["entries"], shift]})) <= 64 * 1024:
        metric["entries"].append(shift)  # as many layout shifts as one sendBeacon (64 KiB) carries
    beacon = browser.call("POST", "/api/metrics", data=as_sent(metric), headers={"Content-Type": "text/plain"})
    assert beacon.status_code == 204


# --- billing --------------------------------------------------------------------------------------


def test_billing_page_subscription_checkout_and_portal(browser, fake_stripe, user_id):
    assert browser.call("GET", "/api/subscription").json == {"subscription": None}

    # redirectToCheckout (stripeUtils.ts) sends the price it knows; the server picks its own.
    checkout = browser.call("POST", "/api/create-checkout-session", json={"priceId": "price_attacker", "plan": "pro"})
    assert checkout.status_code == 200 and checkout.json["url"].startswith("https://")
    assert fake_stripe.checkouts[-1]["line_items[0][price]"] == PRICE_PRO

    # the billing page posts a JSON content type and no body
    portal = browser.call("POST", "/api/customer-portal", headers={"Content-Type": "application/json"})
    assert portal.status_code == 404  # no Stripe customer yet: the page shows `message`
    assert portal.json["code"] == "NOT_FOUND" and "customer" in portal.json["message"].lower()


def test_portal_and_subscription_for_a_subscriber(browser, pg_url, user_id):
    from tests.support.billing import store_subscription

    row = store_subscription(pg_url, user_id)
    subscription = browser.call("GET", "/api/subscription").json["subscription"]
    assert subscription["plan"] == "pro" and subscription["status"] == "active"
    assert subscription["cancelAtPeriodEnd"] is False and isinstance(subscription["currentPeriodEnd"], int)
    portal = browser.call("POST", "/api/customer-portal", headers={"Content-Type": "application/json"})
    assert portal.status_code == 200 and portal.json["url"].startswith("https://")
    assert row["stripeCustomerId"]


# --- errors as the web app handles them -------------------------------------------------------------


def test_signed_out_is_unauthorized_with_a_message(web_env):
    from scripts.local_server import build_app

    response = Client(build_app()).get("/api/history", headers={"Origin": APP})
    assert response.status_code == 401
    assert response.json["code"] == "UNAUTHORIZED" and response.json["message"]


def test_a_cookie_signed_post_from_another_site_is_refused(browser, pg_url, user_id):
    item = history_item("## forged", fileName="a.py", language="Python", code="x", mode=["security"], reviewType="file")
    for headers in (
        {"Origin": "https://evil.example"},
        {"Origin": None, "Referer": "https://evil.example/page"},
        {"Origin": "null"},
    ):
        forged = browser.call("POST", "/api/history", json=item, headers=headers)
        assert forged.status_code == 403 and forged.json["code"] == "UNAUTHORIZED"
        assert forged.json["reason"] == "ORIGIN_FORBIDDEN"
    assert browser.call("DELETE", "/api/history", headers={"Origin": "https://evil.example"}).status_code == 403
    # the app's own pages, by Origin or by Referer
    assert browser.call("POST", "/api/history", json=item, headers={"Origin": None, "Referer": f"{APP}/dashboard"}).ok
    assert len(history_rows(pg_url, user_id)) == 1


def test_a_bearer_signed_post_needs_no_origin(web_env, clerk_keys, user_id):
    from scripts.local_server import build_app

    token = clerk_keys.token(user_id, azp=APP)
    item = history_item("## script", fileName="a.py", language="Python", code="x", mode=["security"], reviewType="file")
    response = Client(build_app()).post("/api/history", json=item, headers={"Authorization": f"Bearer {token}"})
    assert response.status_code == 201


def test_rate_limit_is_rate_limit_exceeded_with_retry_after(browser, web_env):
    web_env(RATE_LIMITS='{"review_code": {"free": 1}}')
    body = {"code": "print('hello')\n", "language": "python", "customPrompt": "", "reviewModes": ["comprehensive"]}
    assert browser.call("POST", "/api/review-code", json=body).status_code == 200
    refused = browser.call("POST", "/api/review-code", json=body)
    assert refused.status_code == 429
    assert refused.json["code"] == "RATE_LIMIT_EXCEEDED" and refused.json["retryable"] is True
    assert int(refused.headers["Retry-After"]) >= 1


def test_oversize_code_is_file_too_large_and_oversize_repository_repo_too_large(browser):
    pasted = browser.call(  # a 150 KB source file, as the web app lets users paste it
        "POST",
        "/api/review-code",
        json={"code": "x = 1\n" * 25_600, "language": "python", "customPrompt": "", "reviewModes": []},
    )
    assert pasted.status_code == 200, pasted.json
    code = browser.call(
        "POST",
        "/api/review-code",
        json={"code": "x" * (32 * 1024 * 1024), "language": "python", "customPrompt": "", "reviewModes": []},
    )
    assert code.status_code == 413 and code.json["code"] == "FILE_TOO_LARGE"
    assert code.json["maxBytes"] == 32 * 1024 * 1024
    files = [{"path": f"f{i}.py", "content": "x = 1\n" * 170_000} for i in range(33)]
    repo = browser.call(
        "POST",
        "/api/review-repo",
        json={"files": files, "repoUrl": "https://github.com/o/r", "customPrompt": "", "reviewModes": []},
    )
    assert repo.status_code == 413 and repo.json["code"] == "REPO_TOO_LARGE"


def test_bad_input_is_invalid_input_naming_the_field(browser):
    response = browser.call(
        "POST",
        "/api/review-code",
        json={"code": "print(1)\n", "language": "python", "customPrompt": "", "reviewModes": ["poetry"]},
    )
    assert response.status_code == 400 and response.json["code"] == "INVALID_INPUT"
    assert "reviewModes" in response.json["message"] and "reviewModes" in response.json["details"]
    not_github = browser.call(
        "POST",
        "/api/review-repo",
        json={
            "files": [{"path": "a.py", "content": "x = 1\n"}],
            "repoUrl": "https://gitlab.com/o/r",
            "customPrompt": "",
            "reviewModes": [],
        },
    )
    assert not_github.status_code == 400 and not_github.json["code"] == "INVALID_INPUT"


def test_model_outage_is_ai_service_error_and_retryable(browser, web_env):
    with FakeGemini() as gemini:
        web_env(GEMINI_API_KEY="test-gemini-key", GEMINI_BASE_URL=gemini.url, GEMINI_MAX_ATTEMPTS="1")
        gemini.then(failure(503))
        response = browser.call(
            "POST",
            "/api/review-code",
            json={"code": "print('x')\n", "language": "python", "customPrompt": "", "reviewModes": []},
        )
    assert response.status_code == 503
    assert response.json["code"] == "AI_SERVICE_ERROR" and response.json["retryable"] is True


def test_billing_outage_is_payment_error(browser, fake_stripe):
    fake_stripe.failing_with = 500
    response = browser.call("POST", "/api/create-checkout-session", json={"priceId": PRICE_PRO, "plan": "pro"})
    assert response.status_code == 502 and response.json["code"] == "PAYMENT_ERROR"


# --- the key manager (ApiKeyManager.tsx), a script using its key, health, the web-vitals beacon -----


def script() -> Client:
    from scripts.local_server import build_app

    return Client(build_app())


def test_key_manager_creates_lists_and_revokes_and_a_script_uses_the_key(browser):
    # createKey(): POST {name} with a JSON content type; it shows data.key once and re-fetches.
    created = browser.call("POST", "/api/keys", json={"name": "Make.com Integration"})
    assert created.ok
    key, key_id = created.json["key"], created.json["keyId"]
    assert re.fullmatch(r"sk_live_[0-9a-f]{48}", key)
    # fetchKeys(): the answer is the array itself; the table reads name, createdAt, lastUsed, id.
    listed = browser.call("GET", "/api/keys")
    assert listed.ok and isinstance(listed.json, list)
    [row] = listed.json
    assert (row["id"], row["name"], row["lastUsed"]) == (key_id, "Make.com Integration", None)
    assert re.fullmatch(r"\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}Z", row["createdAt"])  # new Date() parses it
    assert key not in listed.text

    # The script: base URL https://<instance>/api, the key as a Bearer token, no cookie, no Origin.
    body = {"code": "console.log(userInput)", "language": "javascript", "reviewModes": ["security"]}
    reviewed = script().post("/api/review-code", json=body, headers={"Authorization": f"Bearer {key}"})
    assert reviewed.status_code == 200 and reviewed.json["feedback"]
    assert browser.call("GET", "/api/keys").json[0]["lastUsed"] is not None

    # revokeKey(): DELETE /api/keys?id=...; only res.ok is read.
    revoked = browser.call("DELETE", f"/api/keys?id={key_id}")
    assert revoked.ok and revoked.json == {"success": True}
    assert browser.call("GET", "/api/keys").json == []


def test_key_manager_errors_carry_the_web_apps_codes(browser):
    too_long = browser.call("POST", "/api/keys", json={"name": "x" * 51})
    assert (too_long.status_code, too_long.json["code"]) == (400, "INVALID_INPUT")
    unknown = browser.call("DELETE", "/api/keys?id=c0notmine00000000000000")
    assert (unknown.status_code, unknown.json["code"]) == (404, "NOT_FOUND")
    # A cookie-signed POST from another site is refused here as on every state-changing call.
    forged = browser.call("POST", "/api/keys", json={"name": "forged"}, headers={"Origin": "https://evil.example"})
    assert forged.status_code == 403
    assert browser.call("GET", "/api/keys").json == []


def test_a_bad_key_is_unauthorized_for_the_script(web_env):
    response = script().post(
        "/api/review-code",
        json={"code": "x", "language": "python", "reviewModes": ["security"]},
        headers={"Authorization": "Bearer sk_live_" + "0" * 48},
    )
    assert response.status_code == 401
    assert response.json["code"] == "UNAUTHORIZED" and response.json["message"]


def test_health_for_an_uptime_check(web_env):
    response = script().get("/api/health")
    assert response.status_code == 200
    assert response.json["status"] == "healthy"
    assert set(response.json["checks"]) == {"database", "redis"}


def test_a_web_vitals_beacon(browser):
    # navigator.sendBeacon(url, JSON.stringify(metric)): text/plain, with the page's cookie and Origin.
    metric = {
        "name": "INP",
        "value": 72,
        "rating": "good",
        "delta": 72,
        "id": "v4-1-2",
        "entries": [],
        "navigationType": "reload",
    }
    response = browser.call(
        "POST", "/api/metrics", data=json.dumps(metric), headers={"Content-Type": "text/plain;charset=UTF-8"}
    )
    assert response.status_code == 204
