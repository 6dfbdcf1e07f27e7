"""review_repo end to end: functions-framework app, real PostgreSQL, the fake GitHub archive endpoint,
and (in test_review_repo_model.py) the fake Gemini."""

from __future__ import annotations

import os
import uuid

import psycopg
import pytest

from shared import usage
from tests.conftest import function_client
from tests.fakes.github import FakeGitHub, build_tarball
from tests.test_github import REJECTED_URLS

APP_PY = """\
import os
import subprocess


def run(command):
    command = command.strip()
    return eval(command)
"""
PRIVATE_KEY = "-----BEGIN RSA PRIVATE KEY-----\nMIIEowIBAAKCAQEA1234567890abcdef\n-----END RSA PRIVATE KEY-----\n"
REPOSITORY = {
    "app.py": APP_PY,
    "src/util.py": "def double(x):\n    return x * 2\n",
    "README.md": "# Demo\n",
    ".env": "API_KEY=sk-live-very-secret\n",
    "deploy/server.key": PRIVATE_KEY,
    "node_modules/left-pad/index.js": "module.exports = 1\n",
    "package-lock.json": "{}\n",
    "logo.png": b"\x89PNG\r\n\x1a\n\x00\x00",
}


def user() -> str:
    return f"repo_{uuid.uuid4().hex[:10]}"


def post(client, body, who):
    return client.post("/", json=body, headers={"X-Dev-User": who})


@pytest.fixture
def github(db_env):
    with FakeGitHub() as fake:
        db_env(GITHUB_API_URL=fake.url)
        yield fake


@pytest.fixture
def client(github):
    return function_client("review_repo")


def history_rows(pg_url, who):
    with psycopg.connect(pg_url) as conn:
        return conn.execute(
            'SELECT type, "repoUrl", language, "reviewModes", feedback FROM "ReviewHistory" WHERE "userId" = %s',
            (who,),
        ).fetchall()


def usage_rows(pg_url, who):
    usage.flush()  # rows are written in batches, off the request's path
    with psycopg.connect(pg_url) as conn:
        return conn.execute(
            'SELECT endpoint, "statusCode", "tokensUsed" FROM "ApiUsage" WHERE "userId" = %s', (who,)
        ).fetchall()


@pytest.mark.parametrize("url", REJECTED_URLS)
def test_every_rejected_url_is_400_and_nothing_is_fetched(client, github, pg_url, url):
    who = user()
    response = post(client, {"repoUrl": url, "reviewModes": ["security"]}, who)
    assert response.status_code == 400
    assert response.json["reason"] == "INVALID_REPO_URL"
    assert github.requests == []
    assert history_rows(pg_url, who) == []


def test_offline_review_of_a_github_repository_is_static_only(client, github, pg_url):
    github.serve_repo("octo", "demo", build_tarball(REPOSITORY), ref="main")
    who = user()
    response = post(client, {"repoUrl": "https://github.com/octo/demo/tree/main", "reviewModes": ["security"]}, who)
    assert response.status_code == 200, response.json
    body = response.json
    assert body["model"] == "static"
    assert body["cached"] is False
    assert body["usage"] == {"promptTokens": 0, "outputTokens": 0, "totalTokens": 0}
    assert body["reviewedFiles"] == ["app.py", "src/util.py", "README.md"]
    assert {s["path"]: s["reason"] for s in body["skippedFiles"]} == {
        ".env": "holds secrets (environment file): scanned here, never sent to the model",
        "deploy/server.key": "holds secrets (key, certificate or credentials): scanned here, never sent to the model",
        "node_modules/left-pad/index.js": "vendored or generated (node_modules/)",
        "package-lock.json": "lock file",
        "logo.png": "binary",
    }
    places = {(f["file"], f["line"], " ".join(f["detail"].split()[:2]).rstrip(":")) for f in body["findings"]}
    assert ("app.py", 7, "bandit B307") in places  # eval of a parameter
    assert ("app.py", 1, "ruff F401") not in places  # an unused import is lint: not in a security review
    held = {(f["file"], f["line"], f["severity"], f["title"]) for f in body["findings"] if f["source"] == "secrets"}
    assert held == {
        (".env", 1, "critical", "Hard-coded credential in a committed secrets file"),
        ("deploy/server.key", 1, "critical", "Private key in a committed secrets file"),
    }
    assert all(f["file"] for f in body["findings"])
    assert "sk-live-very-secret" not in response.get_data(as_text=True)
    [row] = history_rows(pg_url, who)
    assert row[:4] == ("repository", "https://github.com/octo/demo/tree/main", "python", ["security"])
    assert row[4] == body["feedback"]
    assert body["reviewId"]
    assert usage_rows(pg_url, who) == [("/review-repo", 200, 0)]


SECRETS_REPOSITORY = {
    "app.py": "def handler(event):\n    return {'ok': True}\n",
    ".env": (
        "STRIPE_SECRET_KEY=sk_live_51Qm8ZtR0vRzZ1fb6d06QGofB8ChQBi\n"
        "AWS_ACCESS_KEY_ID=AKIAQ7ZL3MXN5RT2WJ8P\n"
        "AWS_SECRET_ACCESS_KEY=Iu4NJkS4dJkG0fzMAQMEEMyIbPUf9mYQqw8a/K7e\n"
        "DEBUG_TOOLBAR=1\n"
    ),
    ".ssh/id_rsa": "-----BEGIN OPENSSH PRIVATE KEY-----\nb3BlbnNzaC1rZXktdjEAAAAABG5vbmUAAAAEbm9uZQ\n-----END OPENSSH PRIVATE KEY-----\n",
    "credentials.json": '{"type": "service_account", "client_email": "ci@proj.iam.gserviceaccount.test",\n'
    ' "client_secret": "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"}\n',
}


def test_a_repository_with_committed_secrets_reports_each_masked(client, github, pg_url):
    github.serve_repo("octo", "leaky", build_tarball(SECRETS_REPOSITORY))
    response = post(client, {"repoUrl": "https://github.com/octo/leaky"}, user())
    assert response.status_code == 200, response.json
    body = response.json
    assert body["reviewedFiles"] == ["app.py"]
    assert {s["path"] for s in body["skippedFiles"]} == {".env", ".ssh/id_rsa", "credentials.json"}
    held = sorted((f["file"], f["line"], f["rule"]) for f in body["findings"] if f["source"] == "secrets")
    assert held == [
        (".env", 1, "Stripe live key"),
        (".env", 2, "AWS access key id"),
        (".env", 3, "AWS secret access key"),
        (".ssh/id_rsa", 1, "private key"),
        ("credentials.json", 2, "Google OAuth client secret"),
    ]
    assert all(f["severity"] == "critical" for f in body["findings"] if f["source"] == "secrets")
    assert "No issues found" not in body["feedback"]
    answer = response.get_data(as_text=True)
    for value in ("R0vRzZ1fb6d06QGofB8ChQBi", "AKIAQ7ZL3MXN5RT2WJ8P", "Iu4NJkS4dJkG0fzMAQMEEMyIbPUf9mYQqw8a",
                  "b3BlbnNzaC1rZXktdjE", "ErQHQwjyaxErPZDS3MoJaQNjCxkv"):  # fmt: skip
        assert value not in answer  # masked in every field, the feedback included


def test_a_repository_of_secret_files_alone_is_still_scanned(client, pg_url):
    files = [{"path": ".env", "content": "SMTP_PASSWORD=m4il-Pa55-2024\n"}]
    response = post(client, {"files": files}, user())
    assert response.status_code == 200, response.json
    assert response.json["reviewedFiles"] == []
    [finding] = response.json["findings"]
    assert (finding["file"], finding["line"], finding["severity"]) == (".env", 1, "critical")
    assert "m4il-Pa55-2024" not in response.get_data(as_text=True)


def test_files_sent_as_json_are_reviewed_offline(client, pg_url):
    who = user()
    files = [{"path": "main.py", "content": APP_PY}, {"path": "dist/bundle.js", "content": "var a=1"}]
    response = post(client, {"files": files, "reviewModes": []}, who)
    assert response.status_code == 200, response.json
    assert response.json["reviewedFiles"] == ["main.py"]
    assert response.json["skippedFiles"] == [{"path": "dist/bundle.js", "reason": "vendored or generated (dist/)"}]
    assert any(f["file"] == "main.py" and f["line"] == 7 for f in response.json["findings"])
    [row] = history_rows(pg_url, who)
    assert row[:4] == ("repository", None, "python", ["comprehensive"])


@pytest.mark.parametrize(
    ("files", "message"),
    [
        (
            [{"path": f"f{i}.py", "content": "x = 1\n"} for i in range(1001)],
            "1001 files is more than the limit of 1000",
        ),
        (
            [{"path": "big.py", "content": "x" * (1024 * 1024 + 1)}],
            "files: big.py is larger than the limit of 1048576 bytes",
        ),
        (
            [{"path": f"f{i}.py", "content": "x" * 990_000} for i in range(32)],
            "files: the files together is larger than the limit of 31457280 bytes",
        ),
    ],
)
def test_client_file_caps_answer_413_naming_the_cap(client, pg_url, files, message):
    who = user()
    response = post(client, {"files": files, "reviewModes": ["security"]}, who)
    assert response.status_code == 413
    assert response.json["reason"] == "PAYLOAD_TOO_LARGE"
    assert message in response.json["error"]
    if "files is more than" not in message:
        assert response.json["code"] == "REPO_TOO_LARGE" and str(response.json["maxBytes"]) in message
    assert history_rows(pg_url, who) == []


def test_nine_files_of_a_megabyte_are_accepted_and_a_body_over_32_mib_is_413(client):
    files = [{"path": f"data{i}.txt", "content": "lorem ipsum\n" * 85_000} for i in range(9)]
    response = post(client, {"files": files, "reviewModes": ["security"]}, user())
    assert response.status_code == 200, response.json
    over = client.post(
        "/", data=b" " * (32 * 1024 * 1024 + 1), headers={"X-Dev-User": user(), "Content-Type": "application/json"}
    )
    assert over.status_code == 413
    assert (over.json["code"], over.json["maxBytes"]) == ("REPO_TOO_LARGE", 32 * 1024 * 1024)


@pytest.mark.parametrize(
    ("body", "fragment"),
    [
        ({"reviewModes": ["security"]}, "Send the files to review"),
        ({"files": [{"path": "a.py", "content": "x = 1\n"}] * 2}, "a.py is sent twice"),
        ({"files": [{"path": "package-lock.json", "content": "{}\n"}]}, "There is no file to review"),
        ({"files": [{"path": "a.py", "content": "x = 1\n"}], "reviewModes": ["nonsense"]}, "reviewModes.0"),
        ({"repoUrl": "https://github.com/octo/demo", "extra": True}, "extra"),
    ],
)
def test_bad_requests_are_400(client, pg_url, body, fragment):
    who = user()
    response = post(client, body, who)
    assert response.status_code == 400
    assert response.json["code"] == "INVALID_INPUT"
    assert fragment in response.json["error"]
    assert history_rows(pg_url, who) == []


def test_an_oversized_archive_is_413_and_a_missing_repository_404(client, github, db_env, pg_url):
    db_env(REPO_ARCHIVE_MAX_BYTES="1000")
    github.serve_repo("octo", "big", build_tarball({f"f{i}.py": f"x = '{os.urandom(500).hex()}'\n" for i in range(5)}))
    who = user()
    big = post(client, {"repoUrl": "https://github.com/octo/big"}, who)
    assert big.status_code == 413
    assert "limit of 1000 bytes" in big.json["error"]
    missing = post(client, {"repoUrl": "https://github.com/octo/nothing"}, who)
    assert missing.status_code == 404
    message = "https://github.com/octo/nothing was not found, or it is private."
    assert missing.json == {
        "code": "NOT_FOUND",
        "message": message,
        "error": message,
        "retryable": False,
        "reason": "REPO_NOT_FOUND",
    }
    assert history_rows(pg_url, who) == []


def test_the_free_plan_gets_five_repository_reviews_a_minute(client, pg_url):
    who = user()
    answers = [post(client, {"reviewModes": ["security"]}, who) for _ in range(5)]
    assert [a.status_code for a in answers] == [400] * 5  # counted even when the body is wrong
    assert [a.headers["X-RateLimit-Remaining"] for a in answers] == ["4", "3", "2", "1", "0"]
    assert {a.headers["X-RateLimit-Limit"] for a in answers} == {"5"}
    denied = post(client, {"files": [{"path": "a.py", "content": "x = 1\n"}]}, who)
    assert denied.status_code == 429
    assert denied.json["reason"] == "RATE_LIMITED"
    assert int(denied.headers["Retry-After"]) > 0
    assert history_rows(pg_url, who) == []


def test_a_file_name_that_is_not_utf8_is_skipped_with_its_reason(client, github, pg_url):
    top = "octo-names-0123abc"
    raw = {f"{top}/bad\udcff\udcfe.py": b"x = 1\n"}  # the bytes 0xff 0xfe in the archive's member name
    github.serve_repo("octo", "names", build_tarball({"app.py": "print(1)\n"}, top=top, raw_names=raw))
    who = user()
    response = post(client, {"repoUrl": "https://github.com/octo/names"}, who)
    assert response.status_code == 200, response.json
    assert response.json["reviewedFiles"] == ["app.py"]
    assert response.json["skippedFiles"] == [{"path": "bad\ufffd\ufffd.py", "reason": "file name is not valid UTF-8"}]
    assert len(history_rows(pg_url, who)) == 1


def test_files_without_an_extension_are_not_analysed_as_python(client):
    files = [
        {"path": "app.py", "content": "import os\n"},
        {"path": "Dockerfile", "content": "FROM python:3.12-slim\nRUN pip install -r requirements.txt\n"},
        {"path": "LICENSE", "content": "MIT License\n\nCopyright (c) 2024 Octo\n"},
        {"path": "Makefile", "content": "test:\n\tpytest -q\n"},
    ]
    response = post(client, {"files": files, "reviewModes": []}, user())
    assert response.status_code == 200, response.json
    # the Dockerfile goes to hadolint (DL3042: pip's cache), never to ruff or bandit
    assert {(f["file"], f["source"]) for f in response.json["findings"]} == {
        ("app.py", "ruff"),
        ("Dockerfile", "hadolint"),
    }
