"""A review's findings as ONE pull-request review on GitHub, composed the same way wherever it is
posted from: the command line (`--github-review`, a workflow's token) or the server (a GitHub App's
installation token). The caller brings a GitHub client (`GitHubApi`); this module decides what to post.

- Inline comments on the lines the pull request shows (path, line, side RIGHT): severity, title,
  detail, rule, and a ```suggestion block when the finding carries a replacement for exactly those
  lines; at most `max_comments`, the most severe first.
- A summary comment (an issue comment on the pull request) with the counts and every finding that
  could not be placed inline, edited in place on the next push.
- The next push: a comment made before for the same path, line and rule is not posted again (each
  comment carries a hidden marker); a comment whose finding is gone is edited to say it is resolved
  (REST only: GraphQL's resolveReviewThread would fold the thread, an edit keeps the history).
- GitHub's answers: a 422 (a line GitHub will not place) moves the comments to the summary; a 403
  or 404 on a write is `ReadOnly` (a token that cannot write, e.g. a pull request from a fork)."""

from __future__ import annotations

import difflib
import json
import re
from typing import Any, NamedTuple, Protocol

from coderevai_core.changed_lines import not_shown as not_shown_text
from coderevai_core.findings import SEVERITY_ORDER

_HUNK = re.compile(r"^@@ -\d+(?:,\d+)? \+(\d+)(?:,\d+)? @@")
MARKER = "<!-- coderevai:finding {} -->"
SUMMARY_MARKER = "<!-- coderevai:summary -->"
_MARKER = re.compile(r"<!-- coderevai:finding (\{.*?\}) -->")
_FENCE = re.compile(r"```[^\n`]*\n(.*?)\n?```", re.S)
SEVERITY_ICON = {"critical": "🛑", "high": "🔴", "medium": "🟠", "low": "🟡", "info": "🔵"}
MAX_SUMMARY_ITEMS = 100  # GitHub caps a comment at 65,536 characters


class Inline(NamedTuple):
    finding: dict
    body: dict  # the review comment as the API takes it


class Outcome(NamedTuple):
    posted: int
    kept: int
    resolved: int
    in_summary: int
    note: str


class ReadOnly(Exception):
    """The token may read the pull request but not comment on it."""


class GitHubError(Exception):
    """A call GitHub refused; `status` is its HTTP status."""

    def __init__(self, status: int, message: str) -> None:
        super().__init__(f"GitHub answered {status}: {message}")
        self.status = status
        self.message = message


class PullRequestDiff(NamedTuple):
    added: dict[str, set[int]]  # path -> lines the pull request adds (GitHub's `+` lines)
    shown: dict[str, set[int]]  # path -> every new-side line of its diff (added and context): commentable


class PullRequest(Protocol):
    number: int
    head_sha: str | None


class GitHubApi(Protocol):
    """What the composer needs of a GitHub client. `call` raises GitHubError for a refused call."""

    @property
    def context(self) -> PullRequest: ...

    def repo_path(self, tail: str) -> str: ...  # /repos/{owner}/{name}/{tail}

    def pages(self, path: str) -> list[dict]: ...  # every item of a listed resource

    def call(self, method: str, path: str, **kwargs: Any) -> object: ...


def publish(
    github: GitHubApi,
    findings: list[dict],
    sources: dict[str, str],
    *,
    max_comments: int,
    not_shown: int = 0,
    summary_extra: str = "",
    resolve_only_in: set[str] | None = None,
) -> Outcome:
    """`not_shown`: the findings a change's review left out (on unchanged lines), counted in the summary.
    `summary_extra`: markdown at the end of the summary (the GitHub App's notes and hidden state).
    `resolve_only_in`: the files an incremental review read; only comments there whose finding is
    gone are marked resolved (None: every file was read)."""
    context = github.context
    diff = pull_request_diff(github)
    ours = [c for c in github.pages(github.repo_path(f"pulls/{context.number}/comments")) if _marker(c)]
    active = {_key(_marker(c)): c for c in ours if _marker(c).get("state") != "resolved"}
    ordered = sorted(
        findings, key=lambda f: SEVERITY_ORDER.index(f["severity"]) if f["severity"] in SEVERITY_ORDER else 9
    )
    wanted = {_key(_identity(f)) for f in ordered if f.get("file") and f.get("line")}

    inline: list[Inline] = []
    kept: list[dict] = []
    summary: list[dict] = []
    for finding in ordered:
        key = _key(_identity(finding)) if finding.get("file") and finding.get("line") else None
        if key in active:
            kept.append(finding)
        elif (
            key and finding["line"] in diff.shown.get(finding["file"], set()) and len(inline) + len(kept) < max_comments
        ):
            inline.append(Inline(finding, _comment(finding, sources, diff)))
        else:
            summary.append(finding)

    note = ""
    if inline:
        placed, note = _create_review(github, inline, diff)
        summary += [item.finding for item in inline if item not in placed]
        inline = placed
    gone = [
        comment
        for key, comment in active.items()
        if key not in wanted and (resolve_only_in is None or comment.get("path") in resolve_only_in)
    ]
    for comment in gone:
        _write(github, "PATCH", github.repo_path(f"pulls/comments/{comment['id']}"), {"body": _resolved(comment)})
    _write_summary(github, findings, summary, len(inline) + len(kept), len(gone), note, not_shown, summary_extra)
    return Outcome(len(inline), len(kept), len(gone), len(summary), note)


def _create_review(github: GitHubApi, inline: list[Inline], diff: PullRequestDiff) -> tuple[list[Inline], str]:
    """One review with every comment, and the comments it holds. GitHub's 422 (a line it will not
    place) does not say which: the review is tried once more with the comments on lines GitHub's
    diff adds, then the comments go to the summary. A refused request creates nothing."""
    context = github.context
    path = github.repo_path(f"pulls/{context.number}/reviews")
    body = {
        "event": "COMMENT",
        "body": f"CodeRevAI: {len(inline)} new finding{'s' if len(inline) != 1 else ''} on this change "
        "(the summary comment lists them all).",
        "comments": [item.body for item in inline],
    }
    if context.head_sha:
        body["commit_id"] = context.head_sha
    try:
        _write(github, "POST", path, body)
        return inline, ""
    except GitHubError as exc:
        if exc.status != 422:
            raise
        refused = exc.message
    on_added = [item for item in inline if item.finding["line"] in diff.added.get(item.finding["file"], set())]
    if on_added and len(on_added) < len(inline):
        try:
            _write(github, "POST", path, {**body, "comments": [item.body for item in on_added]})
            return on_added, f" (GitHub refused {len(inline) - len(on_added)} of the inline comments, 422: {refused})"
        except GitHubError as exc:
            if exc.status != 422:
                raise
    return [], f" (GitHub refused the inline comments, 422: {refused})"


def _write(github: GitHubApi, method: str, path: str, body: dict) -> None:
    try:
        github.call(method, path, json=body)
    except GitHubError as exc:
        if exc.status in (403, 404) and method in ("POST", "PATCH"):
            raise ReadOnly(exc.message) from None  # 404: GitHub hides what a token may not write
        raise


def _write_summary(
    github: GitHubApi,
    findings: list[dict],
    rest: list[dict],
    inline: int,
    resolved: int,
    note: str,
    not_shown: int,
    extra: str = "",
):
    context = github.context
    issue_comments = github.pages(github.repo_path(f"issues/{context.number}/comments"))
    mine = next((c for c in issue_comments if SUMMARY_MARKER in (c.get("body") or "")), None)
    body = summary_text(findings, rest, inline, resolved, note, context.head_sha, not_shown=not_shown, extra=extra)
    if mine is None:
        _write(github, "POST", github.repo_path(f"issues/{context.number}/comments"), {"body": body})
    else:
        _write(github, "PATCH", github.repo_path(f"issues/comments/{mine['id']}"), {"body": body})


def summary_text(
    findings: list[dict],
    rest: list[dict],
    inline: int,
    resolved: int,
    note: str,
    sha: str | None,
    *,
    not_shown: int = 0,
    extra: str = "",
) -> str:
    counts = {s: sum(1 for f in findings if f["severity"] == s) for s in SEVERITY_ORDER}
    shown = ", ".join(f"{n} {s}" for s, n in counts.items() if n) or "none"
    lines = [
        SUMMARY_MARKER,
        "## CodeRevAI review",
        "",
        f"**{len(findings)} finding{'s' if len(findings) != 1 else ''}** on this change ({shown})"
        + (f" at `{sha[:7]}`" if sha else "")
        + f": {inline} as inline comments, {len(rest)} listed here."
        + (f" {resolved} earlier comment{'s' if resolved != 1 else ''} resolved." if resolved else "")
        + (f" {not_shown_text(not_shown)}." if not_shown else ""),
    ]
    if note:
        lines += ["", note.strip(" ()") + "."]
    if rest:
        lines += ["", "### Not placed inline", ""]
        for finding in rest[:MAX_SUMMARY_ITEMS]:
            place = ":".join(str(p) for p in (finding.get("file"), finding.get("line")) if p) or "(general)"
            rule = f" `{finding['ruleId']}`" if finding.get("ruleId") else ""
            lines.append(
                f"- {SEVERITY_ICON.get(finding['severity'], '')} **{finding['severity']}** `{place}`: {_one_line(finding['title'])}{rule}"
            )
        if len(rest) > MAX_SUMMARY_ITEMS:
            lines.append(f"- … and {len(rest) - MAX_SUMMARY_ITEMS} more (see the job's log)")
    if extra:
        lines += ["", extra.strip()]
    return "\n".join(lines) + "\n"


def _comment(finding: dict, sources: dict[str, str], diff: PullRequestDiff) -> dict:
    severity = finding["severity"]
    parts = [f"{SEVERITY_ICON.get(severity, '')} **{severity.capitalize()}**: {_one_line(finding['title'])}"]
    if finding.get("detail") and finding["detail"] != finding["title"]:
        parts.append(finding["detail"])
    comment = {"path": finding["file"], "line": finding["line"], "side": "RIGHT"}
    replacement = suggestion_for(finding, sources.get(finding["file"]), diff.added.get(finding["file"], set()))
    if replacement:
        start, end, code = replacement
        parts.append(f"```suggestion\n{code}\n```")
        comment["line"] = end
        if start != end:
            comment.update(start_line=start, start_side="RIGHT")
    elif finding.get("suggestion"):
        parts.append(f"**Suggestion:** {finding['suggestion']}")
    if finding.get("ruleId"):
        parts.append(f"<sub>rule `{finding['ruleId']}` · CodeRevAI</sub>")
    parts.append(MARKER.format(json.dumps(_identity(finding), sort_keys=True)))
    return {**comment, "body": "\n\n".join(parts)}


def suggestion_for(finding: dict, text: str | None, added: set[int]) -> tuple[int, int, str] | None:
    """(first line, last line, code) when the finding's suggestion is one code block replacing
    exactly the lines from its own: as many lines, each a close edit of the line it replaces, all
    added by the pull request (GitHub applies a suggestion to the lines the comment spans)."""
    if not text or not finding.get("suggestion") or not finding.get("line"):
        return None
    blocks = _FENCE.findall(finding["suggestion"])
    if len(blocks) != 1 or not blocks[0].strip():
        return None
    new = blocks[0].split("\n")
    start = finding["line"]
    end = start + len(new) - 1
    old = text.split("\n")[start - 1 : end]
    if len(old) != len(new) or not all(line in added for line in range(start, end + 1)) or old == new:
        return None
    indent = re.match(r"\s*", old[0]).group()
    if indent and not new[0].startswith(indent[:1]):  # a block quoted without the file's indentation
        new = [indent + line if line else line for line in new]
    if not all(
        difflib.SequenceMatcher(None, a.strip(), b.strip()).ratio() >= 0.5 for a, b in zip(old, new, strict=True)
    ):
        return None
    return start, end, "\n".join(new)


def _resolved(comment: dict) -> str:
    marker = _marker(comment)
    body = _MARKER.sub("", comment.get("body") or "").strip()
    stamp = MARKER.format(json.dumps({**marker, "state": "resolved"}, sort_keys=True))
    return f"✅ **Resolved**: CodeRevAI no longer reports this on the latest push.\n\n<details><summary>The earlier comment</summary>\n\n{body}\n\n</details>\n\n{stamp}"


def _identity(finding: dict) -> dict:
    return {
        "path": finding.get("file"),
        "line": finding.get("line"),
        "rule": finding.get("ruleId") or finding.get("source"),
    }


def _key(identity: dict) -> tuple:
    return identity.get("path"), identity.get("line"), identity.get("rule")


def _marker(comment: dict) -> dict:
    match = _MARKER.search(comment.get("body") or "")
    if not match:
        return {}
    try:
        found = json.loads(match.group(1))
    except ValueError:
        return {}
    return found if isinstance(found, dict) else {}


def _one_line(text: str) -> str:
    return " ".join(text.split())


def pull_request_diff(github: GitHubApi) -> PullRequestDiff:
    """The pull request's diff as GitHub holds it: the lines a review comment may be placed on."""
    added: dict[str, set[int]] = {}
    shown: dict[str, set[int]] = {}
    for file in github.pages(github.repo_path(f"pulls/{github.context.number}/files")):
        path, patch = file.get("filename"), file.get("patch")
        if path and patch:  # a binary or very large file's diff has no patch: no comment can go there
            added[path], shown[path] = _patch_lines(patch)
    return PullRequestDiff(added, shown)


def _patch_lines(patch: str) -> tuple[set[int], set[int]]:
    added: set[int] = set()
    shown: set[int] = set()
    line = 0
    for text in patch.split("\n"):
        if match := _HUNK.match(text):
            line = int(match.group(1))
        elif text.startswith("+"):
            added.add(line)
            shown.add(line)
            line += 1
        elif text.startswith(" ") or text == "":
            shown.add(line)
            line += 1
    return added, shown
