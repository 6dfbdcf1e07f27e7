"""review_repo for a change and for code scanning: `files[].changedLines` focuses the review and its
findings on the changed lines; `Accept: application/sarif+json` answers a SARIF 2.1.0 log, validated
against the official schema."""

from __future__ import annotations

import json
import re
import uuid

import psycopg
import pytest

from tests.conftest import function_client
from tests.support.sarif_check import assert_valid_sarif
from tests.test_review_repo import APP_PY
from tests.test_review_repo_model import SOURCE_FILE, gemini, repository, reviewer  # noqa: F401 (fixture)

SARIF = "application/sarif+json"


def user() -> str:
    return f"repo_change_{uuid.uuid4().hex[:10]}"


def post(body: dict, who: str, accept: str | None = None):
    headers = {"X-Dev-User": who, **({"Accept": accept} if accept else {})}
    return function_client("review_repo").post("/", json=body, headers=headers)


def places(body: dict) -> set[tuple[str, int | None, str]]:
    return {(f["file"], f["line"], " ".join(f["detail"].split()[:2]).rstrip(":")) for f in body["findings"]}


def test_findings_are_kept_on_the_changed_lines_and_a_few_around_them(db_env):
    other = {"path": "tool.py", "content": APP_PY}
    whole = post({"files": [{"path": "app.py", "content": APP_PY}, other]}, user())
    assert whole.status_code == 200, whole.json
    assert {("app.py", 7, "bandit B307"), ("app.py", 1, "ruff F401"), ("tool.py", 1, "ruff F401")} <= places(whole.json)

    changed = {"path": "app.py", "content": APP_PY, "changedLines": [{"start": 7, "end": 7}]}
    focused = post({"files": [changed, other]}, user())
    assert focused.status_code == 200, focused.json
    on_app = {(line, tool) for file, line, tool in places(focused.json) if file == "app.py"}
    assert ("app.py", 7, "bandit B307") in places(focused.json)
    assert all(line is None or 4 <= line <= 10 for line, _ in on_app)  # line 7, 3 lines either side
    assert (1, "ruff F401") not in on_app
    # A file sent without changedLines is reviewed whole.
    assert {f for f in places(focused.json) if f[0] == "tool.py"} == {
        f for f in places(whole.json) if f[0] == "tool.py"
    }
    assert "(app.py:7)" in focused.json["feedback"] and "(app.py:1)" not in focused.json["feedback"]


def test_a_file_with_no_changed_line_keeps_no_line_finding(db_env):
    response = post({"files": [{"path": "app.py", "content": APP_PY, "changedLines": []}]}, user())
    assert response.status_code == 200, response.json
    assert [f for f in response.json["findings"] if f["line"] is not None] == []
    assert response.json["reviewedFiles"] == ["app.py"]


@pytest.mark.parametrize(
    ("ranges", "field"),
    [
        ([{"start": 5, "end": 4}], "end must not be before start"),
        ([{"start": 0, "end": 1}], "changedLines.0.start"),
        ([[1, 2]], "changedLines.0"),
        ([{"start": 1, "end": 2, "side": "new"}], "side"),
    ],
)
def test_bad_changed_lines_are_400_and_nothing_is_stored(db_env, pg_url, ranges, field):
    who = user()
    response = post({"files": [{"path": "app.py", "content": APP_PY, "changedLines": ranges}]}, who)
    assert response.status_code == 400
    assert response.json["reason"] == "INVALID_INPUT"
    assert field in json.dumps(response.json)
    with psycopg.connect(pg_url) as conn:
        assert conn.execute('SELECT count(*) FROM "ReviewHistory" WHERE "userId" = %s', (who,)).fetchone()[0] == 0


def test_sarif_answer_validates_and_holds_every_finding(db_env, pg_url):
    files = [
        {"path": "app.py", "content": APP_PY},
        {"path": "src/my util.py", "content": "import os\npassword = 'hunter2hunter2'\n"},
        {"path": ".env", "content": "A=1\n"},
        {"path": "web/run.js", "content": "app.post('/run', (req, res) => res.send(eval(req.body.code)));\n"},
    ]
    as_json = post({"files": files}, user()).json
    who = user()
    response = post({"files": files}, who, accept=SARIF)
    assert response.status_code == 200, response.get_data(as_text=True)
    assert response.mimetype == SARIF
    log = response.json
    assert_valid_sarif(log)
    [run] = log["runs"]
    assert run["tool"]["driver"]["name"] == "CodeRevAI"
    results = run["results"]
    # One result per location: a grouped finding ("2 times in this file, on lines 1, 2") is one per line.
    listed = [re.search(r"times in this file, on lines ([\d, ]+)", f["detail"]) for f in as_json["findings"]]
    assert len(results) == sum(len(m.group(1).split(",")) if m else 1 for m in listed) > len(as_json["findings"]) > 2
    eval_result = next(r for r in results if r["ruleId"] == "bandit/B307")
    assert eval_result["level"] == "warning"  # bandit rates eval medium
    assert eval_result["properties"]["severity"] == "medium"
    assert eval_result["locations"][0]["physicalLocation"] == {
        "artifactLocation": {"uri": "app.py", "uriBaseId": "%SRCROOT%"},
        "region": {"startLine": 7},
    }
    assert "eval" in eval_result["message"]["text"]
    uris = {r["locations"][0]["physicalLocation"]["artifactLocation"]["uri"] for r in results}
    assert uris == {"app.py", "src/my%20util.py", "web/run.js"}
    # our own rules and the secrets check name their rule, as ruff and bandit do
    assert "rules/js-code-injection" in {r["ruleId"] for r in results}
    assert any(r["ruleId"].startswith("secrets/") and r["ruleId"] != "secrets/secrets" for r in results)
    rules = run["tool"]["driver"]["rules"]
    assert all(rules[r["ruleIndex"]]["id"] == r["ruleId"] for r in results)
    assert len({rule["id"] for rule in rules}) == len(rules)
    assert {r["level"] for r in results} <= {"error", "warning", "note"}
    assert run["properties"]["skippedFiles"] == [
        {"path": ".env", "reason": "holds secrets (environment file): scanned here, never sent to the model"}
    ]
    assert run["properties"]["reviewedFiles"] == ["app.py", "src/my util.py", "web/run.js"]
    with psycopg.connect(pg_url) as conn:
        [(review_id,)] = conn.execute('SELECT id FROM "ReviewHistory" WHERE "userId" = %s', (who,)).fetchall()
    assert run["properties"]["reviewId"] == review_id


def test_sarif_of_a_change_holds_only_its_findings(db_env):
    files = [{"path": "app.py", "content": APP_PY, "changedLines": [{"start": 7, "end": 7}]}]
    log = post({"files": files}, user(), accept=f"{SARIF}, application/json;q=0.5").json
    assert_valid_sarif(log)
    lines = {r["locations"][0]["physicalLocation"]["region"]["startLine"] for r in log["runs"][0]["results"]}
    assert 7 in lines and lines <= set(range(4, 11))


def test_json_stays_the_default_answer(db_env):
    for accept in (None, "*/*", "application/json", f"application/json, {SARIF};q=0.1"):
        response = post({"files": [{"path": "app.py", "content": APP_PY}]}, user(), accept=accept)
        assert response.mimetype == "application/json", accept
        assert "reviewId" in response.json


def test_the_model_is_asked_to_focus_on_the_change_and_its_findings_are_filtered(gemini):  # noqa: F811
    handler = reviewer(gemini)  # one model finding on line 2 of every file sent
    files = repository(3, salt=uuid.uuid4().hex)
    files[0]["changedLines"] = [{"start": 40, "end": 41}]
    files[1]["changedLines"] = [{"start": 1, "end": 3}]
    response = post({"files": files, "customPrompt": "Mind the naming."}, user())
    assert response.status_code == 200, response.json
    model = {(f["file"], f["line"]) for f in response.json["findings"] if f["category"] == "bugs"}
    assert model == {("src/m001.py", 2), ("src/m002.py", 2)}  # m000 changed far from line 2
    prompts = [
        "".join(part["text"] for content in call.json()["contents"] for part in content["parts"])
        for call in gemini.calls
    ]
    batch_prompts = [text for text in prompts if SOURCE_FILE.search(text)]
    assert batch_prompts
    for text in batch_prompts:
        assert "Mind the naming." in text
        assert "Focus on the changed lines" in text
        assert "- src/m000.py: lines 40-41" in text and "- src/m001.py: lines 1-3" in text
    assert len(handler.batches) >= 1


def test_other_changed_lines_are_another_review_in_the_cache(gemini, db_env):  # noqa: F811
    db_env(REVIEW_CACHE_TTL_SECONDS="300")
    reviewer(gemini)
    files = repository(2, salt=uuid.uuid4().hex)
    near = [dict(files[0], changedLines=[{"start": 1, "end": 3}]), files[1]]
    far = [dict(files[0], changedLines=[{"start": 60, "end": 61}]), files[1]]
    first = post({"files": near}, user()).json
    assert first["cached"] is False
    assert ("src/m000.py", 2) in {(f["file"], f["line"]) for f in first["findings"]}
    other = post({"files": far}, user()).json
    assert other["cached"] is False  # not the first answer, whose findings were kept for other lines
    assert ("src/m000.py", 2) not in {(f["file"], f["line"]) for f in other["findings"]}
    again = post({"files": near}, user()).json
    assert again["cached"] is True and again["findings"] == first["findings"]
