"""Review engine figures, in one run:

1. An uncached offline review (no model key) of a 60-line snippet, p50, against the analysers' own
   time on it (ruff, bandit, the rules and the secrets check, each run alone): target at most 3x.
2. The static pass on a generated 5,000-line Python file against its slowest analyser alone:
   target at most 1.1x.
3. A review served from the cache against an uncached one, with the fake Gemini's latency fixed,
   through the real google-genai client and a real (temporary SQLite) ReviewCache table.

    .venv/bin/python benchmarks/review.py [--lines 5000] [--runs 5] [--latency 0.5]
"""

from __future__ import annotations

import argparse
import os
import statistics
import sys
import tempfile
import time
import uuid
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

BLOCK = '''

def handler_{n}(request, items=[]):
    """Handle request {n}."""
    import subprocess
    total = 0
    for i in range(len(request.args)):
        total += i * {n}
    if request.args.get("debug") == True:
        subprocess.call("echo " + request.args["cmd"], shell=True)
    try:
        value = eval(request.args.get("expr", "0"))
    except:
        value = None
    return {{"total": total, "value": value, "items": items}}
'''


def generated_python(lines: int) -> str:
    header = "import os\nimport sys\nimport json\n"
    blocks, n = [header], 0
    while sum(b.count("\n") for b in blocks) < lines:
        blocks.append(BLOCK.format(n=n))
        n += 1
    return "".join(blocks)


def interleaved(runs: int, **fns) -> dict[str, float]:
    """Median seconds of each function, run in turns (a, b, c, a, b, c, ...): on a shared machine the
    load drifts, and ratios of figures taken minutes apart would measure the drift."""
    times: dict[str, list[float]] = {name: [] for name in fns}
    for _ in range(runs):
        for name, fn in fns.items():
            start = time.perf_counter()
            fn()
            times[name].append(time.perf_counter() - start)
    return {name: statistics.median(values) for name, values in times.items()}


def timed(fn, runs: int) -> list[float]:
    out = []
    for _ in range(runs):
        start = time.perf_counter()
        fn()
        out.append(time.perf_counter() - start)
    return out


def analyser_timers() -> dict:
    """Each analyser alone on one Python file, as the static pass runs it (copies in a temp dir)."""
    from shared.review import secret_scan
    from shared.review.outcome import SourceFile
    from shared.review.static import python_tools, rules

    def with_copy(code, run):
        with tempfile.TemporaryDirectory() as workdir:
            root = Path(workdir)
            names = python_tools.write_copies([(0, SourceFile(path="a.py", content=code))], root)
            return run(root, names)

    return {
        "ruff": lambda code: with_copy(
            code, lambda root, names: python_tools.ruff_findings(python_tools.start_ruff(root), root, names)
        ),  # fmt: skip
        "bandit": lambda code: with_copy(code, python_tools.bandit_findings),
        "rules": lambda code: rules.scan([(SourceFile(path="a.py", content=code), "python")]),
        "secrets": lambda code: secret_scan.findings(code, "a.py"),
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--lines", type=int, default=5000)
    parser.add_argument("--runs", type=int, default=7)
    parser.add_argument("--latency", type=float, default=0.5, help="the fake Gemini's fixed latency, seconds")
    args = parser.parse_args()

    workdir = tempfile.mkdtemp(prefix="crv-bench-")
    for name in [n for n in os.environ if n.startswith(("GEMINI_", "REVIEW_", "DATABASE_"))]:
        del os.environ[name]
    os.environ.update(LOG_LEVEL="WARNING", DATABASE_URL=f"sqlite:///{workdir}/bench.sqlite3")

    from alembic import command
    from alembic.config import Config

    from shared.config import get_settings
    from shared.review import static
    from shared.review.engine import SourceFile, review_files, static_review
    from tests.fakes.gemini import FakeGemini

    get_settings.cache_clear()
    alembic = Config(str(ROOT / "alembic.ini"))
    alembic.attributes["configure_logger"] = False
    command.upgrade(alembic, "head")

    snippet = generated_python(60)
    analysers = analyser_timers()
    static.analyse([SourceFile(path="warm.py", content=snippet)], "python")  # first use: imports bandit, reads rules

    def review():
        fresh = [SourceFile(path="", content=f"# {uuid.uuid4().hex}\n{snippet}")]  # never the same twice
        static_review(fresh, language="python")

    small = interleaved(
        args.runs * 3, review=review, **{k: lambda run=run: run(snippet) for k, run in analysers.items()}
    )
    p50, own = small.pop("review"), sum(small.values())
    print(f"offline review of a {snippet.count(chr(10))}-line snippet: p50 {p50 * 1000:.1f} ms; analysers' own time "
          f"{own * 1000:.1f} ms ({', '.join(f'{k} {v * 1000:.1f}' for k, v in small.items())}); "
          f"review/analysers = {p50 / own:.2f}x (target <= 3x)")  # fmt: skip

    code = generated_python(args.lines)
    files = [SourceFile(path="big.py", content=code)]
    static.analyse(files, "python")  # first large file: starts the bandit worker process (once an instance)
    big = interleaved(args.runs, static_pass=lambda: static.analyse(files, "python"),
                      **{k: lambda run=run: run(code) for k, run in analysers.items()})  # fmt: skip
    median = big.pop("static_pass")
    slowest = max(big, key=big.get)
    findings = static.analyse(files, "python")
    lines = code.count("\n")
    print(f"static pass, {lines} lines, {len(code) // 1024} KB: median {median * 1000:.0f} ms over {args.runs} runs "
          f"({lines / median:,.0f} lines/s), {len(findings)} findings after grouping; analysers alone: "
          f"{', '.join(f'{k} {v * 1000:.0f} ms' for k, v in big.items())}; "
          f"pass/slowest ({slowest}) = {median / big[slowest]:.2f}x (target <= 1.1x)")  # fmt: skip

    snippet = generated_python(60)
    with FakeGemini(latency=args.latency) as gemini:
        os.environ.update(GEMINI_API_KEY="bench", GEMINI_BASE_URL=gemini.url)
        get_settings.cache_clear()

        def uncached():
            fresh = [SourceFile(path="", content=f"# {uuid.uuid4().hex}\n{snippet}")]
            assert not review_files(fresh, language="python", modes=["security"]).cached

        review_files([SourceFile(path="", content=snippet)], language="python", modes=["security"])  # warm + fill

        def cached():
            assert review_files([SourceFile(path="", content=snippet)], language="python", modes=["security"]).cached

        uncached_times, cached_times = timed(uncached, args.runs), timed(cached, args.runs)
    slow, fast = statistics.median(uncached_times), statistics.median(cached_times)
    print(f"review of a {snippet.count(chr(10))}-line snippet, fake Gemini latency {args.latency * 1000:.0f} ms: "
          f"uncached median {slow * 1000:.0f} ms, cached median {fast * 1000:.1f} ms, "
          f"cached/uncached = {fast / slow:.4f} ({slow / fast:.0f}x faster)")  # fmt: skip


if __name__ == "__main__":
    main()
