"""The review modes and what each one asks of the reviewer. The original app had no instructions
for `production_ready`; every mode has its own here."""

from __future__ import annotations

from typing import get_args

from shared.errors import invalid_input
from shared.schemas import MAX_MODES, ReviewMode

ALL_MODES: tuple[ReviewMode, ...] = get_args(ReviewMode)
DEFAULT_MODES: tuple[ReviewMode, ...] = ("comprehensive",)

INSTRUCTIONS: dict[ReviewMode, str] = {
    "comprehensive": (
        "Comprehensive review: correctness first, then security, error handling, performance, "
        "readability and maintainability. Weigh each issue by its real impact; do not pad the "
        "review with style nits a formatter would fix."
    ),
    "security": (
        "Security review: injection (SQL, shell, template, path traversal), unsafe deserialisation "
        "and eval, authentication and authorisation gaps, secrets in code, weak cryptography, "
        "SSRF, missing input validation at trust boundaries, and data leaking into logs or errors. "
        "For each issue say how it could be exploited and how to close it."
    ),
    "bug_fixes": (
        "Bug hunt: logic errors, off-by-one mistakes, wrong conditions, unhandled None/null and "
        "empty inputs, exceptions swallowed or raised in the wrong place, resource leaks, race "
        "conditions and incorrect API use. Give the input that triggers each bug and the fix."
    ),
    "performance": (
        "Performance review: algorithmic complexity, repeated work inside loops, N+1 queries, "
        "needless copies and allocations, blocking I/O on hot paths, missing caching or batching. "
        "Estimate the cost of each issue and only flag what matters at realistic sizes."
    ),
    "best_practices": (
        "Best practices: idiomatic use of the language and its standard library, naming, small "
        "functions with one responsibility, type hints, clear error handling, no dead code, and "
        "the conventions of the ecosystem the code belongs to."
    ),
    "test_generation": (
        "Test generation: propose unit tests for the code's behaviour, including edge cases and "
        "failure paths, in the language's usual test framework. Put the test code in the "
        "suggestion of findings with category 'tests', and list untested risky paths."
    ),
    "production_ready": (
        "Production readiness: configuration from the environment (no hard-coded hosts or "
        "credentials), timeouts and retries on every network call, structured logging without "
        "secrets, graceful handling of dependency outages, input limits, idempotency, resource "
        "cleanup, observability (metrics, request ids), and safe behaviour under concurrency."
    ),
}


def normalise_modes(modes: list[str] | tuple[str, ...]) -> tuple[ReviewMode, ...]:
    """Unique modes in a fixed order, so the same set always makes the same prompt (and cache key)."""
    unknown = sorted(set(modes) - set(ALL_MODES))
    if unknown:
        raise invalid_input(f"reviewModes: unknown mode {unknown[0]!r}; use {', '.join(ALL_MODES)}.")
    chosen = tuple(mode for mode in ALL_MODES if mode in modes) or DEFAULT_MODES
    if len(chosen) > MAX_MODES:
        raise invalid_input(f"reviewModes: at most {MAX_MODES} modes at once.")
    return chosen
