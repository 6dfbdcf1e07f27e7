"""GitHub App benchmark: the GitHub client's import cost (the choice of plain httpx over githubkit
or PyGithub), each app function's import at cold start, and what one webhook delivery costs to
answer by outcome (queued on the fake Cloud Tasks through the real client, duplicate, refused for
its signature), on a fresh PostgreSQL database.

    .venv/bin/python benchmarks/github_app.py [--deliveries 200] [--python PATH]

--python names an interpreter that also has githubkit and PyGithub installed (a scratch venv:
`python3 -m venv /tmp/gh && /tmp/gh/bin/pip install githubkit PyGithub httpx PyJWT`); each is
imported in a fresh process, best of 5; libraries missing there are reported as such."""

from __future__ import annotations

import argparse
import os
import statistics
import subprocess
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

CLIENTS = {
    "httpx + PyJWT (ours)": "import httpx, jwt",
    "githubkit (app auth, rest.pulls/checks/issues/apps)": (
        "from githubkit import GitHub, AppAuthStrategy\n"
        "g = GitHub(AppAuthStrategy('1', 'k'))\n"
        "g.rest.pulls; g.rest.checks; g.rest.issues; g.rest.apps"
    ),
    "PyGithub (Auth, GithubIntegration)": "from github import Auth, GithubIntegration",
}
FUNCTIONS = ("github_webhook", "review_worker", "github_app", "history")


def seconds(python: str, code: str, runs: int = 5, cwd: Path | None = None, env: dict | None = None) -> float | None:
    probe = f"import time\nt = time.perf_counter()\n{code}\nprint(time.perf_counter() - t)\n"
    best = None
    for _ in range(runs):
        out = subprocess.run([python, "-c", probe], capture_output=True, text=True, cwd=cwd, env=env)  # noqa: S603
        if out.returncode != 0:
            return None
        value = float(out.stdout.strip().splitlines()[-1])
        best = value if best is None else min(best, value)
    return best


def function_import(function: str) -> float:
    code = (
        "import importlib.util\n"
        f"spec = importlib.util.spec_from_file_location('main', 'functions/{function}/main.py')\n"
        "spec.loader.exec_module(importlib.util.module_from_spec(spec))"
    )
    env = {"PYTHONPATH": str(ROOT), "LOG_LEVEL": "WARNING", "PATH": os.environ.get("PATH", "")}
    return seconds(sys.executable, code, cwd=ROOT, env=env)


def webhook_latencies(deliveries: int) -> dict[str, list[float]]:
    from tests.conftest import create_database, drop_database, function_client, migrate
    from tests.fakes.cloud_tasks import FakeCloudTasks
    from tests.fakes.github import FakeGitHubApp
    from tests.support.github_app import WEBHOOK_SECRET, AppKey, delivery, pull_request_event

    url = create_database("crv_bench")
    key = AppKey()
    github, tasks = FakeGitHubApp("1", key.public_pem).start(), FakeCloudTasks(dispatch=False).start()
    try:
        migrate(url)
        os.environ.update(
            DATABASE_URL=url,
            LOG_LEVEL="WARNING",
            GITHUB_WEBHOOK_SECRET=WEBHOOK_SECRET,
            GITHUB_API_URL=github.url,
            CLOUD_TASKS_QUEUE="projects/p/locations/l/queues/q",
            CLOUD_TASKS_API_URL=tasks.url,
            REVIEW_WORKER_URL="http://127.0.0.1:9/",
            REVIEW_WORKER_SERVICE_ACCOUNT="t@p.iam.gserviceaccount.com",
        )
        client = function_client("github_webhook")
        repo = github.repository("octo/bench", installation_id=1)
        base = repo.commit({"a.py": "x = 1\n"}, branch="main")
        times: dict[str, list[float]] = {"queued": [], "duplicate": [], "bad signature": []}
        for number in range(1, deliveries + 1):
            repo.open_pull_request(number, repo.commit({"a.py": f"x = {number}\n"}, parent=base))
            body, headers = delivery("pull_request", pull_request_event(repo, number, installation=1))
            for outcome, sent in (
                ("queued", headers),
                ("duplicate", headers),
                ("bad signature", {**headers, "X-Hub-Signature-256": "sha256=00"}),
            ):
                started = time.perf_counter()
                status = client.post("/", data=body, headers=sent).status_code
                times[outcome].append(time.perf_counter() - started)
                assert status == (401 if outcome == "bad signature" else 200), status
        return times
    finally:
        github.stop()
        tasks.stop()
        drop_database(url)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--deliveries", type=int, default=200)
    parser.add_argument("--python", default=sys.executable, help="an interpreter with githubkit and PyGithub")
    args = parser.parse_args()
    print(f"GitHub client import, fresh process, best of 6 in turns ({args.python}):")
    # Measured in turns (each library, then again), so a busy machine slows them alike.
    measured: dict[str, list[float]] = {}
    for _ in range(3):
        for name, code in CLIENTS.items():
            value = seconds(args.python, code, runs=2)
            if value is not None:
                measured.setdefault(name, []).append(value)
    ours = min(measured[next(iter(CLIENTS))])
    for name in CLIENTS:
        if name not in measured:
            print(f"  {name:55s} not installed there")
        else:
            value = min(measured[name])
            print(f"  {name:55s} {value * 1000:7.1f} ms  ({value / ours:.2f}x ours)")
    print("function import at cold start (main.py), best of 15 in turns:")
    imports: dict[str, list[float]] = {}
    for _ in range(3):
        for function in FUNCTIONS:
            imports.setdefault(function, []).append(function_import(function))
    history = min(imports["history"])
    for function in FUNCTIONS:
        value = min(imports[function])
        print(f"  {function:15s} {value * 1000:7.1f} ms  ({value / history:.2f}x history's)")
    print(f"webhook answer by outcome ({args.deliveries} deliveries, functions-framework test client, PostgreSQL):")
    times = webhook_latencies(args.deliveries)
    floor = statistics.median(times["bad signature"])
    for outcome, values in times.items():
        values.sort()
        p50, p99 = statistics.median(values), values[int(len(values) * 0.99) - 1]
        print(
            f"  {outcome:14s} p50 {p50 * 1000:6.2f} ms  p99 {p99 * 1000:6.2f} ms  ({p50 / floor:.1f}x the refused one)"
        )


if __name__ == "__main__":
    main()
