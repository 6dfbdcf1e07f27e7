"""Which files of a repository are reviewed, in what order, and in which model call.

Selection skips (with a reason each, by the rules of coderevai_core.selection) binaries, vendored and generated trees, lock and minified files,
and secret-bearing files: those are never sent to the model, but they are read and scanned here, so
what they hold is reported (masked). The rest is ordered by importance and
packed into batches under a per-call token budget; what does not fit the repository's budget is
listed as not reviewed, never silently dropped."""

from __future__ import annotations

import math
import re
from collections.abc import Iterable
from pathlib import PurePosixPath
from typing import NamedTuple

from coderevai_core.selection import as_text, decoded, secret_kind, skip_reason

from shared.languages import SUFFIX_LANGUAGES, language_of
from shared.review.budget import CHARS_PER_TOKEN

FILE_OVERHEAD_TOKENS = 20  # the path header and fences around each file in the prompt

CONFIG_SUFFIXES = frozenset(
    {".json", ".yaml", ".yml", ".toml", ".ini", ".cfg", ".conf", ".xml", ".gradle", ".properties"}
)
CONFIG_NAMES = frozenset({"dockerfile", "makefile", "procfile", "jenkinsfile", "gemfile", "rakefile", "justfile"})
DOC_SUFFIXES = frozenset({".md", ".rst", ".txt", ".adoc", ".org"})
TEST_DIRS = frozenset({"test", "tests", "__tests__", "spec", "specs", "testing", "e2e"})
_TEST_NAME = re.compile(r"(^test_.*|.*_test\.\w+$|.*\.(test|spec)\.\w+$|^conftest\.py$)", re.I)
ENTRY_STEMS = frozenset({"main", "app", "index", "__init__", "__main__", "server", "cli", "manage", "wsgi", "asgi"})

# Importance classes, most important first.
ENTRY, SOURCE, CONFIG, TEST, DOC, OTHER = range(6)


class RepoFile(NamedTuple):
    path: str
    content: str
    kind: int
    language: str | None

    @property
    def tokens(self) -> int:
        return estimate_tokens(self.content)


class Skipped(NamedTuple):
    path: str
    reason: str


class SecretFile(NamedTuple):
    path: str
    content: str | None  # None: binary (a key store), reported without being read


class Selection(NamedTuple):
    files: list[RepoFile]  # most important first
    skipped: list[Skipped]
    secret_files: list[SecretFile] = []  # scanned by the static pass, never sent to the model


class Part(NamedTuple):
    """A file, or one line range of a file too big for a single call."""

    file: RepoFile
    content: str
    first_line: int = 1  # line of the file where `content` starts
    last_line: int | None = None  # None: the part is the whole file

    @property
    def label(self) -> str:
        return self.file.path if self.last_line is None else f"{self.file.path}#L{self.first_line}-L{self.last_line}"

    @property
    def tokens(self) -> int:
        return estimate_tokens(self.content)


class Plan(NamedTuple):
    batches: list[list[Part]]
    not_reviewed: list[Skipped]


def estimate_tokens(text: str) -> int:
    return math.ceil(len(text) / CHARS_PER_TOKEN) + FILE_OVERHEAD_TOKENS


def select(files: Iterable[tuple[str, str | bytes]]) -> Selection:
    """Keep what is worth reviewing and safe to send, most important first; say why for the rest."""
    selection = Selection(files=[], skipped=[], secret_files=[])
    for path, raw in files:
        if holds := secret_kind(path):
            selection.secret_files.append(SecretFile(path, decoded(raw)))
            selection.skipped.append(Skipped(path, f"holds secrets ({holds}): scanned here, never sent to the model"))
            continue
        reason = skip_reason(path)
        text = None
        if reason is None:
            text, reason = as_text(raw)
        if reason is not None:
            selection.skipped.append(Skipped(path, reason))
        else:
            selection.files.append(RepoFile(path, text, kind_of(path), language_of(path)))
    selection.files.sort(key=importance)
    return selection


def kind_of(path: str) -> int:
    pure = PurePosixPath(path)
    lower_name = pure.name.lower()
    suffix = pure.suffix.lower()
    if any(part.lower() in TEST_DIRS for part in pure.parts[:-1]) or _TEST_NAME.match(pure.name):
        return TEST
    if suffix in DOC_SUFFIXES or any(part.lower() in ("docs", "doc") for part in pure.parts[:-1]):
        return DOC
    if suffix in SUFFIX_LANGUAGES:
        return ENTRY if pure.stem.lower() in ENTRY_STEMS else SOURCE
    if suffix in CONFIG_SUFFIXES or lower_name in CONFIG_NAMES:
        return CONFIG
    return OTHER


def importance(file: RepoFile) -> tuple:
    """Entry points, then source, config, tests, docs; within a class shallower paths first."""
    return (file.kind, file.path.count("/"), file.path)


def plan_batches(files: list[RepoFile], *, batch_tokens: int, max_batches: int) -> Plan:
    """Pack files in importance order into batches of at most `batch_tokens`. A file bigger than one
    batch is cut into line ranges that each fit. A file that would need more than `max_batches`
    calls is listed as not reviewed (whole: never half a file); smaller ones after it may still fit."""
    batches: list[list[Part]] = []
    not_reviewed: list[Skipped] = []
    current: list[Part] = []
    used = 0
    for file in files:
        parts = [Part(file, file.content)] if file.tokens <= batch_tokens else split_file(file, batch_tokens)
        if parts is None:
            reason = f"has a line longer than one call's budget of {batch_tokens} tokens"
            not_reviewed.append(Skipped(file.path, reason))
            continue
        planned, tentative, tentative_used = list(batches), list(current), used
        for part in parts:
            if tentative and tentative_used + part.tokens > batch_tokens:
                planned.append(tentative)
                tentative, tentative_used = [], 0
            tentative.append(part)
            tentative_used += part.tokens
        if len(planned) + 1 > max_batches:
            reason = f"beyond the review budget of {max_batches} model calls of {batch_tokens} tokens"
            not_reviewed.append(Skipped(file.path, reason))
            continue
        batches, current, used = planned, tentative, tentative_used
    if current:
        batches.append(current)
    return Plan(batches, not_reviewed)


def split_file(file: RepoFile, batch_tokens: int) -> list[Part] | None:
    """Consecutive line ranges, each within the budget; None when a single line is over it."""
    limit_chars = (batch_tokens - FILE_OVERHEAD_TOKENS) * CHARS_PER_TOKEN
    # "\n" only, as the prompt numbers lines; splitlines() also ends a line at
    # \x0c, \x85, \u2028, a lone \r and more, which shifted every later part's line numbers.
    lines = re.findall(r"[^\n]*\n|[^\n]+\Z", file.content)
    parts: list[Part] = []
    start, chunk = 0, []
    size = 0
    for index, line in enumerate(lines):
        if len(line) > limit_chars:
            return None
        if chunk and size + len(line) > limit_chars:
            parts.append(Part(file, "".join(chunk), start + 1, index))
            start, chunk, size = index, [], 0
        chunk.append(line)
        size += len(line)
    if chunk:
        parts.append(Part(file, "".join(chunk), start + 1, len(lines)))
    return parts
