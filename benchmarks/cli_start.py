"""The command line's start: how long `coderevai` takes before its first request, this checkout
against another ref's (`git archive` of its cli/ and core/, run from a temporary folder), in fresh
processes, interleaved, best of N each (the machine is noisy; compare ratios within one run).

- `--version`: the client's imports and its argument parser;
- `review` of a small git repository without and with a `.coderevai.yml` (rules read, globs matched,
  files collected), against an address where nothing listens: the run ends at its first request
  (a refused connection is not retried), so the time is the start and no server's.

    .venv/bin/python benchmarks/cli_start.py [--against main] [--runs 15]
"""

from __future__ import annotations

import argparse
import os
import socket
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
RULES = """\
modes: [security, bug_fixes]
exclude: ["legacy/**", "**/*.snap"]
instructions:
  - path: "src/api/**"
    text: "Every handler must validate its input."
fail_on: high
language: German
"""


def checkout_of(ref: str, into: Path) -> Path:
    """`ref`'s cli/ and core/ in `into`, as a PYTHONPATH takes them."""
    archive = subprocess.run(["git", "archive", ref, "cli", "core"], cwd=ROOT, capture_output=True, check=True)
    subprocess.run(["tar", "-x", "-C", str(into)], input=archive.stdout, check=True)
    return into


def a_repository(root: Path, rules: bool) -> Path:
    (root / "src" / "api").mkdir(parents=True)
    (root / "legacy").mkdir()
    for index in range(20):
        (root / "src" / f"module_{index}.py").write_text(f"def f{index}(x):\n    return x + {index}\n")
    (root / "src" / "api" / "users.py").write_text("def handler(request):\n    return request\n")
    (root / "legacy" / "old.py").write_text("print('old')\n")
    if rules:
        (root / ".coderevai.yml").write_text(RULES)
    env = {**os.environ, "GIT_AUTHOR_NAME": "b", "GIT_AUTHOR_EMAIL": "b@example.com", "HOME": str(root)}
    env.update(GIT_COMMITTER_NAME="b", GIT_COMMITTER_EMAIL="b@example.com")
    for command in (["init", "-q", "-b", "main"], ["add", "-A"], ["commit", "-q", "-m", "base"]):
        subprocess.run(["git", *command], cwd=root, env=env, check=True)
    return root


def closed_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


def timed(sources: Path, args: list[str], cwd: Path, port: int) -> float:
    env = {
        "PATH": os.environ.get("PATH", "/usr/bin:/bin"),
        "HOME": str(cwd),
        "PYTHONPATH": f"{sources / 'cli'}{os.pathsep}{sources / 'core'}",
        "CODEREVAI_API_URL": f"http://127.0.0.1:{port}/api",
        "CODEREVAI_API_KEY": "sk_live_benchmark",
    }
    start = time.perf_counter()
    done = subprocess.run([sys.executable, "-m", "coderevai", *args], cwd=cwd, env=env, capture_output=True)
    elapsed = time.perf_counter() - start
    if args[0] == "review":
        assert done.returncode == 2 and b"127.0.0.1" in done.stderr, done.stderr[-500:]
    else:
        assert done.returncode == 0, done.stderr[-500:]
    return elapsed


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--against", default="main", help="the git ref to compare with (default main)")
    parser.add_argument("--runs", type=int, default=15)
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as scratch:
        work = Path(scratch)
        (work / "other").mkdir()
        other = checkout_of(args.against, work / "other")
        plain, ruled = a_repository(work / "plain", rules=False), a_repository(work / "ruled", rules=True)
        port = closed_port()
        cases = {
            "--version": (["--version"], plain),
            "review, no .coderevai.yml": (["review", "."], plain),
            "review, a .coderevai.yml": (["review", "."], ruled),
        }
        best: dict[tuple[str, str], float] = {}
        for _ in range(args.runs):
            for case, (argv, cwd) in cases.items():
                for label, sources in ((args.against, other), ("this checkout", ROOT)):
                    seconds = timed(sources, argv, cwd, port)
                    best[case, label] = min(best.get((case, label), seconds), seconds)
    print(f"best of {args.runs} fresh processes each, interleaved; ms")
    print(f"{'case':<28} {args.against:>12} {'this checkout':>14} {'ratio':>7}")
    for case in cases:
        before, after = best[case, args.against] * 1000, best[case, "this checkout"] * 1000
        print(f"{case:<28} {before:>12.1f} {after:>14.1f} {after / before:>7.2f}")


if __name__ == "__main__":
    main()
