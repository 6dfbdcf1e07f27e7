"""A branch's change: the files that differ from the point where the branch left REF (as a pull
request shows it: `git diff --merge-base REF`, working-tree edits included), and for each file the
line ranges its new version added or changed."""

from __future__ import annotations

import codecs
import re
import subprocess
from pathlib import Path

from coderevai_core.changed_lines import LineRange

from coderevai.files import UsageError

_HUNK = re.compile(r"^@@ -\d+(?:,\d+)? \+(\d+)(?:,(\d+))? @@")

ChangedLines = dict[str, list[LineRange]]  # path (relative to the working directory) -> ranges


def changed_lines(ref: str, paths: list[str], cwd: Path) -> ChangedLines:
    """Each changed file still present, with its added or changed line ranges (empty: only deletions)."""
    diff = ("-c", "core.quotePath=false", "diff", "--merge-base", ref, "--relative", "--diff-filter=d", "--no-ext-diff")
    changed: ChangedLines = {}
    current: list[LineRange] | None = None
    in_header = False
    for line in _git(cwd, *diff, "--unified=0", "--no-color", "--", *paths).splitlines():
        if line.startswith("diff --git "):
            current, in_header = None, True
        elif in_header and line.startswith("+++ "):
            current = changed.setdefault(_path_of(line[4:]), [])
        elif match := _HUNK.match(line):
            in_header = False
            start, count = int(match.group(1)), int(match.group(2) or "1")
            if current is not None and count:
                current.append(LineRange(start=start, end=start + count - 1))
    # Files whose diff has no `+++` line (a mode change, a binary file): changed, with no text lines.
    for name in filter(None, _git(cwd, *diff, "--name-only", "-z", "--", *paths).split("\0")):
        changed.setdefault(name, [])
    return changed


def _path_of(header: str) -> str:
    """`b/path`, or git's C-quoted form when the name holds a tab, newline, quote or backslash."""
    if header.startswith('"') and header.endswith('"'):
        header = codecs.escape_decode(header[1:-1].encode("utf-8", "surrogateescape"))[0].decode("utf-8", "replace")
    return header[2:] if header.startswith("b/") else header


def _git(cwd: Path, *args: str) -> str:
    try:
        # git from PATH, as the user runs it; the ref is one argument, never a shell string.
        command = ["git", *args]
        done = subprocess.run(command, cwd=cwd, capture_output=True, check=False)  # noqa: S603
    except FileNotFoundError:
        raise UsageError("--diff needs git, and git is not installed") from None
    if done.returncode != 0:
        message = done.stderr.decode("utf-8", "replace").strip()
        raise UsageError(f"git diff against the given ref failed: {message or done.returncode}")
    return done.stdout.decode("utf-8", "surrogateescape")
