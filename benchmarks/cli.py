"""The command-line client's bounded parallelism: a generated folder reviewed by `coderevai review`
against the one-port local server (a fresh PostgreSQL database, the fake Gemini at a fixed latency
per call, the review cache off), in several requests, one at a time and `--parallel N` at once.
Prints the requests, the wall times and their ratio.

    .venv/bin/python benchmarks/cli.py [--files 40] [--per-request 4] [--latency 1.0] [--parallel 4]
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import tempfile
import time
import uuid
from pathlib import Path

import httpx

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from tests.conftest import create_database, drop_database, migrate  # noqa: E402
from tests.fakes.gemini import DEFAULT_REVIEW, FakeGemini, generation  # noqa: E402
from tests.support.server_process import local_server  # noqa: E402


def generated_folder(root: Path, count: int) -> None:
    salt = uuid.uuid4().hex  # no two runs share a review
    for index in range(count):
        body = "\n".join(f"def function_{n}(value):\n    return value * {n} + {index}\n" for n in range(20))
        (root / f"module_{index:03}.py").write_text(f'"""Module {index} ({salt})."""\n\n{body}')


def timed_run(folder: Path, env: dict[str, str], per_request: int, parallel: int) -> tuple[float, dict]:
    command = [sys.executable, "-m", "coderevai", "review", ".", "--format", "json"]
    command += ["--max-files-per-request", str(per_request), "--parallel", str(parallel)]
    started = time.perf_counter()
    done = subprocess.run(command, cwd=folder, env=env, capture_output=True, text=True, check=False)
    elapsed = time.perf_counter() - started
    if done.returncode != 0:
        raise SystemExit(f"coderevai failed ({done.returncode}): {done.stderr}")
    return elapsed, json.loads(done.stdout)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--files", type=int, default=40)
    parser.add_argument("--per-request", type=int, default=4, help="files per request (the client's cap)")
    parser.add_argument("--latency", type=float, default=1.0, help="seconds per fake Gemini call")
    parser.add_argument("--parallel", type=int, default=4)
    args = parser.parse_args()

    database_url = create_database("crv_bench_cli")
    migrate(database_url)
    with FakeGemini(latency=args.latency) as gemini, tempfile.TemporaryDirectory() as work:

        def answer(seen):
            time.sleep(gemini.latency)
            return generation(DEFAULT_REVIEW)

        gemini.server.route("POST", "/", answer)
        env = {
            "DATABASE_URL": database_url,
            "GEMINI_API_KEY": "benchmark",
            "GEMINI_BASE_URL": gemini.url,
            "REVIEW_CACHE_TTL_SECONDS": "0",
            "RATE_LIMITS": json.dumps({"review_repo": {"free": 100_000}}),
            "LOG_LEVEL": "WARNING",
        }
        try:
            with local_server(env, Path(work) / "server.log") as url:
                created = httpx.post(url + "/api/keys", json={"name": "bench"}, headers={"X-Dev-User": "bench"})
                created.raise_for_status()
                client_env = {
                    "PATH": os.environ.get("PATH", "/usr/bin:/bin"),
                    "HOME": work,
                    "CODEREVAI_API_URL": url + "/api",
                    "CODEREVAI_API_KEY": created.json()["key"],
                }
                results = {}
                for parallel in (1, args.parallel):
                    folder = Path(work) / f"folder_{parallel}"
                    folder.mkdir()
                    generated_folder(folder, args.files)
                    results[parallel] = timed_run(folder, client_env, args.per_request, parallel)
        finally:
            drop_database(database_url)

    sequential, review = results[1]
    parallel, _ = results[args.parallel]
    print(f"folder: {args.files} files, {len(review['reviewedFiles'])} reviewed, {len(review['reviewIds'])} requests "
          f"of at most {args.per_request} files")  # fmt: skip
    print(f"fake Gemini latency: {args.latency:.2f} s per call; model calls made: {len(gemini.calls)}")
    print(f"one request at a time: {sequential:6.2f} s wall")
    print(f"--parallel {args.parallel}:          {parallel:6.2f} s wall")
    print(f"ratio (one at a time / parallel): {sequential / parallel:.2f}x")


if __name__ == "__main__":
    main()
