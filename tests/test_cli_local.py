"""What the `coderevai` client sends and writes, seen through a relay in front of the local server
(offline reviewer, real PostgreSQL) that records every request: the secret-bearing files checked on
the machine and never sent, an Idempotency-Key kept across a retry, a 413 split to the cap the
server states, the diff's ranges sent, annotations, and SARIF that GitHub takes as is."""

from __future__ import annotations

import json
import re
from pathlib import Path

import pytest

from tests.support.cli import (
    EVAL_LINE,
    SHELL_LINE,
    VULNERABLE,
    Caller,
    a_branch,
    relayed,
    reviews_of,
)
from tests.support.sarif_check import assert_valid_sarif

SECRET = "sk_live_" + "4fQ9zR2mXk7LpW3vT8nB6yHd"  # a live-shaped Stripe key, made up for the test
ENV_FILE = f"# local settings\nSTRIPE_KEY={SECRET}\nDEBUG=1\n"


@pytest.fixture
def caller(relay) -> Caller:
    return relayed(relay)


@pytest.fixture
def project(tmp_path) -> Path:
    root = tmp_path / "project"
    root.mkdir()
    (root / "app.py").write_text(VULNERABLE)
    (root / ".env").write_text(ENV_FILE)
    (root / "deploy.pem").write_bytes(b"\x30\x82\x01\x0a\x00binary key store")
    return root


def test_secret_bearing_files_are_checked_here_and_nothing_of_them_is_sent(caller, relay, project, tmp_path):
    done = caller.run(".", "--format", "json", cwd=project)
    assert done.returncode == 0, done.stderr
    sent = b"".join(seen.body for seen in relay.posted())
    assert b"app.py" in sent  # the relay did see the review's upload
    assert (
        SECRET.encode() not in sent and b"STRIPE_KEY" not in sent and b".env" not in sent and b"deploy.pem" not in sent
    )
    review = json.loads(done.stdout)
    local = [f for f in review["findings"] if f["source"] == "secrets"]
    assert {(f["file"], f["line"], f["severity"]) for f in local} == {
        (".env", 2, "critical"),
        ("deploy.pem", None, "critical"),
    }
    assert SECRET not in done.stdout and SECRET not in done.stderr  # masked: the kind and length only
    assert caller.run(".", "--fail-on", "critical", cwd=project).returncode == 1  # they count for --fail-on

    out = tmp_path / "review.sarif"
    sarif = caller.run(".", "--format", "sarif", "--output", str(out), cwd=project)
    assert sarif.returncode == 0, sarif.stderr
    log = json.loads(out.read_text())
    assert_valid_sarif(log)
    [run] = log["runs"]
    env_results = [
        r for r in run["results"] if r["locations"][0]["physicalLocation"]["artifactLocation"]["uri"] == ".env"
    ]
    [env_result] = env_results
    assert env_result["ruleId"] == "secrets/Stripe-live-key" and env_result["level"] == "error"
    assert SECRET not in out.read_text()
    assert run["properties"]["reviewIds"] and None not in run["properties"]["reviewIds"]


KUBE_TOKEN = "kT7vQ2mX9pL4wR8zN3bY6hD1sF5gJ0cV"  # made up for the test
KUBE_CONFIG = f"apiVersion: v1\nkind: Config\nusers:\n- name: ci\n  user:\n    token: {KUBE_TOKEN}\n"


def test_the_client_judges_files_by_the_servers_own_rules(caller, relay, tmp_path):
    """One set of rules (coderevai_core.selection): a kube config stays on the machine, as the server
    keeps one from the model; docs/build/ holds documentation sources, build/ output; a NUL anywhere
    makes a file binary."""
    root = tmp_path / "rules"
    (root / ".kube").mkdir(parents=True)
    (root / ".kube" / "config").write_text(KUBE_CONFIG)
    (root / "docs" / "build").mkdir(parents=True)
    (root / "docs" / "build" / "conf.py").write_text("project = 'guide'\n")
    (root / "build").mkdir()
    (root / "build" / "out.py").write_text(VULNERABLE)
    (root / "data.py").write_bytes(b"x = 1\n" * 2000 + b"\x00\n")  # the NUL past the first 8 KiB
    done = caller.run(".", "--format", "json", cwd=root)
    assert done.returncode == 0, done.stderr
    sent = b"".join(seen.body for seen in relay.posted())
    assert b"conf.py" in sent and b"kube" not in sent and KUBE_TOKEN.encode() not in sent
    review = json.loads(done.stdout)
    assert review["reviewedFiles"] == ["docs/build/conf.py"]
    assert {s["path"]: s["reason"] for s in review["skippedFiles"]} == {
        ".kube/config": "may hold secrets (kube config); checked for secrets on this machine, not sent",
        "build/": "vendored or generated (build/)",
        "data.py": "binary",
    }
    assert KUBE_TOKEN not in done.stdout


def test_a_retried_request_carries_the_same_idempotency_key_and_makes_one_review(caller, relay, project, pg_url):
    relay.lose_answers = 1  # the server reviews and commits; its answer is lost on the way back
    done = caller.run("app.py", "--format", "json", cwd=project)
    assert done.returncode == 0, done.stderr
    first, retry = relay.posted()
    assert first.headers["Idempotency-Key"] == retry.headers["Idempotency-Key"]
    assert first.body == retry.body
    assert reviews_of(pg_url, caller.user) == 1  # the retry was answered from the first run
    caller.run("app.py", cwd=project)
    assert len({seen.headers["Idempotency-Key"] for seen in relay.posted()}) == 2  # a new request, a new key


def test_a_413_is_split_to_the_cap_the_server_states(caller, relay, tmp_path, pg_url):
    folder = tmp_path / "big"
    folder.mkdir()
    for n in range(35):
        (folder / f"notes_{n}.txt").write_text(f"note {n:02} {'x' * 100}\n" * 8_440)  # 919,960 bytes each
    # Told the server takes 40 MB at once, the client sends 32.2 MB of files (a body within 32 MiB) in
    # one request; the server's 413 says its files together take 30 MiB.
    done = caller.run(".", "--format", "json", "--max-bytes-per-request", "40000000", cwd=folder)
    assert done.returncode == 0, done.stderr
    sizes = [len(json.loads(seen.body)["files"]) for seen in relay.posted()]
    # Packed again so that even the JSON body (~928 KB a file) fits 31,457,280 bytes, whichever of
    # the two the cap was: 33 + 2, not halved.
    assert sizes[0] == 35 and sorted(sizes[1:]) == [2, 33]
    assert sorted(json.loads(done.stdout)["reviewedFiles"]) == sorted(f"notes_{n}.txt" for n in range(35))
    assert reviews_of(pg_url, caller.user) == 2


@pytest.fixture
def branch(tmp_path) -> Path:
    base = {"app.py": VULNERABLE.replace("command, shell=True", "[command]")}
    return a_branch(tmp_path / "repo", base, {"app.py": VULNERABLE, ".env": ENV_FILE})


def test_a_diff_sends_its_ranges_and_prints_annotations(caller, relay, branch):
    done = caller.run("--diff", "main", "--format", "github", "--fail-on", "high", cwd=branch)
    assert done.returncode == 1, done.stderr
    [sent] = relay.posted()
    assert json.loads(sent.body)["files"] == [
        {"path": "app.py", "content": VULNERABLE, "changedLines": [{"start": SHELL_LINE, "end": SHELL_LINE}]}
    ]
    commands = done.stdout.splitlines()
    assert all(line.startswith("::") for line in commands)
    shell = next(line for line in commands if "line=5," in line)
    assert shell.startswith("::error file=app.py,line=5,title=high%3A ")
    assert "(bandit/B602)" in shell and "%0ASuggestion" not in shell.split("::", 2)[1]
    secret = next(line for line in commands if "file=.env" in line)
    assert secret.startswith("::error file=.env,line=2,title=critical%3A Stripe live key") and SECRET not in secret
    assert not any(f"line={EVAL_LINE}," in line for line in commands)  # eval's line is not added by the branch


LINT = "import os\nimport sys\nimport json\n\n\ndef run(command):\n    return eval(command)\n"


def test_sarif_rules_carry_what_github_shows_and_every_grouped_location(caller, tmp_path):
    folder = tmp_path / "lint"
    folder.mkdir()
    (folder / "tool.py").write_text(LINT)
    out = folder / "review.sarif"
    assert caller.run("tool.py", "--format", "sarif", "--output", str(out), cwd=folder).returncode == 0
    log = json.loads(out.read_text())
    assert_valid_sarif(log)
    [run] = log["runs"]
    driver = run["tool"]["driver"]
    assert driver["version"] == driver["semanticVersion"] and re.fullmatch(r"\d+\.\d+\.\d+", driver["version"])
    for rule in driver["rules"]:
        assert rule["name"] != rule["id"] and re.fullmatch(r"[A-Z][A-Za-z0-9]+", rule["name"])
        assert rule["shortDescription"]["text"] and rule["fullDescription"]["text"]
        assert "Why it matters" in rule["help"]["text"] and "**How to fix.**" in rule["help"]["markdown"]
    rules = {rule["id"]: rule for rule in driver["rules"]}
    assert rules["bandit/B307"]["helpUri"].startswith("https://bandit.readthedocs.io/")
    assert rules["ruff/F401"]["helpUri"] == "https://docs.astral.sh/ruff/rules/unused-import"
    assert rules["ruff/F401"]["name"] == "UnusedImport"
    unused = [r for r in run["results"] if r["ruleId"] == "ruff/F401"]  # one grouped finding, "3 times in this file"
    assert sorted(r["locations"][0]["physicalLocation"]["region"]["startLine"] for r in unused) == [1, 2, 3]
    assert all("3 times in this file" in r["message"]["text"] for r in unused)
    prints = {r["partialFingerprints"]["coderevai/v1"] for r in run["results"]}
    assert len(prints) == len(run["results"])

    (folder / "tool.py").write_text("# a header\n\n" + LINT)  # every line moves down by two
    assert caller.run("tool.py", "--format", "sarif", "--output", str(out), cwd=folder).returncode == 0
    [moved] = json.loads(out.read_text())["runs"]
    assert {r["partialFingerprints"]["coderevai/v1"] for r in moved["results"]} == prints
    eval_result = next(r for r in moved["results"] if r["ruleId"] == "bandit/B307")
    assert eval_result["locations"][0]["physicalLocation"]["region"]["startLine"] == 9
