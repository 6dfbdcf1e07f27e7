"""Reviewing a whole repository: the files the client sent (within the caps) or GitHub's archive,
selected and ordered, and the static pass on all of them; with a model, the review in batches
(shared/repo/batches.py, loaded at start where a model is configured and never where none is)."""

from __future__ import annotations

import logging
from collections.abc import Iterable

from coderevai_core.changed_lines import ChangedLines
from coderevai_core.selection import MAX_FILE_BYTES, MAX_FILES, MAX_TOTAL_BYTES, fetch_skip_reason

from shared.errors import ApiError, invalid_input, too_large
from shared.repo.changed_lines import with_focus
from shared.repo.files import Skipped, select
from shared.repo.github import fetch_repository, label_repo_url, parse_repo_url
from shared.repo.job import RepoJob, RepoReview, main_language, skipped_details, static_review
from shared.repo.schemas import RepoFileIn, ReviewRepoRequest
from shared.review import model
from shared.review.modes import normalise_modes
from shared.review.review_language import prose_language

log = logging.getLogger("coderevai.repo_review")


def review_request(request: ReviewRepoRequest) -> RepoReview:
    """Files sent by the client (within the caps), or the repository at `repoUrl` fetched from GitHub."""
    modes = normalise_modes(request.reviewModes)
    if request.files:
        # The address only labels the review: the web app sends it as the user typed it.
        repo_url = label_repo_url(request.repoUrl) if request.repoUrl else None
        files, skipped_before = client_files(request.files), []
    elif request.repoUrl is not None:
        repo = parse_repo_url(request.repoUrl)
        archive = fetch_repository(repo, skip=fetch_skip_reason)
        files, skipped_before, repo_url = archive.files, archive.skipped, repo.url
    else:
        raise invalid_input("Send the files to review as files: [{path, content}], or a public GitHub repoUrl.")
    changed = {file.path: file.changedLines for file in request.files if file.changedLines is not None}
    review = review_repository(
        files,
        modes=modes,
        custom_prompt=request.customPrompt,
        skipped_before=skipped_before,
        changed=changed,
        review_language=request.reviewLanguage,
    )
    return review._replace(repo_url=repo_url, modes=modes)


def client_files(files: list[RepoFileIn]) -> list[tuple[str, str]]:
    if len(files) > MAX_FILES:
        raise ApiError(413, "PAYLOAD_TOO_LARGE", f"files: {len(files)} files is more than the limit of {MAX_FILES}.")
    total = 0
    seen: set[str] = set()
    for file in files:
        size = len(file.content.encode())
        if size > MAX_FILE_BYTES:
            raise too_large(f"files: {file.path}", MAX_FILE_BYTES)
        total += size
        if total > MAX_TOTAL_BYTES:
            raise too_large("files: the files together", MAX_TOTAL_BYTES)
        if file.path in seen:
            raise invalid_input(f"files: {file.path} is sent twice.")
        seen.add(file.path)
    return [(file.path, file.content) for file in files]


def review_repository(
    files: Iterable[tuple[str, str | bytes]],
    *,
    modes: tuple[str, ...],
    custom_prompt: str | None,
    skipped_before: Iterable[tuple[str, str]] = (),
    changed: ChangedLines | None = None,
    review_language: str | None = None,
) -> RepoReview:
    """`changed`: for a change's review, each file's changed lines; the model is asked to focus on
    them and only findings on or near them are kept. `review_language`: the human language of the
    review's prose (None: REVIEW_LANGUAGE; a repository's .coderevai.yml may name one)."""
    changed = changed or {}
    selection = select(files)
    job = RepoJob(
        selection=selection,
        skipped=[Skipped(path, reason) for path, reason in skipped_before] + selection.skipped,
        language=main_language(selection.files),
        modes=modes,
        custom_prompt=with_focus(custom_prompt, changed),
        review_language=prose_language(review_language),
        changed=changed,
    )
    if not selection.files and not selection.secret_files:
        raise invalid_input(
            "There is no file to review: every file was skipped (see skippedFiles).",
            data=skipped_details(job.skipped),
        )
    if not model.configured() or not selection.files:  # only secret-bearing files: nothing may go to the model
        return static_review(job)

    from shared.repo import batches  # loaded at start where a model is configured (below)

    return batches.review_in_batches(job)


if model.configured():
    # A deployment with a model reviews every repository with it, so the batches' path (the cache
    # and its table, the synthesis prompt) loads at start, not on the first request; one without
    # never loads it.
    from shared.repo import batches  # noqa: F401
