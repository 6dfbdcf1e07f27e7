"""What the app writes on a pull request: the review through the pull-request composer that the
command line uses (coderevai_core.pull_request: one review with inline comments on added lines,
suggestion blocks, hidden markers, the summary comment edited in place, no duplicates, comments
whose finding is gone marked resolved), with the app's own parts around it: the state marker in the
summary (state.py), what was not reviewed, a `.coderevai.yml` that was not applied, the limit
notice, paused and resumed, and the answer to `/coderevai help`."""

from __future__ import annotations

import logging
from typing import TYPE_CHECKING, NamedTuple

from coderevai_core.pull_request import SUMMARY_MARKER

from shared.github_app import state as pull_state
from shared.github_app.pull import PullRequest

if TYPE_CHECKING:
    from shared.github_app.limits import Allowance
    from shared.github_app.review import Round

log = logging.getLogger("coderevai.github_app.publish")

MAX_LISTED = 50  # files not reviewed, in the summary


class Summary(NamedTuple):
    comment: dict | None  # the summary comment, when one was posted before
    state: pull_state.PullState


def find_summary(pull: PullRequest) -> Summary:
    for comment in pull.github.pages(f"{pull.base}/issues/{pull.number}/comments"):
        if SUMMARY_MARKER in (comment.get("body") or ""):
            return Summary(comment, pull_state.read(comment["body"]))
    return Summary(None, pull_state.PullState())


def comment(pull: PullRequest, body: str) -> dict:
    return pull.github.call("POST", f"{pull.base}/issues/{pull.number}/comments", json={"body": body}).json()


def _write_summary(pull: PullRequest, summary: Summary, body: str) -> None:
    if summary.comment is None:
        comment(pull, body)
    else:
        pull.github.call("PATCH", f"{pull.base}/issues/comments/{summary.comment['id']}", json={"body": body})


def set_paused(pull: PullRequest, paused: bool, *, by: str | None) -> None:
    summary = find_summary(pull)
    new = summary.state.model_copy(update={"paused": paused, "pausedBy": by if paused else None})
    body = (
        _without_banner(summary.comment["body"])
        if summary.comment
        else f"{SUMMARY_MARKER}\n## CodeRevAI review\n\nNo review yet."
    )
    if paused:
        body = body.replace(SUMMARY_MARKER, f"{SUMMARY_MARKER}\n{_banner(by)}", 1)
    _write_summary(pull, summary, pull_state.write(body, new))


def _banner(by: str | None) -> str:
    who = f" by @{by}" if by else ""
    return f"> ⏸️ **Reviews paused**{who}: new pushes are not reviewed until `/coderevai resume`.\n"


def _without_banner(body: str) -> str:
    return "\n".join(line for line in body.split("\n") if not line.startswith("> ⏸️ **Reviews paused**"))


def limit_text(allowance: Allowance) -> str:
    hours = max(1, round(allowance.retry_after / 3600))
    return (
        f"This installation has used its {allowance.limit} reviews of the window on the {allowance.plan} plan. "
        f"The next review fits in about {hours} hour{'s' if hours != 1 else ''}: comment `/coderevai review` then. "
        "Link the installation to a CodeRevAI account on a paid plan for more."
    )


def limit_reached(pull: PullRequest, summary: Summary, allowance: Allowance) -> None:
    body = summary.comment["body"] if summary.comment else f"{SUMMARY_MARKER}\n## CodeRevAI review\n"
    body = "\n".join(line for line in body.split("\n") if not line.startswith("> ⛔"))
    body = body.replace(
        SUMMARY_MARKER,
        f"{SUMMARY_MARKER}\n> ⛔ **Not reviewed at `{pull.head_sha[:7]}`**: {limit_text(allowance)}\n",
        1,
    )
    _write_summary(pull, summary, pull_state.write(body, summary.state))


def notes(result: Round) -> str:
    """The summary's part the composer does not know: incremental scope, files not reviewed, config."""
    lines = []
    if result.since:
        lines.append(f"Incremental: the changes since `{result.since[:7]}` ({len(result.reviewed)} files read).")
    else:
        lines.append(f"{len(result.reviewed)} files read (the whole pull request).")
    if result.config.problem:
        lines.append(
            f"⚠️ `.coderevai.yml` on the base branch was not applied ({result.config.problem}); the defaults were used."
        )
    if result.not_reviewed:
        lines += ["", f"<details><summary>Not reviewed ({len(result.not_reviewed)})</summary>", ""]
        lines += [f"- `{s.path}`: {s.reason}" for s in result.not_reviewed[:MAX_LISTED]]
        if len(result.not_reviewed) > MAX_LISTED:
            lines.append(f"- … and {len(result.not_reviewed) - MAX_LISTED} more")
        lines += ["", "</details>"]
    return "\n".join(lines)


def check_title(result: Round) -> str:
    count = len(result.findings)
    return f"{count} finding{'s' if count != 1 else ''}" + (f" since {result.since[:7]}" if result.since else "")


def check_text(result: Round, posted: str) -> str:
    by = {}
    for finding in result.findings:
        by[finding.severity] = by.get(finding.severity, 0) + 1
    counts = ", ".join(f"{n} {s}" for s, n in by.items()) or "no findings"
    return f"{counts}; {posted}.\n\n{notes(result)}"


class ComposerGitHub:
    """The installation's client as the composer's `GitHubApi`: its refusals as the composer's
    GitHubError (a 422 moves comments to the summary, a 403 or 404 on a write is ReadOnly), while a
    rate limit or an outage stays our retryable error, for the queue to try again."""

    def __init__(self, pull: PullRequest) -> None:
        self.pull = pull
        self.context = _Context(pull.number, pull.head_sha)

    def repo_path(self, tail: str) -> str:
        return f"{self.pull.base}/{tail}"

    def pages(self, path: str) -> list[dict]:
        return self._core_errors(lambda: self.pull.github.pages(path))

    def call(self, method: str, path: str, **kwargs):
        return self._core_errors(lambda: self.pull.github.call(method, path, **kwargs))

    @staticmethod
    def _core_errors(work):
        from coderevai_core.pull_request import GitHubError as ComposerError

        from shared.github_app.client import GitHubError

        try:
            return work()
        except GitHubError as exc:
            if exc.retryable:
                raise
            raise ComposerError(exc.github_status, exc.message) from None


class _Context(NamedTuple):
    number: int
    head_sha: str | None


def post_review(pull: PullRequest, summary: Summary, result: Round, new_state: pull_state.PullState) -> str:
    """The review through the composer; the summary carries the app's notes and state marker, and
    on an incremental review only comments in the files read again may be marked resolved."""
    from coderevai_core.pull_request import ReadOnly, publish

    extra = notes(result)
    if new_state.paused:
        extra = _banner(new_state.pausedBy) + "\n" + extra
    # ruleId: the composer's identity of a comment (path, line, rule) and its `rule` line.
    findings = [{**finding.model_dump(), "ruleId": finding.rule} for finding in result.findings]
    try:
        outcome = publish(
            ComposerGitHub(pull),
            findings,
            result.sources,
            max_comments=result.config.config.max_comments,
            summary_extra=extra + "\n\n" + new_state.marker(),
            resolve_only_in=set(result.reviewed) | set(result.removed) if result.since else None,
        )
    except ReadOnly as exc:  # the app lacks pull-request write on this repository: not worth retrying
        from shared.errors import ApiError

        raise ApiError(403, "GITHUB_READ_ONLY", f"The app cannot write to this pull request ({exc}).") from None
    return (
        f"{outcome.posted} new inline comments, {outcome.kept} already there, {outcome.resolved} resolved, "
        f"{outcome.in_summary} in the summary{outcome.note}"
    )
