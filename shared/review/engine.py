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

For another prompt with a pydantic schema (e.g. a synthesis over batches), call
`shared.review.model.generate(system=..., contents=..., schema=Model)` directly.
"""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import PurePosixPath

from coderevai_core import markdown, secret_scan
from coderevai_core.findings import Finding, by_severity

from shared.review import budget, cache, model, prompts, report, static, triage
from shared.review.modes import normalise_modes
from shared.review.outcome import ReviewOutcome, SourceFile, Usage
from shared.review.review_language import prose_language

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

    writing_in = prose_language(review_language)
    key = cache.cache_key(files, language, chosen, custom_prompt, model.identity(), reviewLanguage=writing_in)
    if (hit := cache.lookup(key)) is not None:
        return hit  # before the static pass: a hit costs one indexed read
    found = by_severity(static.analyse(files, language, chosen) if static_findings is None else static_findings)
    masked = [
        SourceFile(path=f.path, content=secret_scan.mask(f.content, secret_scan.scan(f.content, f.path))) for f in files
    ]
    limit = budget.current().candidates
    try:
        generation = model.generate(
            system=prompts.system_instruction(chosen),
            contents=prompts.user_message(
                masked, language, found, custom_prompt, review_language=writing_in, max_candidates=limit
            ),
            schema=prompts.ModelReview,
        )
    except model.UnreadableAnswer as unread:
        return unread_review(files, language, found, unread)
    answer = generation.parsed
    kept, dismissed = triage.apply(found, answer.verdicts, limit)
    findings = by_severity(kept + [_from_model(item, files) for item in answer.findings])
    outcome = ReviewOutcome(
        feedback="\n\n".join(
            part
            for part in (
                answer.feedback.strip(),
                markdown.findings_section(findings),
                markdown.dismissed_section(dismissed),
            )
            if part
        ),
        findings=findings,
        model=generation.model,
        usage=generation.usage,
        dismissed=dismissed,
    )
    cache.store(key, outcome)
    return outcome


def unread_review(
    files: list[SourceFile], language: str, found: list[Finding], unread: model.UnreadableAnswer
) -> ReviewOutcome:
    """The static findings, saying the model's answer could not be read; never cached."""
    why = f"The model ({unread.model}) answered, but its answer could not be read, even after one repair request"
    return ReviewOutcome(
        feedback=report.static_feedback(found, static.coverage(files, language, found), why=why),
        findings=found,
        model=unread.model,
        usage=unread.usage,
        complete=False,
    )


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


def _from_model(item: prompts.ModelFinding, files: list[SourceFile]) -> Finding:
    """The model's finding, held to what is true of the files: a known path, a line that exists."""
    file = files[0] if len(files) == 1 else _match_file(item.file, files)
    line = item.line
    if file is None or line is None or not 1 <= line <= file.content.count("\n") + 1:
        line = None
    path = (file.path or None) if file else None
    return prompts.to_finding(item, file=path, line=line, default_category="general", default_title="Finding")


def _match_file(named: str | None, files: list[SourceFile]) -> SourceFile | None:
    if not named:
        return None
    named = named.strip().lstrip("./")
    for file in files:
        if file.path.lstrip("./") == named:
            return file
    tails = [file for file in files if PurePosixPath(file.path).name == PurePosixPath(named).name]
    return tails[0] if len(tails) == 1 else None
