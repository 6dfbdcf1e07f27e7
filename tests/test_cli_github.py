"""`coderevai review --diff <base> --github-review` against the local server (offline reviewer, real
PostgreSQL) and a fake of GitHub's REST API that records the reviews, comments and edits: the first
push, the next push (no duplicates, the fixed finding resolved, the summary edited in place), a line
GitHub refuses (422), a rate limit waited out, and a fork's read-only token (annotations instead)."""

from __future__ import annotations

import json
import re
from pathlib import Path

import pytest

from tests.fakes.github import FakePullRequests
from tests.support.cli import Caller, git, new_key, server_env
from tests.support.server_process import local_server

BASE = "import subprocess\n\n\ndef run(command):\n    return subprocess.call([command])\n"
PUSH_1 = (
    "import subprocess\n\n\ndef run(command):\n    subprocess.call(command, shell=True)\n    return eval(command)\n"
)
# The shell=True line fixed, eval kept where it was, pickle added below it.
PUSH_2 = (
    "import subprocess\n\n\ndef run(command):\n    subprocess.call([command])\n    return eval(command)\n"
    "\n\ndef load(data):\n    import pickle\n\n    return pickle.loads(data)\n"
)
SECRET = "sk_live_" + "4fQ9zR2mXk7LpW3vT8nB6yHd"  # a live-shaped Stripe key, made up for the test
TOKEN = "ghs_fake_token"


@pytest.fixture
def caller(server) -> Caller:
    return new_key(server)


@pytest.fixture
def github():
    with FakePullRequests() as fake:
        yield fake


@pytest.fixture
def repo(tmp_path) -> Path:
    root = tmp_path / "repo"
    root.mkdir()
    git(root, "init", "-q", "-b", "main")
    (root / "app.py").write_text(BASE)
    git(root, "add", ".")
    git(root, "commit", "-q", "-m", "base")
    git(root, "checkout", "-q", "-b", "feature")
    return root


def push(repo: Path, app: str, github: FakePullRequests, *, env_file: str | None = None) -> str:
    """Commit the branch's new state and give the fake GitHub the pull request's diff as GitHub shows it."""
    (repo / "app.py").write_text(app)
    if env_file is not None:
        (repo / ".env").write_text(env_file)
    git(repo, "add", "-A")
    git(repo, "commit", "-q", "-m", "push")
    patches = {}
    for path in git(repo, "diff", "--name-only", "main...HEAD").split():
        patch = git(repo, "diff", "main...HEAD", "--", path)
        patches[path] = patch[patch.index("@@") :].rstrip("\n")
    github.open_pull_request(7, patches)
    return git(repo, "rev-parse", "HEAD").strip()


def review(caller: Caller, repo: Path, github: FakePullRequests, *args: str):
    event = repo.parent / "event.json"
    sha = git(repo, "rev-parse", "HEAD").strip()
    event.write_text(json.dumps({"pull_request": {"number": 7, "head": {"sha": sha}}}))
    env = {
        "GITHUB_TOKEN": TOKEN,
        "GITHUB_REPOSITORY": "octo/demo",
        "GITHUB_EVENT_PATH": str(event),
        "GITHUB_API_URL": github.url,
    }
    return caller.run("--diff", "main", "--github-review", "--max-wait", "10", *args, cwd=repo, **env)


def markers(bodies) -> list[dict]:
    return [json.loads(m) for body in bodies for m in re.findall(r"<!-- coderevai:finding (\{.*?\}) -->", body)]


def test_first_push_posts_one_review_with_inline_comments_and_a_summary(caller, repo, github):
    sha = push(repo, PUSH_1, github, env_file=f"STRIPE_KEY={SECRET}\n")
    github.rate_limited = 1  # the first call is answered 403 with the limit spent: waited out
    done = review(caller, repo, github, "--fail-on", "high")
    assert done.returncode == 1, done.stderr  # --fail-on still decides
    pull = github.pulls[7]
    [posted] = pull.reviews
    assert posted["commit_id"] == sha and posted["event"] == "COMMENT"
    placed = {(c["path"], c["line"], c["side"]) for c in posted["comments"]}
    assert placed == {("app.py", 5, "RIGHT"), ("app.py", 6, "RIGHT"), (".env", 1, "RIGHT")}
    shell = next(c["body"] for c in posted["comments"] if c["line"] == 5)
    assert "**High**" in shell and "shell=True" in shell and "`bandit/B602`" in shell
    assert {"path": "app.py", "line": 5, "rule": "bandit/B602"} in markers(c["body"] for c in posted["comments"])
    secret_comment = next(c["body"] for c in posted["comments"] if c["path"] == ".env")
    assert "**Critical**" in secret_comment and SECRET not in secret_comment  # masked: the kind and length only
    [summary] = pull.issue_comments
    assert "<!-- coderevai:summary -->" in summary["body"]
    assert "**3 findings** on this change (1 critical, 1 high, 1 medium)" in summary["body"]
    assert "3 as inline comments, 0 listed here" in summary["body"]
    assert "1 new inline comments" not in done.stderr and "3 new inline comments" in done.stderr


def test_the_summary_counts_what_the_change_left_out_and_lists_none_of_it(caller, tmp_path, github):
    root = tmp_path / "below"
    root.mkdir()
    git(root, "init", "-q", "-b", "main")
    (root / "app.py").write_text(PUSH_1.replace("eval(command)", "command"))  # shell=True already there
    git(root, "add", ".")
    git(root, "commit", "-q", "-m", "base")
    git(root, "checkout", "-q", "-b", "feature")
    push(root, PUSH_1, github)  # adds eval on the line below
    done = review(caller, root, github)
    assert done.returncode == 0, done.stderr
    [posted] = github.pulls[7].reviews
    assert [(c["path"], c["line"]) for c in posted["comments"]] == [("app.py", 6)]
    [summary] = github.pulls[7].issue_comments
    assert "**1 finding** on this change (1 medium)" in summary["body"]
    assert "1 finding on unchanged lines not shown." in summary["body"]
    assert "B602" not in summary["body"] and "shell" not in summary["body"]


def test_the_next_push_posts_only_new_findings_resolves_the_fixed_one_and_edits_the_summary(caller, repo, github):
    push(repo, PUSH_1, github)
    assert review(caller, repo, github).returncode == 0
    first = github.pulls[7]
    state = (first.review_comments, first.issue_comments)  # GitHub keeps them across pushes

    push(repo, PUSH_2, github)
    second = github.pulls[7]
    second.review_comments, second.issue_comments = state
    done = review(caller, repo, github)
    assert done.returncode == 0, done.stderr
    [new_review] = second.reviews
    new = {(m["line"], m["rule"]) for m in markers(c["body"] for c in new_review["comments"])}
    # subprocess without a shell on the rewritten line 5, import pickle and pickle.loads; not eval again.
    assert new == {(5, "bandit/B603"), (10, "bandit/B403"), (12, "bandit/B301")}
    resolved = [body for kind, _, body in second.edits if kind == "review"]
    assert len(resolved) == 1 and "Resolved" in resolved[0]
    assert markers(resolved) == [{"path": "app.py", "line": 5, "rule": "bandit/B602", "state": "resolved"}]
    [summary] = second.issue_comments  # edited in place, not a second one
    assert [kind for kind, _, _ in second.edits].count("issue") == 1
    assert "1 earlier comment resolved" in summary["body"]
    assert "3 new inline comments, 1 already there, 1 resolved" in done.stderr

    again = review(caller, repo, github)  # a third run on the same push: nothing new, nothing resolved
    assert again.returncode == 0 and len(second.reviews) == 1
    assert "0 new inline comments, 4 already there, 0 resolved" in again.stderr


def test_a_line_github_refuses_goes_to_the_summary(caller, repo, github):
    push(repo, PUSH_1, github)
    github.refuse = {("app.py", 6)}
    done = review(caller, repo, github)
    assert done.returncode == 0, done.stderr
    pull = github.pulls[7]
    assert pull.reviews == [] and len(pull.refused) == 1  # a refused review creates nothing
    [summary] = pull.issue_comments
    assert "GitHub refused the inline comments, 422" in summary["body"]
    assert "`app.py:5`" in summary["body"] and "`app.py:6`" in summary["body"]


def test_a_finding_outside_githubs_diff_is_listed_in_the_summary(caller, repo, github):
    push(repo, PUSH_1, github)
    (repo / "app.py").write_text(PUSH_1 + "\n\ndef later(x):\n    return eval(x)\n")  # not pushed yet
    done = review(caller, repo, github)
    assert done.returncode == 0, done.stderr
    [posted] = github.pulls[7].reviews
    assert {c["line"] for c in posted["comments"]} == {5, 6}
    assert "`app.py:10`" in github.pulls[7].issue_comments[0]["body"]


def test_a_forks_read_only_token_falls_back_to_annotations(caller, repo, github):
    push(repo, PUSH_1, github)
    github.read_only = True
    done = review(caller, repo, github, "--fail-on", "high")
    assert done.returncode == 1
    assert "the token cannot write to this pull request (a pull request from a fork" in done.stderr
    assert re.search(r"^::error file=app.py,line=5,title=high%3A .*::", done.stdout, re.M)
    assert github.pulls[7].reviews == [] and github.pulls[7].issue_comments == []


def test_github_review_needs_the_workflows_context(caller, repo, github):
    push(repo, PUSH_1, github)
    done = caller.run("--diff", "main", "--github-review", cwd=repo)
    assert (
        done.returncode == 2
        and "--github-review needs GITHUB_TOKEN, GITHUB_REPOSITORY, GITHUB_EVENT_PATH" in done.stderr
    )
    no_diff = caller.run("--github-review", cwd=repo)
    assert no_diff.returncode == 2 and "--github-review needs --diff" in no_diff.stderr


def test_a_finding_with_a_replacement_for_its_line_is_a_suggestion(pg_url, tmp_path, repo, github):
    from tests.fakes.gemini import FakeGemini, generation

    model_finding = {
        "severity": "high",
        "category": "security",
        "title": "eval of a caller's command",
        "detail": "command reaches eval: the caller runs any code.",
        "line": 6,
        "file": "app.py",
        "suggestion": "```python\nreturn ast.literal_eval(command)\n```",  # quoted without the file's indent
    }
    prose = {**model_finding, "line": 5, "title": "shell=True", "suggestion": "Pass a list of arguments instead."}
    with FakeGemini() as gemini:
        gemini.default = generation({"feedback": "## Review\n\nTwo problems.", "findings": [model_finding, prose]})
        env = server_env(pg_url, GEMINI_API_KEY="test-key", GEMINI_BASE_URL=gemini.url, GEMINI_MAX_ATTEMPTS="1")
        with local_server(env, tmp_path / "model.log") as url:
            caller = new_key(url)
            push(repo, PUSH_1, github)
            done = review(caller, repo, github)
    assert done.returncode == 0, done.stderr
    [posted] = github.pulls[7].reviews
    by_title = {re.search(r"\*\*: (.*)", c["body"]).group(1): c for c in posted["comments"]}
    suggested = by_title["eval of a caller's command"]
    assert suggested["line"] == 6 and "start_line" not in suggested
    assert "```suggestion\n    return ast.literal_eval(command)\n```" in suggested["body"]  # one click replaces line 6
    plain = by_title["shell=True"]
    assert "```suggestion" not in plain["body"] and "**Suggestion:** Pass a list of arguments instead." in plain["body"]


def test_at_most_max_comments_inline_the_most_severe_first(caller, repo, github):
    push(repo, PUSH_1, github, env_file=f"STRIPE_KEY={SECRET}\n")
    done = review(caller, repo, github, "--max-comments", "1")
    assert done.returncode == 0, done.stderr
    [posted] = github.pulls[7].reviews
    assert [(c["path"], c["line"]) for c in posted["comments"]] == [(".env", 1)]  # the critical one
    summary = github.pulls[7].issue_comments[0]["body"]
    assert "1 as inline comments, 2 listed here" in summary
    assert "`app.py:5`" in summary and "`app.py:6`" in summary


def test_max_comments_comes_from_the_base_branchs_file_unless_the_flag_says(caller, repo, github):
    (repo / ".coderevai.yml").write_text("max_comments: 1\n")  # on the branch only: not the rules
    git(repo, "add", "-A")
    git(repo, "commit", "-q", "-m", "rules on the branch")
    git(repo, "checkout", "-q", "main")
    (repo / ".coderevai.yml").write_text("max_comments: 0\n")
    git(repo, "add", "-A")
    git(repo, "commit", "-q", "-m", "rules on the base")
    git(repo, "checkout", "-q", "feature")
    push(repo, PUSH_1, github)
    done = review(caller, repo, github)
    assert done.returncode == 0, done.stderr
    assert not [c for r in github.pulls[7].reviews for c in r["comments"]]  # max_comments: 0, as main has it
    assert "0 as inline comments, 2 listed here" in github.pulls[7].issue_comments[0]["body"]

    push(repo, PUSH_1.replace("eval(command)", "eval(command)  # again"), github)  # a fresh pull request
    assert review(caller, repo, github, "--max-comments", "1").returncode == 0
    [posted] = github.pulls[7].reviews
    assert [(c["path"], c["line"]) for c in posted["comments"]] == [("app.py", 5)]
