"""What the worker reads of a pull request: its state, its changed files with their patches (all of
them, or only what changed since an earlier commit), file contents at a commit, the repository's
`.coderevai.yml` on the base branch, and whether a commenter may write to the repository."""

from __future__ import annotations

import re
from typing import NamedTuple
from urllib.parse import quote

from coderevai_core.changed_lines import LineRange
from coderevai_core.repo_config import FILE_NAMES, Loaded, read

from shared.github_app.client import GitHubError, Installation

_HUNK = re.compile(r"^@@ -\d+(?:,\d+)? \+(\d+)(?:,\d+)? @@")
WRITERS = frozenset({"admin", "maintain", "write"})


class ChangedFile(NamedTuple):
    path: str
    status: str  # added, modified, renamed, removed, copied, changed, unchanged
    patch: str | None  # None: binary, or too large for GitHub to show

    @property
    def added_lines(self) -> list[LineRange]:
        return added_ranges(self.patch or "")


class PullRequest:
    def __init__(self, github: Installation, repository: str, number: int) -> None:
        self.github, self.repository, self.number = github, repository, number
        self.base = f"/repos/{repository}"
        self.data = github.get(f"{self.base}/pulls/{number}")

    @property
    def head_sha(self) -> str:
        return self.data["head"]["sha"]

    @property
    def base_ref(self) -> str:
        return self.data["base"]["ref"]

    @property
    def open(self) -> bool:
        return self.data.get("state") == "open"

    @property
    def draft(self) -> bool:
        return bool(self.data.get("draft"))

    def files(self) -> list[ChangedFile]:
        return [_changed(f) for f in self.github.pages(f"{self.base}/pulls/{self.number}/files")]

    def files_since(self, commit: str) -> list[ChangedFile] | None:
        """What changed between `commit` and the head, or None when GitHub cannot say (the commit is
        gone after a force push): the caller reviews the whole pull request then."""
        try:
            compared = self.github.get(f"{self.base}/compare/{commit}...{self.head_sha}")
        except GitHubError as exc:
            if exc.github_status in (404, 422):
                return None
            raise
        if compared.get("status") not in ("ahead", "identical"):
            return None  # diverged (a rebase): what changed since is not a simple diff
        return [_changed(f) for f in compared.get("files") or []]

    def content(self, path: str, ref: str) -> bytes | None:
        try:
            response = self.github.call(
                "GET",
                f"{self.base}/contents/{quote(path)}",
                params={"ref": ref},
                headers={"Accept": "application/vnd.github.raw+json"},
            )
        except GitHubError as exc:
            if exc.github_status == 404:
                return None
            raise
        return response.content

    def config(self) -> Loaded:
        """`.coderevai.yml` as the base branch has it (never the head's)."""
        for name in FILE_NAMES:
            raw = self.content(name, self.base_ref)
            if raw is not None:
                return read(raw)
        return read(None)

    def may_write(self, login: str | None) -> bool:
        if not login:
            return False
        try:
            answer = self.github.get(f"{self.base}/collaborators/{quote(login)}/permission")
        except GitHubError as exc:
            if exc.github_status in (403, 404):
                return False
            raise
        return answer.get("permission") in WRITERS or answer.get("role_name") in WRITERS


def _changed(file: dict) -> ChangedFile:
    return ChangedFile(file["filename"], file.get("status") or "modified", file.get("patch"))


def added_ranges(patch: str) -> list[LineRange]:
    """The new-side line ranges a unified patch adds."""
    ranges: list[LineRange] = []
    line, start = 0, None
    for text in patch.split("\n"):
        if match := _HUNK.match(text):
            start = _close(ranges, start, line)
            line = int(match.group(1))
            continue
        if text.startswith("+"):
            start = line if start is None else start
            line += 1
        else:
            start = _close(ranges, start, line)
            if not text.startswith("-") and not text.startswith("\\"):
                line += 1
    _close(ranges, start, line)
    return ranges


def _close(ranges: list[LineRange], start: int | None, line: int) -> None:
    if start is not None and line > start:
        ranges.append(LineRange(start=start, end=line - 1))
    return None
