"""generate_diff end to end: ruff fixes offline, Gemini (the fake) when configured."""

from __future__ import annotations

import uuid

import pytest

from tests.conftest import function_client
from tests.fakes.gemini import FakeGemini, failure, generation
from tests.fakes.server import Reply, Seen

ORIGINAL = "import os\nimport sys\n\nprint( sys.argv )\n"


def user() -> dict[str, str]:
    return {"X-Dev-User": f"differ_{uuid.uuid4().hex[:8]}"}


@pytest.fixture
def client(db_env):
    return function_client("generate_diff")


def post(client, **body):
    payload = {"originalCode": ORIGINAL, "language": "python", "feedback": "Remove the unused import.", **body}
    return client.post("/", json=payload, headers=user())


def test_offline_python_is_fixed_by_ruff(client):
    response = post(client)
    assert response.status_code == 200, response.json
    assert response.json["modifiedCode"] == "import sys\n\nprint(sys.argv)\n"
    assert response.json["model"] == "ruff"
    assert response.json["diff"] == (
        "--- original\n+++ modified\n@@ -1,4 +1,3 @@\n-import os\n import sys\n \n-print( sys.argv )\n+print(sys.argv)\n"
    )


def test_offline_fix_keeps_crlf_line_endings(client):
    response = post(client, originalCode=ORIGINAL.replace("\n", "\r\n"))
    assert response.status_code == 200, response.json
    assert response.json["modifiedCode"] == "import sys\r\n\r\nprint(sys.argv)\r\n"
    changed = [line for line in response.json["diff"].split("\n")[3:] if line and line[0] in "+-"]
    assert changed == ["-import os\r", "-print( sys.argv )\r", "+print(sys.argv)\r"]  # not every line


def test_offline_unparseable_python_is_a_400_naming_the_line(client):
    response = post(client, originalCode="x = 1\ndef f(:\n  pass\n")
    assert response.status_code == 400 and "line 2" in response.json["error"]


def test_offline_other_languages_need_the_model(client):
    response = post(client, originalCode="let x = 1;", language="javascript")
    assert response.status_code == 503
    assert response.json["reason"] == "MODEL_UNAVAILABLE" and "javascript" in response.json["error"]


def test_oversize_code_is_a_413_with_the_cap(client):
    at_cap = post(client, originalCode="x = 1\n" * (200 * 1024 // 6))
    assert at_cap.status_code != 413
    response = post(client, originalCode="x" * (200 * 1024 + 1))
    assert response.status_code == 413 and "204800 bytes" in response.json["error"]
    assert response.json["code"] == "FILE_TOO_LARGE" and response.json["maxBytes"] == 200 * 1024


def test_with_the_model_the_rewrite_comes_from_gemini(client, db_env):
    with FakeGemini() as gemini:
        db_env(GEMINI_API_KEY="k", GEMINI_BASE_URL=gemini.url, GEMINI_RETRY_DELAY_SECONDS="0.01")
        gemini.then(generation({"modifiedCode": "let x = 2;\n"}, prompt_tokens=40, output_tokens=8))
        response = post(client, originalCode="let x = 1;\n", language="javascript", feedback="x should be 2")
        assert response.status_code == 200
        assert response.json == {
            "modifiedCode": "let x = 2;\n",
            "diff": "--- original\n+++ modified\n@@ -1 +1 @@\n-let x = 1;\n+let x = 2;\n",
            "model": "gemini-2.5-flash",
        }
        sent = gemini.user_text()
        assert "<review_feedback>\nx should be 2\n</review_feedback>" in sent
        assert "x should be 2" not in gemini.system_text()
        gemini.then(failure(500), failure(500), failure(500))
        assert post(client, language="javascript").status_code == 502


def test_missing_trailing_newline_is_marked_in_the_diff():
    from shared.review.fix import unified_diff

    assert unified_diff("a\nb", "a\nc\n").endswith("-b\n\\ No newline at end of file\n+c\n")


def test_rate_limit_answers_429(client, db_env, redis_prefix):
    from tests.conftest import REDIS_URL

    db_env(REDIS_URL=REDIS_URL, RATE_LIMIT_PREFIX=redis_prefix, RATE_LIMITS='{"generate_diff": {"free": 1}}')
    headers = user()
    payload = {"originalCode": ORIGINAL, "language": "python", "feedback": "tidy"}
    first, second = (client.post("/", json=payload, headers=headers) for _ in range(2))
    assert first.status_code == 200 and first.headers["X-RateLimit-Limit"] == "1"
    assert second.status_code == 429 and second.json["reason"] == "RATE_LIMITED"


def test_secrets_are_masked_for_the_model_and_put_back_in_the_rewrite(client, db_env):
    key = "-----BEGIN RSA PRIVATE KEY-----\nMIIEowIBAAKCAQEA0Z3VS5JJcds3xfn\n-----END RSA PRIVATE KEY-----"
    original = (
        f'DB_PASSWORD = "kV9-db-pass-7Qz"\nKEY = """{key}"""\nTOKEN = "ghp_ErQHQwjyaxErPZDS3MoJaQNjCxkv5ndK0meG"\n'
    )
    feedback = 'Do not hard-code "kV9-db-pass-7Qz"; read it from the environment.'

    def model(seen: Seen) -> Reply:
        text = "".join(part["text"] for content in seen.json()["contents"] for part in content["parts"])
        code = text.split("<original_code>\n", 1)[1].rsplit("\n</original_code>", 1)[0]
        return generation({"modifiedCode": "import os\n\n" + code})  # the model keeps the placeholders

    with FakeGemini() as gemini:
        db_env(GEMINI_API_KEY="k", GEMINI_BASE_URL=gemini.url, GEMINI_RETRY_DELAY_SECONDS="0.01")
        gemini.server.route("POST", "/", model)
        response = post(client, originalCode=original, language="python", feedback=feedback)
        assert response.status_code == 200, response.json
        request = gemini.calls[0].body.decode()
    for secret in ("kV9-db-pass-7Qz", "MIIEowIBAAKCAQEA0Z3VS5JJcds3xfn", "ErQHQwjyaxErPZDS3", "BEGIN RSA"):
        assert secret not in request
    assert response.json["modifiedCode"] == "import os\n\n" + original
    changed = [line for line in response.json["diff"].split("\n")[3:] if line and line[0] in "+-"]
    assert changed == ["+import os", "+"]
