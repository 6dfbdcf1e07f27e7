"""A review with the model (shared/review/engine.py dispatches here when one is configured): the
cache first, then the static pass, whose findings the model triages, and the model's own findings
held to the files. An answer that cannot be read, even after one repair request, leaves the static
findings with a sentence saying so, never cached."""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import PurePosixPath

from coderevai_core import markdown, secret_scan
from coderevai_core.findings import Finding, by_severity

from shared.review import budget, cache, model, prompts, report, static, triage
from shared.review.outcome import ReviewOutcome, SourceFile
from shared.review.review_language import prose_language


def review(
    files: list[SourceFile],
    language: str,
    chosen: Sequence[str],
    custom_prompt: str | None,
    static_findings: list[Finding] | None,
    review_language: str | None,
) -> ReviewOutcome:
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
