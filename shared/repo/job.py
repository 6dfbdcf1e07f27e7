"""One repository review's job (RepoJob: what each step reads), its answer (RepoReview), and what
needs no model: the static pass over the selected files and the review made of it alone. Both the
entry (shared/repo/review.py) and the model's batches (shared/repo/batches.py) build on it."""

from __future__ import annotations

from collections import Counter
from collections.abc import Iterable
from typing import NamedTuple

from coderevai_core import secret_scan
from coderevai_core.changed_lines import ChangedLines, on_changed_lines
from coderevai_core.findings import Finding, by_severity
from coderevai_core.markdown import LEADING_FINDINGS

from shared.history.service import MAX_FEEDBACK_CHARS
from shared.repo.files import RepoFile, SecretFile, Selection, Skipped
from shared.review import engine, static
from shared.review.outcome import SourceFile, Usage
from shared.review.report import NO_MODEL, cut_to, static_feedback


class RepoReview(NamedTuple):
    feedback: str
    findings: list[Finding]
    reviewed_files: list[str]
    skipped: list[Skipped]
    model: str
    usage: Usage = Usage()
    cached: bool = False
    language: str | None = None
    repo_url: str | None = None
    modes: tuple[str, ...] = ()
    complete: bool = True  # every planned batch reviewed, and the synthesis written
    dismissed: list[Finding] = []  # static findings the model judged false positives (triage.py)


class RepoJob(NamedTuple):
    """One repository review's inputs, as each of its steps reads them."""

    selection: Selection
    skipped: list[Skipped]  # before the model: what the fetch and the selection left out
    language: str | None
    modes: tuple[str, ...]
    custom_prompt: str | None  # the caller's notes, with the changed lines to focus on
    review_language: str  # the human language of the review's prose
    changed: ChangedLines  # each file's changed lines, for a change's review (empty: whole files)

    @property
    def files(self) -> list[RepoFile]:
        return self.selection.files


def skipped_details(skipped: list[Skipped]) -> dict:
    return {"skippedFiles": [{"path": s.path, "reason": s.reason} for s in skipped]}


def static_pass(
    files: list[RepoFile], secret_files: Iterable[SecretFile] = (), modes: tuple[str, ...] | None = None
) -> list[Finding]:
    """The static pass on every selected file at once (one run of each tool), and what the
    secret-bearing files hold. No language hint: in a repository only .py/.pyi files are Python,
    not its Dockerfile or LICENSE. `modes` choose the lint families reported (None: all)."""
    held = [finding for file in secret_files for finding in secret_scan.secret_file_findings(*file)]
    return by_severity(held + static.analyse(source_files(files), language="", modes=modes))


def main_language(files: list[RepoFile]) -> str | None:
    counts = Counter(f.language for f in files if f.language)
    return counts.most_common(1)[0][0] if counts else None


def static_review(job: RepoJob, why: str = NO_MODEL) -> RepoReview:
    found = by_severity(on_changed_lines(static_pass(job.files, job.selection.secret_files, job.modes), job.changed))
    feedback = static_feedback(found, static.coverage(source_files(job.files), ""), lead=LEADING_FINDINGS, why=why)
    return RepoReview(
        feedback=cut_to(feedback, MAX_FEEDBACK_CHARS),
        findings=found,
        reviewed_files=[f.path for f in job.files],
        skipped=job.skipped,
        model=engine.STATIC_MODEL,
        language=job.language,
    )


def source_files(files: list[RepoFile]) -> list[SourceFile]:
    return [SourceFile(path=f.path, content=f.content) for f in files]
