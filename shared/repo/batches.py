"""A repository review with the model (shared/repo/review.py dispatches here when one is
configured): the files in token-budgeted batches, reviewed in bounded parallel calls, their answers
merged with the static findings they triaged, then one synthesis call for the cross-file view,
behind the cache. A batch that fails leaves a partial review naming the files it did not cover."""

from __future__ import annotations

import contextvars
import logging
from concurrent.futures import ThreadPoolExecutor

from coderevai_core.changed_lines import on_changed_lines
from coderevai_core.findings import Finding, by_severity
from coderevai_core.markdown import LEADING_FINDINGS, dismissed_section, findings_section, prose_of

from shared.config import get_settings
from shared.errors import ApiError
from shared.history.service import MAX_FEEDBACK_CHARS
from shared.repo.files import Part, Plan, Skipped, plan_batches
from shared.repo.job import RepoJob, RepoReview, skipped_details, source_files, static_pass, static_review
from shared.repo.synthesis import SYNTHESIS_VERSION, synthesize, to_findings
from shared.review import budget, cache, engine, model
from shared.review.outcome import ReviewOutcome, SourceFile, Usage
from shared.review.report import cut_to

log = logging.getLogger("coderevai.repo_review")
UNREADABLE = "The model answered, but no batch's answer could be read, even after one repair request each"
MAX_LISTED_NOT_REVIEWED = 100  # in the feedback; skippedFiles lists them all


def review_in_batches(job: RepoJob) -> RepoReview:
    plan = plan_batches(job.files, batch_tokens=batch_tokens(), max_batches=get_settings().review_repo_max_batches)
    if not plan.batches:  # e.g. only minified one-line files: nothing the model could be sent
        raise ApiError(
            413,
            "PAYLOAD_TOO_LARGE",
            "There is nothing to review: no file fits one model call (see skippedFiles).",
            data=skipped_details(job.skipped + plan.not_reviewed),
        )
    key = cache_key(job)
    if (hit := cache.lookup(key)) is not None:
        return RepoReview(
            feedback=hit.feedback,
            findings=hit.findings,
            reviewed_files=list(dict.fromkeys(part.file.path for batch in plan.batches for part in batch)),
            skipped=job.skipped + plan.not_reviewed,
            model=hit.model,
            usage=hit.usage,
            cached=True,
            language=job.language,
            dismissed=hit.dismissed,
        )
    static_findings = static_pass(job.files, job.selection.secret_files, job.modes)
    outcomes, failures = _review_batches(job, plan, static_findings)
    if not outcomes:  # nothing reviewed by the model at all
        unread = [error for _, error in failures if isinstance(error, model.UnreadableAnswer)]
        if len(unread) < len(failures):
            raise next(error for _, error in failures if error not in unread)  # the upstream error, as retryable
        review = static_review(job, UNREADABLE)
        # The model did answer, and what that cost is counted; a review it could not read is not kept.
        return review._replace(model=unread[0].model, usage=sum((e.usage for e in unread), Usage()), complete=False)
    review = _merge(job, plan, outcomes, failures, static_findings)
    if review.complete:  # a partial review is not worth keeping: the next try may do better
        cache.store(
            key,
            ReviewOutcome(
                feedback=review.feedback,
                findings=review.findings,
                model=review.model,
                usage=review.usage,
                dismissed=review.dismissed,
            ),
        )
    return review


def batch_tokens() -> int:
    """Tokens of code per model call: REVIEW_REPO_BATCH_TOKENS, or less when the model holds less."""
    return min(get_settings().review_repo_batch_tokens, budget.current().code_tokens)


Batch = list[Part]


def _review_batches(
    job: RepoJob, plan: Plan, static_findings: list[Finding]
) -> tuple[list[tuple[Batch, ReviewOutcome]], list[tuple[Batch, ApiError]]]:
    workers = min(get_settings().review_repo_parallelism, len(plan.batches))

    def review(batch: Batch) -> ReviewOutcome:
        outcome = engine.review_files(
            [SourceFile(path=part.label, content=part.content) for part in batch],
            language=job.language or "",
            modes=job.modes,
            custom_prompt=job.custom_prompt,
            static_findings=[finding for part in batch for finding in _findings_in(part, static_findings)],
            review_language=job.review_language,
        )
        if not outcome.complete:  # its static findings are the repository's already: the batch failed
            raise model.UnreadableAnswer(outcome.model, outcome.usage)
        return outcome

    outcomes, failures = [], []
    with ThreadPoolExecutor(max_workers=workers, thread_name_prefix="review-batch") as pool:
        # Each call runs in a copy of this request's context, so its log lines keep the request id.
        futures = [(batch, pool.submit(contextvars.copy_context().run, review, batch)) for batch in plan.batches]
        for batch, future in futures:
            try:
                outcomes.append((batch, future.result()))
            except ApiError as exc:
                log.warning("a batch of %d files failed: %s", len(batch), exc.code)
                failures.append((batch, exc))
    return outcomes, failures


def _findings_in(part: Part, findings: list[Finding]) -> list[Finding]:
    """The static findings of one part, with lines relative to the part as the model sees it."""
    chosen = []
    for finding in findings:
        if finding.file != part.file.path:
            continue
        if part.last_line is None:
            chosen.append(finding)
        elif finding.line and part.first_line <= finding.line <= part.last_line:
            chosen.append(finding.model_copy(update={"file": part.label, "line": finding.line - part.first_line + 1}))
    return chosen


def _to_repository_lines(batch: Batch, findings: list[Finding]) -> list[Finding]:
    """The model names a part by its label; put each finding back on its file's own line."""
    parts = {part.label: part for part in batch}
    mapped = []
    for finding in findings:
        part = parts.get(finding.file or "")
        if part is None and len(batch) == 1:
            part = batch[0]
        if part is not None:
            line = finding.line + part.first_line - 1 if finding.line else None
            finding = finding.model_copy(update={"file": part.file.path, "line": line})
        mapped.append(finding)
    return mapped


def _merge(
    job: RepoJob,
    plan: Plan,
    outcomes: list[tuple[Batch, ReviewOutcome]],
    failures: list[tuple[Batch, ApiError]],
    static_findings: list[Finding],
) -> RepoReview:
    usage = Usage()
    model_findings: list[Finding] = []
    proses: list[tuple[list[str], str]] = []
    for batch, outcome in outcomes:
        usage += outcome.usage
        model_findings += _to_repository_lines(batch, [f for f in outcome.findings if f.source == "model"])
        proses.append(([part.label for part in batch], prose_of(outcome.feedback)))
    failed_parts = [(part, error) for batch, error in failures for part in batch]
    not_reviewed = plan.not_reviewed + [Skipped(part.label, _failure_reason(error)) for part, error in failed_parts]
    usage += sum((e.usage for _, e in failures if isinstance(e, model.UnreadableAnswer)), Usage())
    failed_files = {part.file.path for part, _ in failed_parts}
    reviewed = [
        path
        for path in dict.fromkeys(part.file.path for batch, _ in outcomes for part in batch)
        if path not in failed_files
    ]
    kept, dismissed = _triaged(static_findings, outcomes)
    findings = by_severity(kept + model_findings)

    overview = proses[0][1]
    complete = not failures
    if len(plan.batches) > 1:
        try:
            summary = synthesize(proses, findings, job.modes, job.custom_prompt, job.review_language)
        except ApiError as exc:
            # The batch reviews stand on their own; losing the overview is no reason to lose them.
            log.warning("repository synthesis failed: %s", exc.code)
            complete = False
            overview = "\n\n".join(f"#### {', '.join(paths)}\n\n{prose}" for paths, prose in proses)
        else:
            usage += summary.usage
            overview = summary.parsed.feedback
            findings = by_severity(findings + to_findings(summary.parsed, set(reviewed)))
    findings = on_changed_lines(findings, job.changed)
    dismissed = on_changed_lines(dismissed, job.changed)

    return RepoReview(
        feedback=_feedback(overview, reviewed, not_reviewed, findings, dismissed),
        findings=findings,
        reviewed_files=reviewed,
        skipped=job.skipped + not_reviewed,
        model=outcomes[0][1].model,
        usage=usage,
        language=job.language,
        complete=complete,
        dismissed=dismissed,
    )


def _failure_reason(error: ApiError) -> str:
    if isinstance(error, model.UnreadableAnswer):
        return "not reviewed by the model: its answer could not be read, even after one repair request"
    return f"not reviewed: the model call for its batch failed ({error.code})"


def _triaged(
    static_findings: list[Finding], outcomes: list[tuple[Batch, ReviewOutcome]]
) -> tuple[list[Finding], list[Finding]]:
    """(kept, dismissed): the repository's static findings with the verdicts the batches gave them
    (each batch judged its part's findings, on the part's own lines)."""
    judged: dict[tuple, Finding] = {}
    for batch, outcome in outcomes:
        seen = [f for f in outcome.findings if f.source != "model" and f.verdict] + outcome.dismissed
        judged.update((_identity(f), f) for f in _to_repository_lines(batch, seen))
    kept, dismissed = [], []
    for finding in static_findings:
        verdict = judged.get(_identity(finding))
        if verdict is None:
            kept.append(finding)
        else:
            update = {"verdict": verdict.verdict, "verdictReason": verdict.verdictReason}
            (kept if verdict.verdict == "confirmed" else dismissed).append(finding.model_copy(update=update))
    return kept, dismissed


def _identity(finding: Finding) -> tuple:
    return (finding.source, finding.rule, finding.title, finding.file, finding.line)


def _feedback(
    overview: str, reviewed: list[str], not_reviewed: list[Skipped], findings: list[Finding], dismissed: list[Finding]
) -> str:
    parts = [f"## Repository review\n\n{len(reviewed)} files reviewed.\n\n{overview.strip()}"]
    if not_reviewed:
        listed = [f"- `{s.path}`: {s.reason}" for s in not_reviewed[:MAX_LISTED_NOT_REVIEWED]]
        if len(not_reviewed) > MAX_LISTED_NOT_REVIEWED:
            listed.append(f"- ...and {len(not_reviewed) - MAX_LISTED_NOT_REVIEWED} more (see skippedFiles)")
        parts.append(f"### Not reviewed by the model ({len(not_reviewed)})\n\n" + "\n".join(listed))
    parts.append(findings_section(findings, lead=LEADING_FINDINGS))
    if dismissed:
        parts.append(dismissed_section(dismissed))
    return cut_to("\n\n".join(parts), MAX_FEEDBACK_CHARS)


def cache_key(job: RepoJob) -> str:
    """Everything that shapes a repository review: the selected files, modes, notes, provider and
    model, the review's language, both prompts' versions, the budget (another budget makes other
    batches) and the changed lines kept."""
    return cache.cache_key(
        source_files(job.files),
        job.language or "",
        job.modes,
        job.custom_prompt,
        model.identity(),
        kind="repository",
        reviewLanguage=job.review_language,
        synthesisVersion=SYNTHESIS_VERSION,
        budget=[batch_tokens(), get_settings().review_repo_max_batches],
        **(
            {"changedLines": {path: [[r.start, r.end] for r in ranges] for path, ranges in job.changed.items()}}
            if job.changed
            else {}
        ),
    )
