"""A review never fails on what it reads (issue 28, item 2): hostile content in every language of the
coverage table (tests/support/content_cases.py), generated Python programs (hypothesmith, seeded,
bounded in count) and odd repositories, sent through review-code's and review-repo's functions as
functions-framework serves them. Every answer is 200 or a 4xx in the error contract, within the
function's deployed time limit, documented (openapi.yaml, checked by the client), with no
traceback in the answer or the log.

The longer runs (more generated programs; real files from downloaded packages) are commands:
docs/reliability.md#content-fuzzing."""

from __future__ import annotations

import json
import os
import re
import time
import uuid

import hypothesmith
import pytest
from hypothesis import HealthCheck, given, seed, settings
from hypothesis import strategies as st

from shared.errors import PUBLIC_CODES
from tests.conftest import function_client
from tests.fakes.github import FakeGitHub, build_tarball
from tests.support.content_cases import ALPHABETS, LANGUAGES, LONG, cases, program
from tests.support.deploy_limits import deployed_seconds

PROGRAMS = int(os.environ.get("FUZZ_PROGRAMS", "25"))
TEXTS = int(os.environ.get("FUZZ_TEXTS", "10"))
# Seeded runs, no example database (a run repeats exactly), no deadline (a review takes what it takes).
GENERATED = {
    "deadline": None,
    "database": None,
    "suppress_health_check": [HealthCheck.function_scoped_fixture, HealthCheck.too_slow, HealthCheck.data_too_large],
}
# The analysers' time limit in production is 30 s; here 2 s, so that content that makes one run
# long (shellcheck on 5,000 nested `$(`) takes the not-checked path without costing CI half a minute.
TOOL_SECONDS = "2"


@pytest.fixture
def fuzz_env(db_env):
    generous = {route: {"free": 100_000} for route in ("review_code", "review_repo")}
    db_env(RATE_LIMITS=json.dumps(generous), STATIC_TOOL_TIMEOUT_SECONDS=TOOL_SECONDS)
    return db_env


def sent(function: str, body: dict | bytes):
    """The function's answer to `body`, held to the contract: 200, or a 4xx the web app reads, in time."""
    client = function_client(function)
    headers = {"X-Dev-User": f"fuzz_{uuid.uuid4().hex[:8]}", "Content-Type": "application/json"}
    data = body if isinstance(body, bytes) else json.dumps(body)
    started = time.monotonic()
    response = client.post("/", data=data, headers=headers)
    took = time.monotonic() - started
    assert took < deployed_seconds(function), f"{function} took {took:.1f} s"
    assert b"Traceback" not in response.data
    if response.status_code != 200:
        assert 400 <= response.status_code < 500, response.get_data(as_text=True)[:2000]
        error = response.json
        assert error["code"] in PUBLIC_CODES and error["message"] and isinstance(error["retryable"], bool), error
    return response


def no_traceback_logged(lines: list[str]) -> None:
    failures = [line for line in lines if '"exception"' in line or re.search(r'"severity": "(ERROR|CRITICAL)"', line)]
    assert not failures, failures[0][:3000]


# --- every language, every shape ----------------------------------------------------------------


@pytest.mark.parametrize("language", LANGUAGES, ids=[language.name for language in LANGUAGES])
def test_review_code_answers_every_shape_of_every_language(fuzz_env, app_logs, language):
    """As the web app sends it: the language value, no file name."""
    for shape, content in cases(language).items():
        response = sent("review_code", {"code": content, "language": language.name, "reviewModes": []})
        if len(content.encode()) < 5:  # review-code's floor
            assert (response.status_code, response.json["code"]) == (400, "INVALID_INPUT"), shape
        else:
            assert response.status_code == 200, (shape, response.json)
            assert response.json["feedback"], shape
    no_traceback_logged(app_logs)


@pytest.mark.parametrize("language", LANGUAGES, ids=[language.name for language in LANGUAGES])
def test_review_repo_answers_a_repository_of_every_shape_of_a_language(fuzz_env, app_logs, language):
    files = [{"path": f"{shape.replace(' ', '-')}/{language.path}", "content": text} for shape, text in cases(language).items()]  # fmt: skip
    response = sent("review_repo", {"files": files, "reviewModes": ["security", "bug_fixes"]})
    assert response.status_code == 200, response.json
    listed = set(response.json["reviewedFiles"]) | {skipped["path"] for skipped in response.json["skippedFiles"]}
    assert listed == {file["path"] for file in files}  # every file reviewed or named as skipped
    no_traceback_logged(app_logs)


def test_a_file_of_one_very_long_line_in_each_function(fuzz_env, app_logs):
    minified = "var a=" + ",".join(f"f{n}(x[{n}])" for n in range(200_000)) + ";"  # ~2.7 MB, one line
    response = sent("review_code", {"code": minified, "language": "javascript"})
    assert response.status_code == 200, response.json
    assert "larger than one review covers" in response.json["feedback"]
    string = 's = "' + "é" * (1024 * 1024) + '"\n'  # a 2 MiB string literal
    assert sent("review_code", {"code": string, "language": "python"}).status_code == 200
    one_line = {"path": "dist/app.min.js", "content": minified[: 1024 * 1024 - 1]}
    assert (
        sent("review_repo", {"files": [one_line, {"path": "app.py", "content": string[:300_000]}]}).status_code == 200
    )
    no_traceback_logged(app_logs)


def test_many_tiny_files_in_every_language(fuzz_env, app_logs):
    names = [language.path for language in LANGUAGES]
    files = [{"path": f"pkg{n % 7}/{n}/{names[n % len(names)]}", "content": "x\n"} for n in range(1000)]
    response = sent("review_repo", {"files": files})
    assert response.status_code == 200, response.json
    assert len(response.json["reviewedFiles"]) + len(response.json["skippedFiles"]) == 1000
    one_more = sent("review_repo", {"files": [*files, {"path": "extra.py", "content": "x\n"}]})
    assert (one_more.status_code, one_more.json["code"]) == (413, "REPO_TOO_LARGE")
    no_traceback_logged(app_logs)


# --- bytes that are not text ------------------------------------------------------------------------


def test_invalid_utf8_in_a_repository_file_is_listed_as_skipped(fuzz_env, app_logs):
    broken = {f"src/{language.path}": program(language).encode() + b"\n\xff\xfe\xc3(\x80" for language in LANGUAGES}
    with FakeGitHub() as github:
        fuzz_env(GITHUB_API_URL=github.url)
        github.serve_repo("octo", "bytes", build_tarball({**broken, "README.md": "# ok\n"}))
        response = sent("review_repo", {"repoUrl": "https://github.com/octo/bytes"})
    assert response.status_code == 200, response.json
    reasons = {skipped["path"]: skipped["reason"] for skipped in response.json["skippedFiles"]}
    assert {path: reasons.get(path) for path in broken} == dict.fromkeys(broken, "binary")  # not UTF-8 text
    assert set(response.json["reviewedFiles"]) | set(reasons) == {*broken, "README.md"}
    no_traceback_logged(app_logs)


@pytest.mark.parametrize(
    "body",
    [
        b'{"code": "x = \xff\xfe", "language": "python"}',  # invalid UTF-8 in the JSON
        b'{"code": "x = \\ud800", "language": "python"}',  # a lone surrogate
        b'\xef\xbb\xbf{"code": "x = 1 + 1", "language": "python"}',  # a byte-order mark before the JSON
        b'{"code": "x = \x01\x02", "language": "python"}',  # a raw control character inside a JSON string
        b"[" * 100_000 + b"]" * 100_000,  # JSON nested 100,000 deep
    ],
    ids=["invalid-utf8", "lone-surrogate", "bom", "raw-control", "deep-json"],
)
def test_a_body_that_is_not_json_text_is_a_clear_400(fuzz_env, app_logs, body):
    for function in ("review_code", "review_repo"):
        response = sent(function, body)
        assert (response.status_code, response.json["message"]) == (400, "The request body is not valid JSON.")
    no_traceback_logged(app_logs)


def test_json_control_characters_and_brackets_inside_the_code_are_reviewed(fuzz_env, app_logs):
    code = "x = '\x01\x1b[0m\u2028\ufeff'\n" + "[" * 100_000 + "\n"
    assert sent("review_code", {"code": code, "language": "python"}).status_code == 200
    no_traceback_logged(app_logs)


# --- generated valid Python ----------------------------------------------------------------------------


@seed(20261125)
@settings(max_examples=PROGRAMS, **GENERATED)
@given(source=st.one_of(hypothesmith.from_grammar(), hypothesmith.from_node()))
def test_generated_python_programs_are_reviewed(fuzz_env, source):
    """Valid programs (hypothesmith: from Python's grammar, and from libcst's node types), each
    reviewed or, under review-code's 5-byte floor, refused as too short."""
    response = sent("review_code", {"code": source, "language": "python", "reviewModes": []})
    if len(source.encode()) < 5:
        assert response.status_code == 400
    else:
        assert response.status_code == 200, (source[:500], response.json)


@seed(20261126)
@settings(max_examples=TEXTS, **GENERATED)
@given(texts=st.fixed_dictionaries({path: st.text(alphabet=chars, max_size=400) for path, chars in ALPHABETS.items()}))
def test_random_text_in_each_languages_own_characters(fuzz_env, texts):
    """A repository of one file a language, each random text made of that language's punctuation."""
    files = [{"path": path, "content": text} for path, text in texts.items()]
    response = sent("review_repo", {"files": files, "reviewModes": ["comprehensive"]})
    assert response.status_code in (200, 400), response.json  # 400: every file empty, nothing to review


def test_long_texts_reach_every_analyser_bounded(fuzz_env):
    """Where the analysers quote the user's names: ruff, shellcheck, hadolint, zizmor, bandit."""
    name = "n" * LONG
    files = [
        {"path": "app.py", "content": f"import subprocess\nsubprocess.call({name}, shell=True)\n"},
        {"path": "run.sh", "content": f'#!/bin/bash\necho "${name}"\n'},
        {"path": "Dockerfile", "content": f"FROM python\nRUN cd /{name} && pip install {name}\n"},
        {
            "path": ".github/workflows/ci.yml",
            "content": f"on: push\njobs:\n  {name}:\n    runs-on: ubuntu-latest\n"
            "    steps:\n      - uses: some/action@main\n",
        },  # fmt: skip
    ]
    response = sent("review_repo", {"files": files, "reviewModes": ["comprehensive"]})
    assert response.status_code == 200, response.json
    sources = {finding["source"] for finding in response.json["findings"]}
    assert {"ruff", "bandit", "shellcheck", "hadolint", "zizmor"} <= sources
    assert all(len(finding["detail"]) <= 4000 for finding in response.json["findings"])
