"""The static pass: ruff and bandit on Python, our structural rules (ast-grep) on Python,
JavaScript/TypeScript, Go, Java, PHP, Ruby (and ERB), C#, Kotlin, Rust and HTML templates,
shellcheck on shell scripts, hadolint on Dockerfiles, zizmor on GitHub Actions workflows, and the
secrets check on every file. Runs before any model call; its findings ground the prompt, and with
no model they are the whole review.

ruff, shellcheck, hadolint and zizmor each run as one native subprocess (external.py) alongside
bandit and the rule engine; the one with the most work keeps its core, the others yield to it
(`_start_external`). The rules run in this process; bandit too on a snippet, and in a worker
process of its own on large files, so that it runs alongside them (python_tools). Their findings
then pass through `noise.calibrate`: lint grouped per rule and file, repeats capped, suppressed or
test-code findings ranked lower."""

from __future__ import annotations

import tempfile
from collections.abc import Iterable
from pathlib import Path, PurePosixPath
from typing import NamedTuple

from coderevai_core import secret_scan
from coderevai_core.findings import Finding

from shared import languages
from shared.review.outcome import SourceFile
from shared.review.static import external, noise, rules

__all__ = ["Coverage", "analyse", "analyser", "coverage", "is_python"]

RULES_MS_PER_LINE = 0.05  # the structural rules' time per line here (benchmarks/review.py)


class Coverage(NamedTuple):
    """What the pass could check: analysed files per language, and the languages it has no analyser for."""

    analysed: dict[str, int]
    unchecked: dict[str, int]


def is_python(file: SourceFile, language: str) -> bool:
    suffix = PurePosixPath(file.path).suffix.lower()
    return suffix in languages.PYTHON_SUFFIXES or (not suffix and languages.canonical_language(language) == "python")


def analyse(
    files: list[SourceFile], language: str, modes: Iterable[str] | None = None, *, bandit: bool = True
) -> list[Finding]:
    """Findings for every file; `file` is the file's path ("" paths give None). `modes` (the review's)
    choose the lint-level families reported (static/families.py); None reports every one. `bandit`
    False leaves out the slowest analyser (review-code's parts past what the model reads)."""
    python = [(index, file) for index, file in enumerate(files) if is_python(file, language)]
    if python:  # ruff and bandit, imported with the first Python file, as the external analysers are
        from shared.review.static import python_tools
    structural = [(file, grammar) for file in files if (grammar := rules.grammar_of(file, language))]
    kinds: dict[str, list[tuple[int, SourceFile]]] = {}
    for index, file in enumerate(files):
        if kind := external.kind_of(file, language):
            kinds.setdefault(kind, []).append((index, file))
    with tempfile.TemporaryDirectory(prefix="crv-static-") as workdir:
        root = Path(workdir)
        names = python_tools.write_copies(python, root) if python else {}
        ruff = python_tools.start_ruff(root) if python else None  # its own process, from here on
        running = _start_external(kinds, structural, root)
        # bandit and the rule engine both hold a process's GIL while they work (ast-grep-py does
        # not release it), so threads would only interleave them: on large files bandit runs in
        # the worker process meanwhile, on snippets here after them.
        bandit_run = python_tools.start_bandit(root, names) if python and bandit else None
        findings = [leak for file in files for leak in secret_scan.findings(file.content, file.path)]
        findings += rules.scan(structural)
        if shell := kinds.get(external.SHELL):
            from shared.review.static.shell import command_injection

            findings += [found for _, file in shell for found in command_injection(file)]
        if python:  # ruff is done long before bandit: read its report while bandit works
            findings += python_tools.ruff_findings(ruff, root, names)
        if python and bandit:
            findings += python_tools.bandit_findings(root, names, bandit_run)
        findings += external.collect_all(running)
    return noise.calibrate(findings, files, modes)


def analyser(kind: str) -> external.Analyser:
    """The external analyser of a kind of file (external.kind_of), imported with the first file of
    that kind: a review reads one or two kinds, if any, and each module costs its start ~0.3 ms."""
    if kind == external.SHELL:
        from shared.review.static.shell import SHELLCHECK as chosen
    elif kind == external.DOCKERFILE:
        from shared.review.static.dockerfile import HADOLINT as chosen
    else:
        from shared.review.static.workflows import ZIZMOR as chosen
    return chosen


def _start_external(
    kinds: dict[str, list[tuple[int, SourceFile]]], structural: list[tuple[SourceFile, str]], root: Path
) -> list[external.Run]:
    """Every external analyser at once, the one with the most work first and at full priority: it
    sets the pass's time, so the others (and this process's rules) fit around it on the other cores
    (on 2 cores, sharing them evenly made the pass 1.3x its slowest analyser; yielding, 1.05x)."""

    def work(kind: str) -> float:
        return analyser(kind).ms_per_line * sum(file.content.count("\n") + 1 for _, file in kinds[kind])

    in_process = RULES_MS_PER_LINE * sum(file.content.count("\n") + 1 for file, _ in structural)
    order = sorted(kinds, key=work, reverse=True)
    longest = order[0] if order and work(order[0]) > in_process else None
    return [external.start(analyser(kind), kinds[kind], root, yield_cpu=kind != longest) for kind in order]


def coverage(files: list[SourceFile], language: str, findings: list[Finding] = ()) -> Coverage:
    """Files analysed per language, and per language those no analyser read: no analyser exists for
    it, or its analyser did not run on them (a `not-checked` finding of `analyse`)."""
    analysed: dict[str, int] = {}
    unchecked: dict[str, int] = {}
    missed = {finding.file or "" for finding in findings if finding.rule == external.NOT_CHECKED}
    for file in files:
        grammar = rules.grammar_of(file, language)
        if kind := external.kind_of(file, language):
            counts = unchecked if file.path in missed else analysed
            counts[kind] = counts.get(kind, 0) + 1
        elif grammar is not None or is_python(file, language):
            name = "python" if is_python(file, language) else grammar
            analysed[name] = analysed.get(name, 0) + 1
        elif name := rules.unchecked_language(file, language):
            unchecked[name] = unchecked.get(name, 0) + 1
    return Coverage(analysed, unchecked)
