"""A pull request's review at its head: what to read (incremental from the last reviewed commit,
or the whole pull request), within the caps, through the same engine as review-repo, then posted.

Large pull requests: files are ranked as a repository review ranks them (entry points, source,
config, tests, docs), lock, vendored, generated and binary files are skipped, at most
GITHUB_REVIEW_MAX_FILES files and GITHUB_REVIEW_MAX_TOKENS estimated tokens are read, and the
summary lists every file not reviewed with the reason."""

from __future__ import annotations

from typing import NamedTuple

from coderevai_core.changed_lines import LineRange
from coderevai_core.findings import SEVERITY_ORDER, Finding
from coderevai_core.repo_config import EXCLUDED, Loaded, ReviewConfig
from coderevai_core.selection import fetch_skip_reason

from shared.config import get_settings
from shared.errors import ApiError
from shared.github_app import checks, limits, publish
from shared.github_app.installations import Standing
from shared.github_app.pull import ChangedFile, PullRequest
from shared.github_app.state import PullState
from shared.github_app.tasks import ReviewTask
from shared.repo.files import Skipped, estimate_tokens, kind_of


class Round(NamedTuple):
    """What one review read and found, as publish.py posts it."""

    head_sha: str
    findings: list[Finding]
    reviewed: list[str]  # the files read this time
    not_reviewed: list[Skipped]
    since: str | None  # incremental: the commit reviewed before
    config: Loaded
    model: str
    sources: dict[str, str]  # path -> content at the head (suggestion blocks check against it)
    removed: list[str] = []  # files this round's diff removes: their earlier findings are gone


def review_pull_request(task: ReviewTask, pull: PullRequest, standing: Standing) -> str:
    summary = publish.find_summary(pull)
    state = summary.state
    head = pull.head_sha
    loaded = pull.config()
    if task.kind == "auto":
        if state.paused:
            return "dropped: reviews are paused on this pull request"
        if not loaded.config.auto_review:
            return "dropped: auto_review is false in .coderevai.yml"
        if state.reviewed == head:
            return "duplicate: this head was reviewed"
    elif task.kind == "incremental" and state.reviewed == head:
        publish.comment(
            pull,
            f"Nothing new since `{head[:7]}`, the commit last reviewed: `/coderevai full review` reviews it all again.",
        )
        return "nothing new since the last review"
    allowance = limits.take_review_once(task, standing.plan)
    if not allowance.allowed:
        publish.limit_reached(pull, summary, allowance)
        checks.post(
            pull.github,
            pull.repository,
            head,
            "neutral",
            "Review limit reached",
            publish.limit_text(allowance),
        )
        return f"limited: {allowance.limit} reviews per window on the {allowance.plan} plan"

    since = state.reviewed if task.kind != "full" and state.reviewed and state.reviewed != head else None
    changed = pull.files_since(since) if since else None
    if changed is None:
        since, changed = None, pull.files()
    files, not_reviewed = choose(pull, changed, loaded.config, head)
    if files:
        from shared.repo.review import review_repository

        ranges = {path: added for path, (_, added) in files.items()}
        try:
            review = review_repository(
                [(path, content) for path, (content, _) in files.items()],
                modes=tuple(loaded.config.modes) or ("comprehensive",),
                custom_prompt=loaded.config.instructions_for(list(files)),
                changed=ranges,
                **review_options(loaded.config),
            )
        except ApiError as exc:
            if exc.retryable:
                raise
            # Nothing the engine could read (every file empty or binary once fetched): say so.
            not_reviewed += [Skipped(path, exc.message) for path in files]
            findings, model, reviewed = [], "none", []
        else:
            findings, model, reviewed = review.findings, review.model, list(review.reviewed_files)
            listed = {n.path for n in not_reviewed}
            not_reviewed += [s for s in review.skipped if s.path not in listed]
    else:
        findings, model, reviewed = [], "none", []
    sources = {path: content.decode("utf-8", "replace") for path, (content, _) in files.items()}
    result = Round(
        head,
        findings,
        reviewed,
        not_reviewed,
        since,
        loaded,
        model,
        sources,
        [f.path for f in changed if f.status == "removed"],
    )
    new_state = _next_state(state, result)
    posted = publish.post_review(pull, summary, result, new_state)
    conclusion = checks.conclusion(new_state.open, loaded.config.fail_on)
    checks.post(
        pull.github, pull.repository, head, conclusion, publish.check_title(result), publish.check_text(result, posted)
    )
    return f"reviewed {len(reviewed)} files at {head[:12]}" + (f" since {since[:12]}" if since else "") + f": {posted}"


def review_options(config: ReviewConfig) -> dict:
    """Engine options from `.coderevai.yml` beyond modes and instructions: the review prose's
    language (unset: the deployment's REVIEW_LANGUAGE)."""
    return {"review_language": config.language} if config.language else {}


def choose(
    pull: PullRequest, changed: list[ChangedFile], config: ReviewConfig, head: str
) -> tuple[dict[str, tuple[bytes, list[LineRange]]], list[Skipped]]:
    """The files to read, most important first, with their added lines; the rest with a reason."""
    settings = get_settings()
    chosen: dict[str, tuple[bytes, list[LineRange]]] = {}
    skipped: list[Skipped] = []
    candidates = []
    for file in changed:
        if file.status == "removed":
            continue
        if not config.wants(file.path):
            skipped.append(Skipped(file.path, EXCLUDED))
        elif reason := fetch_skip_reason(file.path):
            skipped.append(Skipped(file.path, reason))
        elif file.patch is None:
            skipped.append(Skipped(file.path, "GitHub shows no diff for it (binary or too large)"))
        elif not file.added_lines:
            skipped.append(Skipped(file.path, "no added lines"))
        else:
            candidates.append(file)
    candidates.sort(key=lambda f: (kind_of(f.path), f.path.count("/"), f.path))
    tokens = 0
    for index, file in enumerate(candidates):
        if len(chosen) >= settings.github_review_max_files:
            skipped += [
                Skipped(f.path, f"past the cap of {settings.github_review_max_files} files") for f in candidates[index:]
            ]
            break
        content = pull.content(file.path, head)
        if content is None:
            skipped.append(Skipped(file.path, "not found at the head commit"))
            continue
        cost = estimate_tokens(content.decode("utf-8", "replace"))
        if tokens + cost > settings.github_review_max_tokens:
            skipped.append(Skipped(file.path, f"past the budget of {settings.github_review_max_tokens} tokens"))
            continue
        tokens += cost
        chosen[file.path] = (content, file.added_lines)
    return chosen, skipped


def _next_state(state: PullState, result: Round) -> PullState:
    """The head reviewed, and each file's most severe open finding: files read now replace what an
    earlier review said of them, removed files drop out, the rest keep theirs (incremental)."""
    open_now = dict(state.open) if result.since else {}
    for path in [*result.reviewed, *result.removed]:
        open_now.pop(path, None)
    for finding in result.findings:
        if finding.file:
            known = open_now.get(finding.file)
            if known is None or SEVERITY_ORDER.index(finding.severity) < SEVERITY_ORDER.index(known):
                open_now[finding.file] = finding.severity
    return state.model_copy(update={"reviewed": result.head_sha, "open": open_now})
