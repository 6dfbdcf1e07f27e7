"""Cold start: each function's import time in a fresh process against the import time of the
third-party libraries it needs, measured the same way (best of N fresh processes each).

    .venv/bin/python benchmarks/cold_start.py [--runs 11]

A ratio near 1.0 means our own code adds almost nothing on top of the libraries it must load. The
last columns time our code alone, in a process that has loaded those libraries already."""

from __future__ import annotations

import argparse
import json
import subprocess
import sys
import tempfile
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
FUNCTIONS = sorted(p.parent.name for p in (ROOT / "functions").glob("*/main.py"))

# Loads a function as Cloud Functions does (functions-framework create_app), then reports the time
# and the third-party modules that ended up imported, in the order they were imported.
LOAD_FUNCTION = """
import sys, time, json
name, source = sys.argv[1], sys.argv[2]
before = set(sys.modules)
start = time.perf_counter()
import functions_framework
functions_framework.create_app(name, source)
elapsed = time.perf_counter() - start
ours = set(sys.stdlib_module_names) | {"main", "shared", "coderevai_core", "__main__"}
modules = [m for m in sys.modules if m not in before and m.split(".")[0] not in ours]
print(json.dumps({"seconds": elapsed, "modules": modules}))
"""

IMPORT_LIBRARIES = """
import sys, time, json, importlib
import_start = time.perf_counter()
for module in json.loads(sys.argv[1]):
    try:
        importlib.import_module(module)
    except Exception:
        pass
import functions_framework
"""
# The libraries' own cost: import exactly those modules, in the same order, and let
# functions-framework build its app around a function of one line, so the framework's own set-up
# counts on both sides and the difference is our code.
LOAD_LIBRARIES = (
    IMPORT_LIBRARIES
    + """
functions_framework.create_app("bare", sys.argv[2])
print(json.dumps({"seconds": time.perf_counter() - import_start}))
"""
)
BARE_FUNCTION = "def bare(request):\n    return 'ok'\n"

# Our code alone: the libraries first (untimed), then the function. Less noisy than the difference
# of the two figures above, each a minimum of its own; it is what the ratio's excess should be.
LOAD_OURS = (
    IMPORT_LIBRARIES
    + """
start = time.perf_counter()
functions_framework.create_app(sys.argv[2], sys.argv[3])
print(json.dumps({"seconds": time.perf_counter() - start}))
"""
)


def run(code: str, *args: str) -> dict:
    env = {"LOG_LEVEL": "WARNING", "PATH": "/usr/bin:/bin"}
    out = subprocess.run(
        [sys.executable, "-c", code, *args], cwd=ROOT, env=env, capture_output=True, text=True, check=True
    )
    return json.loads(out.stdout.strip().splitlines()[-1])


def measure(name: str, runs: int) -> tuple[float, float, float, list[str]]:
    """Best of `runs` fresh processes for each side, as timeit advises: on this shared VM other work
    only ever adds time (single runs vary by +-20%), so the minimum is the stable figure. The two
    sides alternate, so a slow spell does not fall on one of them only."""
    source = str(ROOT / "functions" / name / "main.py")
    function_times, library_times, our_times = [], [], []
    bare = Path(tempfile.mkdtemp()) / "main.py"
    bare.write_text(BARE_FUNCTION)
    modules = run(LOAD_FUNCTION, name, source)["modules"]  # also warms the bytecode caches
    for _ in range(runs):
        function_times.append(run(LOAD_FUNCTION, name, source)["seconds"])
        library_times.append(run(LOAD_LIBRARIES, json.dumps(modules), str(bare))["seconds"])
        our_times.append(run(LOAD_OURS, json.dumps(modules), name, source)["seconds"])
    return min(function_times), min(library_times), min(our_times), modules


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--runs", type=int, default=11)
    args = parser.parse_args()
    print(
        "| function | import (ms) | its libraries (ms) | ratio | ours after them (ms) | 1 + ours / libraries | heavy SDKs loaded |"
    )
    print("|---|---|---|---|---|---|---|")
    heavy = (
        "google.genai",
        "openai",
        "google.cloud.secretmanager",
        "stripe",
        "clerk_backend_api",
        "upstash_redis",
        "redis",
        "httpx",
    )
    for name in FUNCTIONS:
        function_s, libraries_s, ours_s, modules = measure(name, args.runs)
        loaded = ", ".join(h for h in heavy if any(m == h or m.startswith(h + ".") for m in modules)) or "-"
        print(
            f"| {name} | {function_s * 1000:.0f} | {libraries_s * 1000:.0f} | {function_s / libraries_s:.2f}x "
            f"| {ours_s * 1000:.0f} | {1 + ours_s / libraries_s:.2f}x | {loaded} |"
        )


if __name__ == "__main__":
    main()
