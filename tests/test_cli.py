"""The `coderevai` command end to end: the installed client run as a process against the one-port
local server (offline reviewer, real PostgreSQL), signed in as a CI job is: a key in
`Authorization: Bearer`. Folders with .gitignore, a branch's diff, every format and exit code, a 413
that makes the client split, a rate limit it waits out, and the progress bar on a terminal only."""

from __future__ import annotations

import json
import os
import pty
import subprocess
import sys
import time
from pathlib import Path

import pytest

from tests.conftest import ROOT
from tests.support.cli import (
    EVAL_LINE,
    SHELL_LINE,
    VULNERABLE,
    Caller,
    a_branch,
    git,
    new_key,
    on_path,
    reviews_of,
    server_env,
)
from tests.support.sarif_check import assert_valid_sarif
from tests.support.server_process import free_port, local_server


@pytest.fixture
def caller(server) -> Caller:
    return new_key(server)


@pytest.fixture
def project(tmp_path) -> Path:
    """A folder with a vulnerable file, a .gitignore'd one, and files the server's rules skip."""
    root = tmp_path / "project"
    (root / "src").mkdir(parents=True)
    (root / "src" / "app.py").write_text(VULNERABLE)
    (root / "src" / "util.py").write_text("def double(x):\n    return x * 2\n")
    (root / "generated.py").write_text(VULNERABLE)
    (root / "logs").mkdir()
    (root / "logs" / "run.py").write_text(VULNERABLE)
    (root / ".gitignore").write_text("generated.py\nlogs/\n")
    (root / ".env").write_text("API_KEY=sk-live-very-secret\n")
    (root / "node_modules" / "pad").mkdir(parents=True)
    (root / "node_modules" / "pad" / "index.js").write_text("module.exports = 1\n")
    (root / "logo.png").write_bytes(b"\x89PNG\r\n\x1a\n\x00\x00")
    (root / "empty.py").write_text("\n")
    return root


def test_a_folder_is_reviewed_by_the_servers_rules_with_gitignore_honoured(caller, project, pg_url):
    done = caller.run(".", "--format", "json", cwd=project)
    assert done.returncode == 0, done.stderr
    review = json.loads(done.stdout)
    assert sorted(review["reviewedFiles"]) == [".gitignore", "src/app.py", "src/util.py"]  # as the server would
    assert {(f["file"], f["line"]) for f in review["findings"]} >= {
        ("src/app.py", SHELL_LINE),
        ("src/app.py", EVAL_LINE),
    }
    # Nothing from generated.py or logs/; .env was checked here, not sent (tests/test_cli_local.py).
    assert {f["file"] for f in review["findings"]} == {"src/app.py", ".env"}
    skipped = {s["path"]: s["reason"] for s in review["skippedFiles"]}
    assert skipped == {
        ".env": "may hold secrets (environment file); checked for secrets on this machine, not sent",
        "node_modules/": "vendored or generated (node_modules/)",
        "logo.png": "binary",
        "empty.py": "empty",
    }
    assert "skipped .env: may hold secrets (environment file)" in done.stderr
    assert len(review["reviewIds"]) == 1 and reviews_of(pg_url, caller.user) == 1


def test_each_format(caller, project, tmp_path):
    text = caller.run("src", cwd=project)
    assert text.returncode == 0, text.stderr
    assert f"src/app.py:{SHELL_LINE}: high [security]" in text.stdout
    assert "files reviewed, 0 skipped." in text.stdout

    markdown = caller.run("src", "--format", "markdown", cwd=project)
    assert markdown.stdout.startswith("# CodeRevAI review\n")
    assert "(src/app.py:6)" in markdown.stdout  # the server's findings list, file:line

    out = tmp_path / "review.sarif"
    sarif = caller.run(".", "--format", "sarif", "--output", str(out), cwd=project)
    assert sarif.returncode == 0, sarif.stderr
    assert f"src/app.py:{SHELL_LINE}: high [security]" in sarif.stdout  # the file for tools, the log for people
    log = json.loads(out.read_text())
    assert_valid_sarif(log)
    [run] = log["runs"]
    located = {
        (r["ruleId"], r["locations"][0]["physicalLocation"]["artifactLocation"]["uri"],
         r["locations"][0]["physicalLocation"]["region"]["startLine"], r["level"])
        for r in run["results"]
    }  # fmt: skip
    assert ("bandit/B602", "src/app.py", SHELL_LINE, "error") in located
    assert ("bandit/B307", "src/app.py", EVAL_LINE, "warning") in located
    assert {s["path"] for s in run["properties"]["skippedFiles"]} == {".env", "node_modules/", "logo.png", "empty.py"}


def test_exit_codes(caller, project):
    assert caller.run("src", "--fail-on", "high", cwd=project).returncode == 1
    assert caller.run("src", "--fail-on", "critical", cwd=project).returncode == 0
    assert caller.run("src", "--fail-on", "never", cwd=project).returncode == 0
    failing = caller.run("src", "--format", "sarif", "--fail-on", "medium", cwd=project)
    assert failing.returncode == 1
    assert "a finding at or above medium remains" in failing.stderr
    assert caller.run("src/util.py", "--fail-on", "low", cwd=project).returncode == 0  # a clean file

    usage = caller.run("src", "--format", "yaml", cwd=project)
    assert usage.returncode == 2 and "invalid choice: 'yaml'" in usage.stderr
    missing = caller.run("nowhere", cwd=project)
    assert missing.returncode == 2 and "nowhere: no such file or folder" in missing.stderr
    bad_mode = caller.run("src", "--modes", "security,magic", cwd=project)
    assert bad_mode.returncode == 2
    assert "400" in bad_mode.stderr and "reviewModes" in bad_mode.stderr  # the server's own message


def test_sign_in_and_connection_errors_are_clear(caller, project):
    no_key = caller.run("src", cwd=project, CODEREVAI_API_KEY=None)
    assert no_key.returncode == 2
    assert "CODEREVAI_API_KEY is not set" in no_key.stderr
    no_url = caller.run("src", cwd=project, CODEREVAI_API_URL=None)
    assert no_url.returncode == 2 and "CODEREVAI_API_URL is not set" in no_url.stderr
    refused = caller.run("src", cwd=project, CODEREVAI_API_KEY="sk_live_" + "0" * 48)
    assert refused.returncode == 2
    assert "the server refused the API key (401)" in refused.stderr
    unreachable = caller.run("src", cwd=project, CODEREVAI_API_URL=f"http://127.0.0.1:{free_port()}")
    assert unreachable.returncode == 2
    assert "cannot reach the server at http://127.0.0.1:" in unreachable.stderr


def test_a_branchs_diff_keeps_the_findings_on_its_changed_lines(caller, branch):
    done = caller.run("--diff", "main", "--format", "json", cwd=branch)
    assert done.returncode == 0, done.stderr
    review = json.loads(done.stdout)
    assert review["reviewedFiles"] == ["app.py"]
    assert review["skippedFiles"] == [
        {"path": "shrinks.py", "reason": "no added or changed lines (only deletions, or binary)"}
    ]
    assert {(f["file"], f["line"]) for f in review["findings"]} == {("app.py", SHELL_LINE)}  # the added line only

    near = json.loads(caller.run("--diff", "main", "--context", "3", "--format", "json", cwd=branch).stdout)
    assert {f["line"] for f in near["findings"]} == {SHELL_LINE, EVAL_LINE}  # eval is 1 line below it
    too_far = caller.run("--diff", "main", "--context", "4", cwd=branch)
    assert too_far.returncode == 2 and "must be 0 to 3" in too_far.stderr

    everything = json.loads(caller.run("--diff", "main", "--all-findings", "--format", "json", cwd=branch).stdout)
    assert everything["reviewedFiles"] == ["app.py", "shrinks.py"]
    assert {(f["file"], f["line"]) for f in everything["findings"]} >= {("app.py", 1), ("app.py", EVAL_LINE)}

    gate = caller.run("--diff", "main", "--fail-on", "high", "--format", "sarif", "--output", "out.sarif", cwd=branch)
    assert gate.returncode == 1
    assert_valid_sarif(json.loads((branch / "out.sarif").read_text()))


@pytest.fixture
def below_a_high(tmp_path) -> Path:
    """A branch that adds eval (medium) on the line below an unchanged shell=True (high, within the
    server's 3 lines of the change, so the server keeps it and its feedback lists it)."""
    return a_branch(
        tmp_path / "below", {"app.py": VULNERABLE.replace("eval(command)", "command")}, {"app.py": VULNERABLE}
    )


def test_a_diffs_report_speaks_only_of_the_findings_it_kept(caller, below_a_high, tmp_path):
    summary = "1 finding (1 medium); 1 file reviewed, 0 skipped; 1 finding on unchanged lines not shown."
    markdown = caller.run("--diff", "main", "--format", "markdown", cwd=below_a_high)
    assert markdown.returncode == 0, markdown.stderr
    assert summary in markdown.stdout
    assert f"(app.py:{EVAL_LINE})" in markdown.stdout and "### Findings (1 medium)" in markdown.stdout
    assert "shell=True" not in markdown.stdout and f"app.py:{SHELL_LINE}" not in markdown.stdout
    assert "high" not in markdown.stdout

    text = caller.run("--diff", "main", cwd=below_a_high)
    assert text.stdout.splitlines()[-1] == summary and "shell=True" not in text.stdout

    review = json.loads(caller.run("--diff", "main", "--format", "json", cwd=below_a_high).stdout)
    assert [f["line"] for f in review["findings"]] == [EVAL_LINE] and review["findingsNotShown"] == 1
    [feedback] = review["feedback"]
    assert "### Findings (1 medium)" in feedback and "1 finding on unchanged lines not shown." in feedback
    assert "shell=True" not in feedback and "B602" not in feedback

    out = tmp_path / "out.sarif"
    sarif = caller.run("--diff", "main", "--format", "sarif", "--output", str(out), cwd=below_a_high)
    assert sarif.stdout.splitlines()[-1] == summary  # the job's log, beside the file for tools
    [run] = json.loads(out.read_text())["runs"]
    assert [r["ruleId"] for r in run["results"]] == ["bandit/B307"] and run["properties"]["findingsNotShown"] == 1

    # Within --context 1 of the change the high is kept, and the server's feedback stands as it wrote it.
    near = json.loads(caller.run("--diff", "main", "--context", "1", "--format", "json", cwd=below_a_high).stdout)
    assert {f["line"] for f in near["findings"]} == {SHELL_LINE, EVAL_LINE} and near["findingsNotShown"] == 0
    assert f"(app.py:{SHELL_LINE})" in near["feedback"][0] and "not shown" not in near["feedback"][0]
    whole = json.loads(caller.run("--diff", "main", "--all-findings", "--format", "json", cwd=below_a_high).stdout)
    assert "findingsNotShown" not in whole and f"(app.py:{SHELL_LINE})" in whole["feedback"][0]


def test_a_diffs_report_leaves_out_what_the_model_dismissed_off_the_change(pg_url, tmp_path, below_a_high):
    from tests.fakes.gemini import FakeGemini
    from tests.support.triage import triaging

    def decide(candidates):
        reason = "A fixed command, not user input."
        return [
            {"id": c["id"], "verdict": "false_positive", "reason": reason} for c in candidates if c["rule"] == "B602"
        ]

    with FakeGemini() as gemini:
        gemini.server.route("POST", "/", triaging(decide))
        env = server_env(pg_url, GEMINI_API_KEY="test-key", GEMINI_BASE_URL=gemini.url, GEMINI_MAX_ATTEMPTS="1")
        with local_server(env, tmp_path / "model.log") as url:
            caller = new_key(url)
            near = caller.run("--diff", "main", "--context", "1", "--format", "json", cwd=below_a_high)
            on_change = caller.run("--diff", "main", "--format", "markdown", cwd=below_a_high)
    assert "### Dismissed as false positives by the model (1)" in json.loads(near.stdout)["feedback"][0]
    assert on_change.returncode == 0, on_change.stderr
    assert "1 finding (1 medium); 1 file reviewed, 0 skipped." in on_change.stdout  # a dismissed one is no finding
    assert f"(app.py:{EVAL_LINE})" in on_change.stdout
    assert "Dismissed" not in on_change.stdout and "A fixed command" not in on_change.stdout


def test_a_diff_with_nothing_changed_reviews_nothing_and_passes(caller, branch):
    git(branch, "checkout", "-q", "main")
    done = caller.run("--diff", "main", "--format", "sarif", "--fail-on", "low", cwd=branch)
    assert done.returncode == 0, done.stderr
    assert "nothing to review (no file changed since main)" in done.stderr
    log = json.loads(done.stdout)
    assert_valid_sarif(log)
    assert log["runs"][0]["results"] == []
    bad_ref = caller.run("--diff", "no-such-branch", cwd=branch)
    assert bad_ref.returncode == 2 and "git diff against the given ref failed" in bad_ref.stderr


def test_a_413_makes_the_client_split_the_request(caller, tmp_path, pg_url):
    folder = tmp_path / "many"
    folder.mkdir()
    for n in range(1001):
        (folder / f"note_{n:04}.txt").write_text(f"note {n}\n")
    # Told the server takes 2000 files at once, the client sends 1001: the server's 413 splits it in two.
    done = caller.run(".", "--format", "json", "--max-files-per-request", "2000", cwd=folder)
    assert done.returncode == 0, done.stderr
    review = json.loads(done.stdout)
    assert len(review["reviewedFiles"]) == 1001
    assert review["reviewedFiles"] == sorted(review["reviewedFiles"])  # in request order, whichever answered first
    assert len(review["reviewIds"]) == 2
    assert reviews_of(pg_url, caller.user) == 2


def test_large_folders_go_in_several_requests_with_a_progress_bar_on_a_terminal(caller, project, pg_url):
    quiet = caller.run(".", "--max-files-per-request", "1", "--parallel", "2", cwd=project)
    assert quiet.returncode == 0, quiet.stderr
    assert "Reviewing" not in quiet.stderr  # not a terminal: no progress output
    assert reviews_of(pg_url, caller.user) == 3  # .gitignore, src/app.py and src/util.py, one request each

    leader, follower = pty.openpty()
    command = [sys.executable, "-m", "coderevai", "review", ".", "--max-files-per-request", "1", "--parallel", "2"]
    env = caller.env(TERM="xterm", COLUMNS="100")
    process = subprocess.Popen(command, cwd=project, env=env, stdout=subprocess.PIPE, stderr=follower, text=True)
    os.close(follower)
    shown = b""
    while True:
        try:
            chunk = os.read(leader, 4096)
        except OSError:
            break
        if not chunk:
            break
        shown += chunk
    stdout, _ = process.communicate(timeout=120)
    os.close(leader)
    assert process.returncode == 0
    screen = shown.decode("utf-8", "replace")
    assert "Reviewing (3 requests)" in screen
    assert "3/3" in screen and "files" in screen
    assert "src/app.py:5: high" in stdout  # the review itself still goes to standard output


def test_a_rate_limit_is_waited_out_up_to_a_bound(pg_url, tmp_path, project):
    limits = json.dumps({"review_repo": {"free": 1}})
    env = server_env(pg_url, RATE_LIMITS=limits, RATE_LIMIT_WINDOW_SECONDS="2")
    with local_server(env, tmp_path / "limited.log") as url:
        caller = new_key(url)
        started = time.monotonic()
        done = caller.run("src", "--format", "json", "--max-files-per-request", "1", "--parallel", "1", cwd=project)
        assert done.returncode == 0, done.stderr
        assert sorted(json.loads(done.stdout)["reviewedFiles"]) == ["src/app.py", "src/util.py"]
        assert time.monotonic() - started >= 1  # the second request waited for the window
        impatient = new_key(url)
        refused = impatient.run(
            "src", "--max-files-per-request", "1", "--parallel", "1", "--max-wait", "0", cwd=project
        )
        assert refused.returncode == 2
        assert "rate limited (429)" in refused.stderr and "--max-wait 0s" in refused.stderr


def test_the_github_workflow_reviews_the_diff_uploads_sarif_and_fails_on_high(caller, branch):
    import yaml

    workflow = yaml.safe_load((ROOT / "docs" / "examples" / "coderevai-review.yml").read_text())
    assert workflow["permissions"]["security-events"] == "write"
    steps = workflow["jobs"]["review"]["steps"]
    assert steps[0]["with"]["fetch-depth"] == 0
    [review] = [step for step in steps if "coderevai review" in step.get("run", "")]
    [upload] = [step for step in steps if step.get("uses", "").startswith("github/codeql-action/upload-sarif@")]
    assert set(review["env"]) == {"CODEREVAI_API_URL", "CODEREVAI_API_KEY"}
    # The step's command as Actions runs it for a pull request into main (here the branch is local).
    command = review["run"].replace("origin/${{ github.base_ref }}", "main")
    done = subprocess.run(["sh", "-c", command], cwd=branch, env=on_path(caller), capture_output=True, text=True)
    assert done.returncode == 1, done.stderr  # the change adds a high finding
    assert f"app.py:{SHELL_LINE}: high" in done.stdout
    assert_valid_sarif(json.loads((branch / upload["with"]["sarif_file"]).read_text()))


def test_the_shell_recipe_gates_a_branch(caller, branch):
    script = ROOT / "docs" / "examples" / "coderevai-review.sh"
    env = {**on_path(caller), "CODEREVAI_BASE": "main"}
    done = subprocess.run(["sh", str(script)], cwd=branch, env=env, capture_output=True, text=True, timeout=120)
    assert done.returncode == 1, done.stderr
    assert "CodeRevAI: findings at or above high in the change" in done.stdout
    assert_valid_sarif(json.loads((branch / "coderevai.sarif").read_text()))
    passing = subprocess.run(
        ["sh", str(script)], cwd=branch, env={**env, "CODEREVAI_FAIL_ON": "critical"}, capture_output=True, text=True
    )
    assert passing.returncode == 0 and "no finding at or above critical" in passing.stdout
    unset = subprocess.run(["sh", str(script)], cwd=branch, env={**env, "CODEREVAI_API_KEY": ""}, capture_output=True, text=True)  # fmt: skip
    assert unset.returncode != 0 and "set CODEREVAI_API_KEY" in unset.stderr


def test_the_guide_shows_the_workflow_file_as_it_is():
    workflow = (ROOT / "docs" / "examples" / "coderevai-review.yml").read_text()
    guide = (ROOT / "docs" / "ci.md").read_text()
    steps = [line.strip() for line in workflow.splitlines() if line.strip().startswith(("run:", "uses:", "if:"))]
    assert steps and all(step in guide for step in steps)
