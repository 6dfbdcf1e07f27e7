"""A pull request reviewed by the app, end to end through the queued_webhook, the fake Cloud Tasks, the
worker and the fake GitHub, with the static reviewer (no model): the review posted through the
shared composer, the summary's state marker, the check run, incremental pushes, large pull requests,
`.coderevai.yml` from the base branch, and commands."""

from __future__ import annotations

import re

import pytest

from shared.github_app import state
from tests.support.github_app import INSTALLATION, comment_event, delivery, pull_request_event

SHELL = "import subprocess\nimport sys\n\n\ndef run(cmd):\n    return subprocess.call(cmd, shell=True)\n\n\nrun(sys.argv[1])\n"
CLEAN = "def add(a, b):\n    return a + b\n"


@pytest.fixture
def repo(fake_github):
    repo = fake_github.repository("octo/app", installation_id=INSTALLATION)
    repo.commit({"README.md": "# app\n", "lib.py": CLEAN}, branch="main")
    repo.permissions["maintainer"] = "write"
    return repo


def open_pr(repo, files: dict, number: int = 7) -> dict:
    return repo.open_pull_request(number, repo.commit(files, parent=repo.branches["main"]))


def send(queued_webhook, event: str, payload: dict, tasks) -> list[str]:
    body, headers = delivery(event, payload)
    response = queued_webhook.post("/", data=body, headers=headers)
    assert response.status_code == 200, response.get_json()
    tasks.wait()
    return [a["outcome"] for answers in tasks.answers.values() for a in answers if a and "outcome" in a]


def summary_of(pull: dict) -> dict:
    (summary,) = [c for c in pull["issue_comments"] if "<!-- coderevai:summary -->" in c["body"]]
    return summary


def test_an_opened_pull_request_is_reviewed_inline_with_a_summary_and_a_check(queued_webhook, repo, queue_env):
    pull = open_pr(repo, {"tool.py": SHELL})
    (outcome,) = send(queued_webhook, "pull_request", pull_request_event(repo, 7), queue_env)
    assert outcome.startswith(f"reviewed 1 files at {pull['head']['sha'][:12]}"), outcome
    (review,) = pull["reviews"]
    assert review["commit_id"] == pull["head"]["sha"]
    (comment,) = [c for c in pull["review_comments"] if "B602" in c["body"]]
    assert comment["path"] == "tool.py" and comment["line"] == 6 and comment["side"] == "RIGHT"
    summary = summary_of(pull)
    assert state.read(summary["body"]).reviewed == pull["head"]["sha"]
    assert state.read(summary["body"]).open == {"tool.py": "high"}
    assert "files read (the whole pull request)" in summary["body"]
    (check,) = repo.check_runs
    assert check["name"] == "CodeRevAI" and check["status"] == "completed"
    assert check["conclusion"] == "failure"  # fail_on defaults to high
    assert check["head_sha"] == pull["head"]["sha"]


def test_a_push_is_reviewed_from_the_last_reviewed_commit_and_gone_findings_are_resolved(
    queued_webhook, repo, queue_env, fake_github
):
    pull = open_pr(repo, {"tool.py": SHELL, "other.py": CLEAN})
    send(queued_webhook, "pull_request", pull_request_event(repo, 7), queue_env)
    first_head = pull["head"]["sha"]
    queue_env.answers.clear()
    fixed = SHELL.replace("subprocess.call(cmd, shell=True)", "subprocess.call([cmd])")
    repo.push(7, {"tool.py": fixed, "new.py": SHELL.replace("run(sys.argv[1])", "run(sys.argv[2])")})
    (outcome,) = send(queued_webhook, "pull_request", pull_request_event(repo, 7, action="synchronize"), queue_env)
    assert f"since {first_head[:12]}" in outcome, outcome
    old = [c for c in pull["review_comments"] if c["path"] == "tool.py"]
    assert old and all("Resolved" in c["body"] for c in old if "B602" in c["body"])
    assert [c["path"] for c in pull["review_comments"] if "B602" in c["body"] and "Resolved" not in c["body"]] == [
        "new.py"
    ]
    summary = summary_of(pull)  # one summary, edited in place
    marker = state.read(summary["body"])
    assert marker.reviewed == pull["head"]["sha"]
    assert marker.open == {"new.py": "high", "tool.py": "low"}  # B603 now, on the line that changed
    assert f"the changes since `{first_head[:7]}`" in summary["body"]
    # Only what changed was read again: other.py was not fetched at the new head.
    head = pull["head"]["sha"]
    fetched = {
        r.path.rsplit("/contents/", 1)[1]
        for r in fake_github.requests
        if "/contents/" in r.path and r.query.get("ref") == [head]
    }
    assert fetched == {"tool.py", "new.py"}


def test_the_same_head_is_not_reviewed_twice(queued_webhook, repo, queue_env):
    pull = open_pr(repo, {"tool.py": SHELL})
    send(queued_webhook, "pull_request", pull_request_event(repo, 7), queue_env)
    queue_env.answers.clear()
    send(queued_webhook, "issue_comment", comment_event(repo, 7, "/coderevai review"), queue_env)
    assert len(pull["reviews"]) == 1
    assert "Nothing new since" in pull["issue_comments"][-1]["body"]


def test_full_review_reads_everything_again_without_duplicating_comments(queued_webhook, repo, queue_env):
    pull = open_pr(repo, {"tool.py": SHELL})
    send(queued_webhook, "pull_request", pull_request_event(repo, 7), queue_env)
    comments = len(pull["review_comments"])
    queue_env.answers.clear()
    (outcome,) = send(queued_webhook, "issue_comment", comment_event(repo, 7, "/coderevai full review"), queue_env)
    assert outcome.startswith("reviewed 1 files") and "0 new inline comments" in outcome
    assert len(pull["review_comments"]) == comments


def test_a_large_pull_request_skips_lock_and_vendored_files_and_says_what_it_did_not_read(
    queued_webhook, repo, queue_env, app_env
):
    app_env(GITHUB_REVIEW_MAX_FILES="2")
    files = {f"src/mod{i}.py": CLEAN.replace("add", f"add{i}") for i in range(4)}
    files.update({"package-lock.json": "{}\n", "vendor/lib.py": CLEAN, "main.py": SHELL})
    pull = open_pr(repo, files)
    send(queued_webhook, "pull_request", pull_request_event(repo, 7), queue_env)
    body = summary_of(pull)["body"]
    assert "`package-lock.json`: lock file" in body
    assert "`vendor/lib.py`: vendored or generated (vendor/)" in body
    assert body.count("past the cap of 2 files") == 3
    assert "main.py" not in re.findall(r"- `([^`]+)`: past the cap", body)  # the entry point is read first


def test_config_from_the_base_branch_excludes_paths_and_sets_fail_on(queued_webhook, repo, queue_env):
    repo.commit(
        {".coderevai.yml": "exclude: ['scripts/**']\nfail_on: never\n"}, parent=repo.branches["main"], branch="main"
    )
    pull = open_pr(repo, {"scripts/tool.py": SHELL, "tool.py": SHELL})
    send(queued_webhook, "pull_request", pull_request_event(repo, 7), queue_env)
    assert "`scripts/tool.py`: excluded by .coderevai.yml" in summary_of(pull)["body"]
    assert {c["path"] for c in pull["review_comments"]} == {"tool.py"}
    assert repo.check_runs[-1]["conclusion"] == "success"


def test_an_invalid_config_is_reported_and_the_defaults_apply(queued_webhook, repo, queue_env):
    repo.commit({".coderevai.yml": "fail_on: sometimes\n"}, parent=repo.branches["main"], branch="main")
    pull = open_pr(repo, {"tool.py": SHELL})
    send(queued_webhook, "pull_request", pull_request_event(repo, 7), queue_env)
    assert "`.coderevai.yml` on the base branch was not applied (`fail_on`" in summary_of(pull)["body"]
    assert repo.check_runs[-1]["conclusion"] == "failure"
