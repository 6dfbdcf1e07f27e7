"""The hot path's two targets in one run, interleaved: the history GET against its SELECT plus one
limiter decision (benchmarks/history.py, heavy user, first page) and every function's cold start
against its libraries' own import (benchmarks/cold_start.py), alternating --repeat times so that a
busy spell on the shared machine falls on both.

    .venv/bin/python benchmarks/hot_path.py [--rows 300000] [--repeat 2] [--rounds 1000] [--runs 11]

Loads the history database once (kept between rounds, dropped at the end)."""

from __future__ import annotations

import argparse
import re
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent


def run(*args: str) -> str:
    out = subprocess.run([sys.executable, *args], cwd=ROOT, capture_output=True, text=True, check=True)
    return out.stdout


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--rows", type=int, default=300_000)
    parser.add_argument("--repeat", type=int, default=2)
    parser.add_argument("--rounds", type=int, default=1000)
    parser.add_argument("--runs", type=int, default=11)
    args = parser.parse_args()
    database = None
    try:
        for turn in range(1, args.repeat + 1):
            where = ["--database", database] if database else ["--rows", str(args.rows), "--keep"]
            history = run("benchmarks/history.py", "--rounds", str(args.rounds), *where)
            database = database or re.search(r"database kept: (\S+)", history).group(1)
            print(f"--- round {turn}: history GET ({args.rows:,} rows)")
            print("\n".join(line for line in history.splitlines() if "page" in line or "steps:" in line))
            print(f"--- round {turn}: cold start (best of {args.runs})")
            print(run("benchmarks/cold_start.py", "--runs", str(args.runs)).rstrip(), flush=True)
    finally:
        if database:
            import psycopg

            admin = database.rsplit("/", 1)[0] + "/postgres"
            with psycopg.connect(admin, autocommit=True) as conn:
                conn.execute(f'DROP DATABASE IF EXISTS "{database.rsplit("/", 1)[1]}" WITH (FORCE)')


if __name__ == "__main__":
    main()
