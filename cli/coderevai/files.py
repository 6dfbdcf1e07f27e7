"""The files named on the command line: folders walked with their .gitignore files honoured (as
git does: each file's patterns apply below its folder, a deeper one overriding), then the
repository's `.coderevai.yml` include and exclude globs and the server's selection rules
(coderevai_core.selection), each skipped file with its reason."""

from __future__ import annotations

import os
from collections.abc import Callable
from pathlib import Path
from typing import NamedTuple

import pathspec
from coderevai_core import selection
from coderevai_core.repo_config import EXCLUDED


class LocalFile(NamedTuple):
    path: str  # as sent: relative to the working directory, with forward slashes
    content: str


class Skipped(NamedTuple):
    path: str
    reason: str


class Collected(NamedTuple):
    files: list[LocalFile]
    skipped: list[Skipped]


class UsageError(Exception):
    """A problem with what the user asked for (exit code 2)."""


Wants = Callable[[str], bool]  # whether the repository's rules review a path (as sent)


def everything(_path: str) -> bool:
    return True


def collect(arguments: list[str], cwd: Path, wants: Wants = everything) -> Collected:
    found = Collected([], [])
    seen: set[str] = set()
    for argument in arguments:
        target = (cwd / argument).resolve() if not Path(argument).is_absolute() else Path(argument).resolve()
        if target.is_dir():
            paths = _walk(target, found.skipped, cwd)
        elif target.is_file():
            paths = [target]
        else:
            raise UsageError(f"{argument}: no such file or folder")
        for path in paths:
            name = display_path(path, cwd)
            if name not in seen:
                seen.add(name)
                read_file(path, name, found, wants)
    return found


def read_file(path: Path, name: str, into: Collected, wants: Wants) -> None:
    """Add the file to `into`, or list it as skipped with the reason (the repository's rules, as the
    GitHub App checks them first; then the server's rules and caps)."""
    if not wants(name):
        into.skipped.append(Skipped(name, EXCLUDED))
        return
    reason = selection.skip_reason(name)
    if reason is None:
        size = path.stat().st_size
        if size > selection.MAX_FILE_BYTES:
            reason = f"larger than the server's limit of {selection.MAX_FILE_BYTES} bytes"
        else:
            text, reason = selection.as_text(path.read_bytes())
            if text is not None:
                into.files.append(LocalFile(name, text))
                return
    into.skipped.append(Skipped(name, reason))


def display_path(path: Path, cwd: Path) -> str:
    try:
        return path.relative_to(cwd.resolve()).as_posix()
    except ValueError:
        return path.as_posix().lstrip("/")


def _walk(top: Path, skipped: list[Skipped], cwd: Path) -> list[Path]:
    rules = _ignore_files_above(top)
    found: list[Path] = []
    for folder, dirs, names in os.walk(top):
        here = Path(folder)
        if ".gitignore" in names:
            rules = [r for r in rules if _is_within(here, r[0])] + [(here, _read_ignore(here / ".gitignore"))]
        active = [r for r in rules if _is_within(here, r[0])]
        kept = []
        for name in sorted(dirs):
            if name == ".git":
                continue
            if _ignored(here / name, True, active):
                continue
            if reason := selection.skipped_directory(display_path(here / name, cwd)):
                skipped.append(Skipped(display_path(here / name, cwd) + "/", reason))
                continue
            kept.append(name)
        dirs[:] = kept
        found += [here / name for name in sorted(names) if not _ignored(here / name, False, active)]
    return found


Rules = list[tuple[Path, pathspec.GitIgnoreSpec]]


def _ignore_files_above(top: Path) -> Rules:
    """The .gitignore files of the folders above `top` up to its repository's root (none outside a repository)."""
    chain = [top, *top.parents]
    root = next((folder for folder in chain if (folder / ".git").exists()), None)
    if root is None or root == top:
        return []
    above = chain[1 : chain.index(root) + 1]
    return [
        (folder, _read_ignore(folder / ".gitignore")) for folder in reversed(above) if (folder / ".gitignore").is_file()
    ]


def _read_ignore(file: Path) -> pathspec.GitIgnoreSpec:
    return pathspec.GitIgnoreSpec.from_lines(file.read_text(encoding="utf-8", errors="replace").splitlines())


def _is_within(path: Path, folder: Path) -> bool:
    return path == folder or folder in path.parents


def _ignored(path: Path, is_dir: bool, rules: Rules) -> bool:
    """The deepest .gitignore with a pattern for the path decides, as in git."""
    decision = False
    for folder, spec in rules:
        relative = path.relative_to(folder).as_posix() + ("/" if is_dir else "")
        result = spec.check_file(relative)
        if result.include is not None:
            decision = result.include
    return decision
