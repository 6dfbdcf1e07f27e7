"""The review engine: static pass, then (when one is configured) the model, behind the cache.

Contract (used by review_code and review_repo):

    review_files(files: list[SourceFile], *, language: str, modes: Sequence[str],
                 custom_prompt: str | None = None,
                 static_findings: list[Finding] | None = None,
                 review_language: str | None = None) -> ReviewOutcome

- `SourceFile(path, content)`: path "" for an unnamed snippet. One call reviews one batch in one
  model request; `review_snippet` is the one-file case. Fitting a batch into a token budget is
  the caller's job.
- `language` is the requester's hint; a file counts as Python (ruff + bandit) when its path ends in
  .py/.pyi, or it has no extension and the language is Python; the structural rules pick their
  grammar the same way (shared/languages.py). The secrets check runs on every file.
- `modes`: review mode names; unknown or more than 5 raise ApiError 400; empty means comprehensive.
- `custom_prompt`: the requester's notes, sent as delimited user data, never as instructions.
- `review_language`: the human language of the review's prose (None: REVIEW_LANGUAGE).
- `static_findings`: pass them when already computed (e.g. for many files at once); otherwise the
  engine runs `static.analyse(files, language, modes)` (the modes choose the lint families).
- `ReviewOutcome(feedback, findings, model, usage, cached, dismissed)`: markdown feedback ending
  with the findings; findings most severe first, each with `file` = its SourceFile.path (None for
  ""), `line` within the file; `model` is the model that answered or "static" when none is configured;
  `usage` = Usage(promptTokens, outputTokens, totalTokens), all 0 for static and cached reviews.
- With a model, the static findings are candidates it triages (triage.py): confirmed ones stay
  with `verdict: "confirmed"`, false positives move to `dismissed` with `verdictReason`.
- When the model's answer cannot be read, even after one repair request (model.py), the outcome is
  the static findings with a sentence saying so, `complete=False`, and it is not cached.
- Errors: ApiError 400 for bad modes; 502/503 (retryable) when the model fails after its retries.

`static_review(files, language=..., static_findings=None, modes=None)` is the no-model branch on its own (the
repository review uses it too).

The model's path (the cache, the prompt, triage) is shared/review/model_review.py, loaded at start
where a model is configured and never where none is.

For another prompt with a pydantic schema (e.g. a synthesis over batches), call
`shared.review.model.generate(system=..., contents=..., schema=Model)` directly.
"""

from __future__ import annotations

from collections.abc import Sequence

from coderevai_core.findings import Finding, by_severity

from shared.review import model, report, static
from shared.review.modes import normalise_modes
from shared.review.outcome import ReviewOutcome, SourceFile, Usage

__all__ = ["Finding", "ReviewOutcome", "SourceFile", "Usage", "review_files", "review_snippet", "static_review"]

STATIC_MODEL = "static"


def review_snippet(
    code: str,
    *,
    language: str,
    modes: Sequence[str],
    custom_prompt: str | None = None,
    file_name: str | None = None,
    review_language: str | None = None,
) -> ReviewOutcome:
    files = [SourceFile(path=file_name or "", content=code)]
    return review_files(
        files, language=language, modes=modes, custom_prompt=custom_prompt, review_language=review_language
    )


def review_files(
    files: list[SourceFile],
    *,
    language: str,
    modes: Sequence[str],
    custom_prompt: str | None = None,
    static_findings: list[Finding] | None = None,
    review_language: str | None = None,
) -> ReviewOutcome:
    chosen = normalise_modes(list(modes))
    if not model.configured():
        return static_review(files, language=language, static_findings=static_findings, modes=chosen)

    from shared.review import model_review  # loaded at start where a model is configured (below)

    return model_review.review(files, language, chosen, custom_prompt, static_findings, review_language)


def static_review(
    files: list[SourceFile],
    *,
    language: str,
    static_findings: list[Finding] | None = None,
    modes: Sequence[str] | None = None,
) -> ReviewOutcome:
    """The whole review when no model is configured: the static pass and what it found."""
    found = by_severity(static.analyse(files, language, modes) if static_findings is None else static_findings)
    return ReviewOutcome(
        feedback=report.static_feedback(found, static.coverage(files, language, found)),
        findings=found,
        model=STATIC_MODEL,
        usage=Usage(),
    )


if model.configured():
    # A deployment with a model reviews every request with it, so its path (the cache and its
    # table, prompts, triage) loads at start, not on the first request; one without never loads it.
    from shared.review import model_review  # noqa: F401
