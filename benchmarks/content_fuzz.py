"""The longer content-fuzzing run (docs/reliability.md#content-fuzzing): real files from downloaded
packages, and many generated Python programs, sent over real HTTP to review-code and review-repo
(the one-port local server in its own process, PostgreSQL, the static reviewer). Every answer must
be 200 or a 4xx in the error contract, within the function's deployed time limit (deploy.sh); the
run prints what it sent and how it was answered, every failure with the server log's tracebacks,
and exits 1 on any.

    .venv/bin/python benchmarks/content_fuzz.py [--workdir DIR] [--files 3000] [--programs 1000]
        [--only pip npm deb programs] [--workers 2]

Sources (downloaded once into --workdir, by the registries' ordinary clients): source distributions
from PyPI (`pip download --no-binary NAME --no-deps`), npm packages (`npm pack`), Debian packages
(`apt-get download`, unpacked with `dpkg-deb -x`: PHP, Ruby, Go and Rust sources, shell scripts).
Files are taken in a fixed order, round-robin across languages, so a run is repeatable; the
programs come from hypothesmith with a fixed seed. Nothing downloaded is kept in the repository."""

from __future__ import annotations

import argparse
import itertools
import json
import os
import statistics
import subprocess
import sys
import tarfile
import tempfile
import threading
import time
import uuid
import warnings
from collections import Counter, defaultdict
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path, PurePosixPath
from typing import NamedTuple

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

import httpx  # noqa: E402

from shared.errors import PUBLIC_CODES  # noqa: E402
from shared.review.outcome import SourceFile  # noqa: E402
from shared.review.static import external, is_python, rules  # noqa: E402
from tests.support.deploy_limits import deployed_seconds  # noqa: E402

# Chosen for what they carry: jpype1 Java, pythonnet C#, pytest its GitHub workflows, react-native Kotlin
# and Java, ruby-railties and ruby-actionview ERB templates, bash-completion shell scripts.
PIP = ("django", "flask", "requests", "sqlalchemy", "jpype1", "pythonnet", "ansible-core", "pytest")
NPM = ("express", "lodash", "typescript", "vue", "axios", "react-native")
DEB = (
    "php-symfony-console", "php-guzzlehttp-guzzle", "php-twig", "php-laravel-framework", "ruby-rack",
    "ruby-sinatra", "golang-github-gorilla-mux-dev", "golang-github-gin-gonic-gin-dev", "librust-serde-dev",
    "librust-regex-dev", "bash-completion", "ruby-railties", "ruby-actionview",
)  # fmt: skip
MAX_FILE_BYTES = 1024 * 1024
REPO_BATCH_FILES, REPO_BATCH_BYTES = 300, 20 * 1024 * 1024


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--workdir", default=os.path.join(tempfile.gettempdir(), "coderevai-content-fuzz"))
    parser.add_argument("--files", type=int, default=3000, help="files sent one by one to review-code")
    parser.add_argument("--programs", type=int, default=1000, help="hypothesmith programs sent to review-code")
    parser.add_argument("--only", nargs="*", default=["pip", "npm", "deb", "programs"])
    parser.add_argument("--workers", type=int, default=2)
    parser.add_argument("--seed", type=int, default=20261125)
    args = parser.parse_args()

    workdir = Path(args.workdir)
    trees = fetch(workdir, args.only)
    files = pick([file for tree in trees for file in read(tree)], args.files)
    print(f"{len(files)} files from {len(trees)} packages:", dict(Counter(language for _, language, _ in files)))

    from tests.conftest import create_database, drop_database, migrate
    from tests.support.server_process import local_server

    database = create_database("crv_content_fuzz")
    migrate(database)
    generous = {route: {"free": 10**9} for route in ("review_code", "review_repo")}
    env = {"DATABASE_URL": database, "LOG_LEVEL": "WARNING", "RATE_LIMITS": json.dumps(generous)}
    log = workdir / "server.log"
    results: list[Result] = []
    try:
        with local_server(env, log) as url:
            run = Runner(url, args.workers)
            results += run.each(
                [("review_code", code_body(path, language, text), path) for path, language, text in files]
            )
            results += run.each([("review_repo", body, label) for label, body in repo_bodies(trees)])
            if "programs" in args.only:
                results += run.each([("review_code", {"code": source, "language": "python"}, f"program {n}")
                                     for n, source in enumerate(programs(args.programs, args.seed))])  # fmt: skip
    finally:
        drop_database(database)
    report(results, log.read_text(errors="replace"))


# --- sources ------------------------------------------------------------------------------------


def fetch(workdir: Path, kinds: list[str]) -> list[Path]:
    downloads, trees = workdir / "downloads", workdir / "trees"
    downloads.mkdir(parents=True, exist_ok=True)
    trees.mkdir(exist_ok=True)
    if "pip" in kinds:
        for name in [
            name
            for name in PIP
            if not list(downloads.glob(f"{name.replace('-', '_')}-*.tar.gz")) + list(downloads.glob(f"{name}-*.tar.gz"))
        ]:  # one at a time: a package with no source distribution must not stop the others
            # --no-binary for the package alone: its build requirements come as wheels, not compiled here
            subprocess.run([sys.executable, "-m", "pip", "download", "--quiet", "--no-deps", "--no-binary", name,
                            "--dest", str(downloads), name], check=False)  # fmt: skip
    if "npm" in kinds and (missing := [name for name in NPM if not list(downloads.glob(f"{name}-[0-9]*.tgz"))]):
        subprocess.run(["npm", "pack", "--silent", *missing], cwd=downloads, check=False, stdout=subprocess.DEVNULL)
    if "deb" in kinds and (missing := [name for name in DEB if not list(downloads.glob(f"{name}_*.deb"))]):
        subprocess.run(["apt-get", "download", *missing], cwd=downloads, check=False)
    found = []
    for archive in sorted(downloads.iterdir()):
        kind = "deb" if archive.suffix == ".deb" else "npm" if archive.suffix == ".tgz" else "pip"
        if kind not in kinds:
            continue
        tree = trees / archive.name
        if not tree.exists():
            if kind == "deb":
                subprocess.run(["dpkg-deb", "-x", str(archive), str(tree)], check=True)
            else:
                with tarfile.open(archive) as tar:
                    tar.extractall(tree, filter="data")
        found.append(tree)
    return found


def language_of(path: str) -> str | None:
    """The language the static pass reads the file as (the coverage table's), or None."""
    file = SourceFile(path=path, content="#!/bin/sh" if "/bin/" in path or "completions/" in path else "")
    if is_python(file, ""):
        return "python"
    return external.kind_of(file, "") or rules.grammar_of(file, "")


def read(tree: Path) -> list[tuple[str, str, str]]:
    """(path in the package, language, text) of each file the static pass reads, up to 1 MiB."""
    files = []
    for path in sorted(tree.rglob("*")):
        if not path.is_file() or path.is_symlink() or path.stat().st_size > MAX_FILE_BYTES:
            continue
        relative = path.relative_to(tree).as_posix()
        raw = path.read_bytes()
        text = raw.decode("utf-8", errors="replace")
        if "completions/" in relative and not PurePosixPath(relative).suffix:
            relative += ".sh"  # bash-completion's scripts have no suffix and no shebang
        if b"\x00" not in raw[:8192] and (language := language_of(relative)):
            files.append((f"{tree.name}/{relative}", language, text))
    return files


def pick(files: list[tuple[str, str, str]], count: int) -> list[tuple[str, str, str]]:
    """Up to `count` files, round-robin across languages so that none crowds out the others."""
    by_language: dict[str, list] = defaultdict(list)
    for file in files:
        by_language[file[1]].append(file)
    chosen = [file for group in itertools.zip_longest(*by_language.values()) for file in group if file]
    return chosen[:count]


def code_body(path: str, language: str, text: str) -> dict:
    return {"code": text, "language": language, "fileName": path.split("/", 1)[1], "reviewModes": []}


def repo_bodies(trees: list[Path]) -> list[tuple[str, dict]]:
    """Each package as review-repo requests of at most REPO_BATCH_FILES files and REPO_BATCH_BYTES."""
    bodies = []
    for tree in trees:
        files, size = [], 0
        for path in sorted(tree.rglob("*")):
            if not path.is_file() or path.is_symlink() or path.stat().st_size > MAX_FILE_BYTES:
                continue
            text = path.read_bytes().decode("utf-8", errors="replace").replace("\x00", "")
            if files and (len(files) == REPO_BATCH_FILES or size + len(text.encode()) > REPO_BATCH_BYTES):
                bodies.append((f"{tree.name} ({len(files)} files)", {"files": files}))
                files, size = [], 0
            files.append({"path": path.relative_to(tree).as_posix(), "content": text})
            size += len(text.encode())
        if files:
            bodies.append((f"{tree.name} ({len(files)} files)", {"files": files}))
    return bodies


def programs(count: int, seed: int) -> list[str]:
    import hypothesmith
    from hypothesis import HealthCheck, given, settings
    from hypothesis import seed as fixed_seed
    from hypothesis import strategies as st

    made: list[str] = []
    warnings.simplefilter("ignore", SyntaxWarning)  # hypothesmith compiles each program: `1()` warns

    @fixed_seed(seed)
    @settings(max_examples=count, deadline=None, database=None, suppress_health_check=list(HealthCheck))
    @given(st.one_of(hypothesmith.from_grammar(), hypothesmith.from_node()))
    def collect(source: str) -> None:
        made.append(source)

    collect()
    return made


# --- sending -----------------------------------------------------------------------------------


class Result(NamedTuple):
    function: str
    label: str
    status: int
    seconds: float
    problem: str | None
    reason: str | None = None  # a 4xx's message, its first words


class Runner:
    def __init__(self, url: str, workers: int) -> None:
        self.url, self.workers = url, workers
        self.limits = {name: deployed_seconds(name) for name in ("review_code", "review_repo")}
        self._local = threading.local()

    def each(self, requests: list[tuple[str, dict, str]]) -> list[Result]:
        started = time.monotonic()
        with ThreadPoolExecutor(self.workers) as pool:
            results = list(pool.map(lambda request: self.send(*request), requests))
        if requests:
            print(f"  {len(requests)} requests to {requests[0][0]} in {time.monotonic() - started:.0f} s", flush=True)
        return results

    def send(self, function: str, body: dict, label: str) -> Result:
        client = getattr(self._local, "client", None) or httpx.Client(timeout=self.limits[function] + 30)
        self._local.client = client
        path = "/api/" + function.replace("_", "-")
        headers = {"X-Dev-User": f"content_fuzz_{uuid.uuid4().hex[:6]}"}
        started = time.monotonic()
        try:
            response = client.post(self.url + path, json=body, headers=headers)
        except httpx.HTTPError as exc:
            return Result(function, label, 0, time.monotonic() - started, f"no answer: {type(exc).__name__}")
        seconds = time.monotonic() - started
        return Result(
            function, label, response.status_code, seconds, problem_of(response, seconds, self.limits[function])
        )


def problem_of(response: httpx.Response, seconds: float, limit: int) -> str | None:
    if seconds >= limit:
        return f"took {seconds:.0f} s, past the deployed {limit} s"
    if "Traceback" in response.text:
        return "a traceback in the answer"
    if response.status_code == 200:
        return None
    if not 400 <= response.status_code < 500:
        return f"{response.status_code}: {response.text[:300]}"
    try:
        error = response.json()
        assert error["code"] in PUBLIC_CODES and error["message"] and isinstance(error["retryable"], bool)
    except (ValueError, KeyError, AssertionError):
        return f"{response.status_code} outside the error contract: {response.text[:300]}"
    return None


# --- report ------------------------------------------------------------------------------------------


def report(results: list[Result], server_log: str) -> None:
    print("\nanswers (function: status -> count), and time per request (p50 / p95 / max, s)")
    for function in sorted({r.function for r in results}):
        mine = [r for r in results if r.function == function]
        times = sorted(r.seconds for r in mine)
        p95 = times[min(len(times) - 1, int(len(times) * 0.95))]
        statuses = dict(sorted(Counter(r.status for r in mine).items()))
        print(f"  {function:12} {len(mine):5} requests {statuses}; "
              f"{statistics.median(times):.2f} / {p95:.2f} / {times[-1]:.2f}")  # fmt: skip
        slowest = max(mine, key=lambda r: r.seconds)
        print(f"  {'':12} slowest: {slowest.label} ({slowest.seconds:.1f} s)")
        for reason, count in Counter(r.reason for r in mine if r.reason).most_common(5):
            print(f"  {'':12} {count} x 4xx: {reason}")
    failures = [r for r in results if r.problem]
    tracebacks = server_log.count("Traceback")
    print(f"\nfailures: {len(failures)}; tracebacks in the server log: {tracebacks}")
    for failure in failures[:50]:
        print(f"  {failure.function} {failure.label}: {failure.problem}")
    if tracebacks:
        print(server_log[server_log.index("Traceback") - 500 :][:6000])
    sys.exit(1 if failures or tracebacks else 0)


if __name__ == "__main__":
    main()
