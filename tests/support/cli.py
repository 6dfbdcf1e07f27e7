"""What the command-line tests share: a vulnerable file and its lines, the local server (one a test
module) and its environment, a recording relay in front of it, a CI job's caller (an API key made in
the web app), git in a scratch repository, and a branch that touches one vulnerable line."""

from __future__ import annotations

import json
import os
import subprocess
import sys
import uuid
from pathlib import Path

import httpx
import psycopg
import pytest

VULNERABLE = """\
import subprocess


def run(command):
    subprocess.call(command, shell=True)
    return eval(command)
"""
SHELL_LINE, EVAL_LINE = 5, 6  # bandit B602 (high) and B307 (medium)


def server_env(pg_url: str, **extra: str) -> dict[str, str]:
    """Development sign-in (X-Dev-User), which is how a key is made here; the offline reviewer."""
    return {
        "DATABASE_URL": pg_url,
        "LOG_LEVEL": "WARNING",
        "RATE_LIMITS": json.dumps({"review_repo": {"free": 100_000}}),
        **extra,
    }


class Caller:
    def __init__(self, url: str, key: str, user: str) -> None:
        self.url, self.key, self.user = url, key, user

    def env(self, **extra: str) -> dict[str, str]:
        base = {
            "PATH": os.environ.get("PATH", "/usr/bin:/bin"),
            "HOME": str(Path.home()),
            "CODEREVAI_API_URL": self.url,
            "CODEREVAI_API_KEY": self.key,
        }
        return {k: v for k, v in {**base, **extra}.items() if v is not None}

    def run(self, *args: str, cwd: Path, **env: str) -> subprocess.CompletedProcess:
        command = [sys.executable, "-m", "coderevai", "review", *args]
        return subprocess.run(command, cwd=cwd, env=self.env(**env), capture_output=True, text=True, timeout=240)


def new_key(server_url: str) -> Caller:
    """A new user creates an API key in the web app (POST /api/keys), and the CI job holds it."""
    user = f"cli_{uuid.uuid4().hex[:10]}"
    created = httpx.post(server_url + "/api/keys", json={"name": "ci"}, headers={"X-Dev-User": user}, timeout=10)
    assert created.status_code == 201, created.text
    key = created.json()["key"]
    assert key.startswith("sk_live_")
    return Caller(server_url + "/api", key, user)


@pytest.fixture(scope="module")
def server(pg_url, tmp_path_factory):
    """The one-port local server for a test module (offline reviewer, this run's PostgreSQL)."""
    from tests.support.server_process import local_server

    with local_server(server_env(pg_url), tmp_path_factory.mktemp("server") / "server.log") as url:
        yield url


@pytest.fixture
def relay(server):
    """A recording relay in front of the module's `server` (tests/fakes/relay.py)."""
    from tests.fakes.relay import Relay

    with Relay(server) as relay:
        yield relay


def relayed(relay) -> Caller:
    """A CI job's caller whose requests go through the relay (its key made on the server itself)."""
    signed_in = new_key(relay.upstream)
    return Caller(relay.url + "/api", signed_in.key, signed_in.user)


def reviews_of(pg_url: str, user: str) -> int:
    with psycopg.connect(pg_url) as conn:
        return conn.execute('SELECT count(*) FROM "ReviewHistory" WHERE "userId" = %s', (user,)).fetchone()[0]


def git(cwd: Path, *args: str) -> str:
    env = {**os.environ, "GIT_AUTHOR_NAME": "t", "GIT_AUTHOR_EMAIL": "t@example.com", "GIT_CONFIG_NOSYSTEM": "1"}
    env.update(GIT_COMMITTER_NAME="t", GIT_COMMITTER_EMAIL="t@example.com", HOME=str(cwd))
    return subprocess.run(["git", *args], cwd=cwd, env=env, check=True, capture_output=True, text=True).stdout


def a_branch(repo: Path, base: dict[str, str], feature: dict[str, str]) -> Path:
    """A repository at `repo` with `base` (path -> text) on `main` and the branch `feature`, checked
    out, writing `feature` over it in one commit."""
    repo.mkdir()
    git(repo, "init", "-q", "-b", "main")
    for files, message in ((base, "base"), (feature, "feature")):
        for path, text in files.items():
            (repo / path).write_text(text)
        git(repo, "add", "-A")
        git(repo, "commit", "-q", "-m", message)
        if message == "base":
            git(repo, "checkout", "-q", "-b", "feature")
    return repo


@pytest.fixture
def branch(tmp_path) -> Path:
    """A repository whose branch `feature` touches one vulnerable line of app.py (left main at `main`)."""
    repo = tmp_path / "repo"
    repo.mkdir()
    git(repo, "init", "-q", "-b", "main")
    before = VULNERABLE.replace("    subprocess.call(command, shell=True)\n", "    subprocess.call([command])\n")
    (repo / "app.py").write_text(before)
    (repo / "untouched.py").write_text(VULNERABLE)
    (repo / "shrinks.py").write_text("import os\nimport sys\n\nprint(sys.argv)\n")
    git(repo, "add", ".")
    git(repo, "commit", "-q", "-m", "base")
    git(repo, "checkout", "-q", "-b", "feature")
    (repo / "app.py").write_text(VULNERABLE)  # line 5 becomes shell=True
    (repo / "shrinks.py").write_text("import sys\n\nprint(sys.argv)\n")  # a deletion only
    git(repo, "commit", "-q", "-am", "feature")
    git(repo, "checkout", "-q", "main")
    (repo / "later.py").write_text(VULNERABLE)  # main moves on: not part of the branch's diff
    git(repo, "add", ".")
    git(repo, "commit", "-q", "-m", "main moves on")
    git(repo, "checkout", "-q", "feature")
    return repo


def on_path(caller: Caller) -> dict[str, str]:
    """The caller's environment with the installed `coderevai` command on PATH, as a CI job has it."""
    env = caller.env()
    env["PATH"] = f"{Path(sys.executable).parent}{os.pathsep}{env['PATH']}"
    return env
