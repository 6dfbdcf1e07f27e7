"""`./scripts/serve` with the three GITHUB_APP variables reviews a signed delivery end to end: no
queue configured, so the webhook's process runs the worker's code in the background, against the
fake GitHub; SQLite, the in-process limiter and the static reviewer, as on a laptop."""

from __future__ import annotations

import os
import subprocess
import time

import httpx

from tests.conftest import ROOT
from tests.support.github_app import APP_ID, INSTALLATION, WEBHOOK_SECRET, delivery, pull_request_event
from tests.support.server_process import free_port

SHELL = "import subprocess\nimport sys\n\n\ndef run(cmd):\n    return subprocess.call(cmd, shell=True)\n\n\nrun(sys.argv[1])\n"


def test_scripts_serve_reviews_a_signed_delivery(fake_github, app_key, tmp_path):
    repo = fake_github.repository("octo/local", installation_id=INSTALLATION)
    base = repo.commit({"README.md": "# local\n"}, branch="main")
    pull = repo.open_pull_request(3, repo.commit({"tool.py": SHELL}, parent=base))
    port = free_port()
    env = {
        "PATH": os.environ.get("PATH", "/usr/bin:/bin"),
        "HOME": str(tmp_path),
        "PORT": str(port),
        "LOG_LEVEL": "INFO",
        "DATABASE_URL": f"sqlite:///{tmp_path}/serve.sqlite3",
        "GITHUB_APP_ID": APP_ID,
        "GITHUB_APP_PRIVATE_KEY": app_key.private_pem.replace("\n", "\\n"),  # as a one-line env file holds it
        "GITHUB_WEBHOOK_SECRET": WEBHOOK_SECRET,
        "GITHUB_API_URL": fake_github.url,
    }
    log = tmp_path / "serve.log"
    with log.open("w") as out:
        server = subprocess.Popen(
            [str(ROOT / "scripts" / "serve")], cwd=ROOT, env=env, stdout=out, stderr=subprocess.STDOUT
        )
    url = f"http://127.0.0.1:{port}/api/webhooks/github"
    try:
        body, headers = delivery("pull_request", pull_request_event(repo, 3))
        for _ in range(600):
            try:
                response = httpx.post(url, content=body, headers=headers, timeout=5)
                break
            except httpx.TransportError:
                time.sleep(0.1)
        assert response.status_code == 200, (response.text, log.read_text()[-3000:])
        assert response.json()["outcome"] == "queued"
        deadline = time.monotonic() + 90
        while not repo.check_runs and time.monotonic() < deadline:
            time.sleep(0.2)
        assert repo.check_runs, log.read_text()[-3000:]
        (check,) = repo.check_runs
        assert check["conclusion"] == "failure" and check["head_sha"] == pull["head"]["sha"]
        assert [c["line"] for c in pull["review_comments"] if "B602" in c["body"]] == [6]
        assert any("<!-- coderevai:summary -->" in c["body"] for c in pull["issue_comments"])
    finally:
        server.terminate()
        server.wait(timeout=15)
