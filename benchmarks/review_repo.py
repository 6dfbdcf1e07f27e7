"""Repository review: a generated 300-file repository reviewed through the real google-genai client
against the fake Gemini with a fixed latency per call, with bounded parallelism and one call at a
time. Prints the selection, the number of model calls, the wall times and their ratio.

    .venv/bin/python benchmarks/review_repo.py [--files 300] [--latency 0.5] [--parallelism 4]

Uses the production budget (REVIEW_REPO_BATCH_TOKENS, REVIEW_REPO_MAX_BATCHES defaults) unless
those variables are set; the review cache is off so both runs make every call."""

from __future__ import annotations

import argparse
import os
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from shared.config import get_settings  # noqa: E402
from shared.repo.files import plan_batches, select  # noqa: E402
from shared.repo.job import static_pass  # noqa: E402
from shared.repo.review import review_repository  # noqa: E402
from tests.fakes.gemini import DEFAULT_REVIEW, FakeGemini, generation  # noqa: E402

SYNTHESIS = {"feedback": "## Cross-file view\n\nConsistent.", "crossFileFindings": []}


def answer(gemini: FakeGemini):
    """Batch calls get the fake's review; the synthesis call (it holds batch reviews) its own shape."""

    def handle(seen):
        time.sleep(gemini.latency)
        return generation(SYNTHESIS if b"<batch_review>" in seen.body else DEFAULT_REVIEW)

    return handle


def generated_repository(count: int) -> list[tuple[str, str]]:
    """Python modules of ~320 lines (about 1,500 tokens each), plus tests, docs and skippable files."""
    files = []
    for index in range(count):
        if index % 10 == 8:
            path = f"tests/test_module_{index:03}.py"
        elif index % 10 == 9:
            path = f"docs/page_{index:03}.md"
        else:
            path = f"src/pkg{index % 7}/module_{index:03}.py"
        body = "\n".join(
            f"def function_{n}(value):\n    total = value * {n}\n    return total + {index}\n" for n in range(80)
        )
        files.append((path, f'"""Module {index}."""\n\nimport os\n\n{body}'))
    files += [("node_modules/x/index.js", "module.exports = 1\n"), (".env", "KEY=1\n"), ("yarn.lock", "#\n")]
    return files


def timed_review(files, parallelism: int) -> tuple[float, int]:
    os.environ["REVIEW_REPO_PARALLELISM"] = str(parallelism)
    get_settings.cache_clear()
    started = time.perf_counter()
    review = review_repository(files, modes=("comprehensive",), custom_prompt=None)
    elapsed = time.perf_counter() - started
    assert review.model != "static" and review.complete, "the benchmark expects a complete model review"
    return elapsed, len(review.reviewed_files)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--files", type=int, default=300)
    parser.add_argument("--latency", type=float, default=2.0, help="seconds per fake Gemini call")
    parser.add_argument("--parallelism", type=int, default=4)
    args = parser.parse_args()

    files = generated_repository(args.files)
    with FakeGemini(latency=args.latency) as gemini:
        os.environ.update(
            GEMINI_API_KEY="benchmark",
            GEMINI_BASE_URL=gemini.url,
            REVIEW_CACHE_TTL_SECONDS="0",
            LOG_LEVEL="WARNING",
        )
        gemini.server.route("POST", "/", answer(gemini))
        get_settings.cache_clear()
        settings = get_settings()
        selection = select(files)
        plan = plan_batches(
            selection.files,
            batch_tokens=settings.review_repo_batch_tokens,
            max_batches=settings.review_repo_max_batches,
        )
        tokens = sum(f.tokens for f in selection.files)
        calls = len(plan.batches) + (1 if len(plan.batches) > 1 else 0)

        started = time.perf_counter()
        static_pass(selection.files)
        static_seconds = time.perf_counter() - started
        parallel, reviewed = timed_review(files, args.parallelism)
        calls_made = len(gemini.calls)
        sequential, _ = timed_review(files, 1)

    print(f"repository: {len(files)} files, {len(selection.files)} selected (~{tokens:,} tokens), "
          f"{len(selection.skipped)} skipped, {len(plan.not_reviewed)} over the budget")  # fmt: skip
    print(
        f"budget: {settings.review_repo_batch_tokens:,} tokens per call, at most {settings.review_repo_max_batches} calls"
    )
    print(
        f"model calls: {calls} ({len(plan.batches)} batches + 1 synthesis); made {calls_made}; {reviewed} files reviewed"
    )
    print(
        f"fake Gemini latency: {args.latency:.2f} s per call; static pass (ruff, bandit, rules, secrets): {static_seconds:.2f} s"
    )
    print(f"parallelism {args.parallelism}: {parallel:6.2f} s wall ({parallel - static_seconds:.2f} s in model calls)")
    print(f"one at a time: {sequential:6.2f} s wall ({sequential - static_seconds:.2f} s in model calls)")
    print(
        f"ratio (one at a time / parallel): {sequential / parallel:.2f}x wall, "
        f"{(sequential - static_seconds) / (parallel - static_seconds):.2f}x model phase"
    )


if __name__ == "__main__":
    main()
