"""The static pass: ruff and bandit on Python, our structural rules (ast-grep) on Python,
JavaScript/TypeScript, Go, Java and HTML templates, and the secrets check on every file. Runs before
any model call; its findings ground the prompt, and with no model they are the whole review.

ruff runs as one native subprocess alongside bandit and the rule engine. The rules run in this
process; bandit too on a snippet, and in a worker process of its own on large files, so that it
runs alongside them (python_tools). Their findings then pass through `noise.calibrate`: lint grouped
per rule and file, repeats capped, suppressed or test-code findings ranked lower."""

from __future__ import annotations

import tempfile
from collections.abc import Iterable
from pathlib import Path, PurePosixPath
from typing import NamedTuple

from shared.review import secret_scan
from shared.review.findings import Finding
from shared.review.outcome import SourceFile
from shared.review.static import noise, python_tools, rules
from shared.review.static.python_tools import RUFF_RULES, ruff_bin

__all__ = ["RUFF_RULES", "Coverage", "analyse", "coverage", "is_python", "ruff_bin"]

PYTHON_LANGUAGES = {"python", "python3", "py"}


class Coverage(NamedTuple):
    """What the pass could check: analysed files per language, and the languages it has no analyser for."""

    analysed: dict[str, int]
    unchecked: dict[str, int]


def is_python(file: SourceFile, language: str) -> bool:
    suffix = PurePosixPath(file.path).suffix.lower()
    return suffix in python_tools.PYTHON_SUFFIXES or (not suffix and language.strip().lower() in PYTHON_LANGUAGES)


def analyse(files: list[SourceFile], language: str, modes: Iterable[str] | None = None) -> list[Finding]:
    """Findings for every file; `file` is the file's path ("" paths give None). `modes` (the review's)
    choose the lint-level families reported (static/families.py); None reports every one."""
    python = [(index, file) for index, file in enumerate(files) if is_python(file, language)]
    structural = [(file, grammar) for file in files if (grammar := rules.grammar_of(file, language))]
    with tempfile.TemporaryDirectory(prefix="crv-static-") as workdir:
        root = Path(workdir)
        names = python_tools.write_copies(python, root) if python else {}
        ruff = python_tools.start_ruff(root) if python else None  # its own process, from here on
        # bandit and the rule engine both hold a process's GIL while they work (ast-grep-py does
        # not release it), so threads would only interleave them: on large files bandit runs in
        # the worker process meanwhile, on snippets here after them.
        bandit = python_tools.start_bandit(root, names) if python else None
        findings = [leak for file in files for leak in secret_scan.findings(file.content, file.path)]
        findings += rules.scan(structural)
        if python:
            findings += python_tools.bandit_findings(root, names, bandit)
            findings += python_tools.ruff_findings(ruff, root, names)
    return noise.calibrate(findings, files, modes)


def coverage(files: list[SourceFile], language: str) -> Coverage:
    analysed: dict[str, int] = {}
    unchecked: dict[str, int] = {}
    for file in files:
        grammar = rules.grammar_of(file, language)
        if grammar is not None or is_python(file, language):
            name = "python" if is_python(file, language) else grammar
            analysed[name] = analysed.get(name, 0) + 1
        elif name := rules.unchecked_language(file, language):
            unchecked[name] = unchecked.get(name, 0) + 1
    return Coverage(analysed, unchecked)
