"""Analysers that are native programs shipped inside wheels: shellcheck (shell scripts), hadolint
(Dockerfiles) and zizmor (GitHub Actions workflows). None of them has a library interface or a
server mode worth the name, and each starts in milliseconds, so each runs as one subprocess over all
its files of a review, started before the in-process analysers and read as each finishes: they run
alongside, on the other cores, the one with the most work at full priority and the others yielding
to it (the pass takes as long as that one). One runner for all three: copies under our own names
in the pass's temporary folder, one time limit (STATIC_TOOL_TIMEOUT_SECONDS), JSON output, and the
binary found through the installed wheel's own file list. A missing binary, a timeout or a crash is
logged, and each of its files gets an info finding with rule `not-checked`, which `coverage` reads:
such a file is listed as not checked, never as clean, and never a 500."""

from __future__ import annotations

import functools
import importlib.metadata
import logging
import os
import re
import shutil
import subprocess
import time
from collections.abc import Callable
from pathlib import Path, PurePosixPath
from typing import NamedTuple

from coderevai_core.findings import Finding, FindingSource, Severity

from shared.config import get_settings
from shared.review.outcome import SourceFile

log = logging.getLogger("coderevai.review.static")

NOT_CHECKED = "not-checked"
YIELDING_NICENESS = 19  # the lowest: 1.5% of the CPU share of a nice-0 process it competes with
SHELL, DOCKERFILE, WORKFLOW = "shell", "dockerfile", "github-actions"

_SHELL_SUFFIXES = {".sh", ".bash", ".ksh", ".dash"}
_SHELL_HINTS = {"bash", "shell", "sh", "ksh", "dash", "shellscript"}
_DOCKER_HINTS = {"dockerfile", "docker", "containerfile"}
_SHEBANG = re.compile(r"#!\s*(/usr)?/bin/(env\s+)?(ba|k|da)?sh\b")
_WORKFLOW_SHAPE = re.compile(r"^on:", re.M), re.compile(r"^jobs:", re.M)


def kind_of(file: SourceFile, language: str) -> str | None:
    """Which external analyser reads this file: by name, then by shebang, then by the language hint."""
    path = PurePosixPath(file.path)
    name, suffix = path.name.lower(), path.suffix.lower()
    if suffix in _SHELL_SUFFIXES:
        return SHELL
    if name in ("dockerfile", "containerfile") or name.startswith("dockerfile.") or suffix == ".dockerfile":
        return DOCKERFILE
    if suffix in (".yml", ".yaml") and (path.parent.as_posix().endswith(".github/workflows") or path.stem == "action"):
        return WORKFLOW
    if not suffix and _SHEBANG.match(file.content):
        return SHELL
    if file.path and suffix:
        return None
    hint = language.strip().lower()
    if hint in _SHELL_HINTS:
        return SHELL
    if hint in _DOCKER_HINTS:
        return DOCKERFILE
    if hint in ("yaml", "yml", "github-actions") and all(shape.search(file.content) for shape in _WORKFLOW_SHAPE):
        return WORKFLOW
    return None


class Analyser(NamedTuple):
    name: FindingSource
    distribution: str  # the wheel that ships the binary
    binary: str
    arguments: tuple[str, ...]  # before the file names
    copy_name: Callable[[SourceFile], str]  # the name the copy is written under (the tool reads it)
    findings: Callable[[bytes, dict[str, SourceFile]], list[Finding]]  # its JSON output, by copy name
    ms_per_line: float  # its time per line here (benchmarks/review.py), to tell which one takes longest
    runtime: dict[str, str] = {}  # its runtime's settings, added to the bare environment
    # From its log, the copy names it read (None: the log does not say); the others are not checked,
    # for the reason `unread`.
    read: Callable[[str], set[str] | None] | None = None
    unread: str = "could not read it"


class Process(NamedTuple):
    """A running analyser. Its output goes to files in the pass's folder, not to pipes: a pipe holds
    64 KiB, and a tool with more to say (hadolint's report on a repository's Dockerfiles is 300 KB)
    would stop, idle, until the pass came to read it."""

    popen: subprocess.Popen[bytes]
    output: Path
    errors: Path


class Run(NamedTuple):
    analyser: Analyser
    names: dict[str, SourceFile]  # copy name (relative to the pass's folder) -> the file
    process: Process | None  # None: no binary
    deadline: float


def write_copies(
    files: list[tuple[int, SourceFile]], root: Path, name_of: Callable[[SourceFile], str]
) -> dict[str, SourceFile]:
    """Each file under our own name (index + a tame basename): a repository path can never escape root."""
    names: dict[str, SourceFile] = {}
    for index, file in files:
        target = root / f"f{index:05d}" / name_of(file)
        target.parent.mkdir(parents=True)
        target.write_text(file.content, encoding="utf-8", newline="")
        names[str(target.relative_to(root))] = file
    return names


def tame_name(path: str, default: str) -> str:
    return re.sub(r"[^A-Za-z0-9_.\-]", "_", PurePosixPath(path).name).lstrip(".") or default


def start(analyser: Analyser, files: list[tuple[int, SourceFile]], root: Path, yield_cpu: bool = False) -> Run:
    """Start the analyser on its files. `yield_cpu`: at a lower priority, so that it takes the CPU
    only when the analyser that sets the pass's time does not need it (the pass runs them all at once)."""
    names = write_copies(files, root, analyser.copy_name)
    deadline = time.monotonic() + get_settings().static_tool_timeout_seconds
    binary = binary_path(analyser.distribution, analyser.binary)
    if binary is None:
        log.warning("%s is not installed; its files are listed as not checked", analyser.binary)
        return Run(analyser, names, None, deadline)
    # The tools get no secrets: a bare environment (zizmor would read GITHUB_TOKEN), a UTF-8 locale
    # (shellcheck and hadolint read files by it) and the pass's folder as HOME (their caches).
    environment = {"PATH": os.defpath, "HOME": str(root), "LC_ALL": "C.UTF-8", "LANG": "C.UTF-8", **analyser.runtime}
    process = spawn([binary, *analyser.arguments, *names], root, analyser.binary, environment)
    if yield_cpu:
        lower_priority(process.popen.pid)
    return Run(analyser, names, process, deadline)


def collect_all(runs: list[Run]) -> list[Finding]:
    """Each run's findings, read as it finishes: reading one report overlaps the others' work."""
    findings, waiting = [], list(runs)
    while waiting:
        now = time.monotonic()
        done = [
            run for run in waiting if run.process is None or run.process.popen.poll() is not None or now >= run.deadline
        ]
        if not done:
            time.sleep(0.005)
        for run in done:
            waiting.remove(run)
            findings += collect(run)
    return findings


def lower_priority(pid: int) -> None:
    try:
        os.setpriority(os.PRIO_PROCESS, pid, YIELDING_NICENESS)
    except OSError:  # a sandbox without setpriority: the runs then share the CPU evenly
        log.debug("could not lower the priority of process %s", pid)


def collect(run: Run) -> list[Finding]:
    """The run's findings; if it could not give them, a `not-checked` finding for each of its files
    (and for each file it skipped, by its own log)."""
    tool = run.analyser.binary
    if run.process is None:
        return _not_checked(run, "is not installed on this server")
    out = finish(tool, run.process, max(run.deadline - time.monotonic(), 0.001))
    if out is None:
        return _not_checked(run, f"did not finish within {get_settings().static_tool_timeout_seconds:g} s")
    unread: list[str] = []
    if run.analyser.read is not None:
        read = run.analyser.read(run.process.errors.read_text(encoding="utf-8", errors="replace"))
        unread = [] if read is None else [name for name in run.names if name not in read]
    skipped = _not_checked(run, run.analyser.unread, unread)
    if unread and len(unread) == len(run.names):
        return skipped
    try:
        return run.analyser.findings(out, run.names) + skipped
    except (ValueError, KeyError, TypeError, AttributeError):
        log.warning("%s gave output that is not its JSON report", tool, exc_info=True)
        return _not_checked(run, "gave a report that could not be read")


def spawn(argv: list[str], root: Path, tool: str, environment: dict[str, str] | None = None) -> Process:
    """Start one analyser in the pass's folder, its output in files beside the copies (`root`/.out)."""
    folder = root / ".out"
    folder.mkdir(exist_ok=True)
    output, errors = folder / f"{tool}.json", folder / f"{tool}.err"
    with output.open("wb") as out, errors.open("wb") as err:
        # A fixed argv of our own analyser, no shell; user code only ever reaches it as a file.
        popen = subprocess.Popen(argv, cwd=root, env=environment, stdin=subprocess.DEVNULL, stdout=out, stderr=err)  # noqa: S603
    return Process(popen, output, errors)


def finish(tool: str, process: Process, timeout: float) -> bytes | None:
    """The tool's output, or None after a timeout (the process is killed). A crash is logged and
    gives what it printed: its JSON reader then decides whether that is a report."""
    try:
        process.popen.wait(timeout=timeout)
    except subprocess.TimeoutExpired:
        process.popen.kill()
        process.popen.wait()
        log.warning("%s timed out after %.3g s; static pass continues without it", tool, timeout)
        return None
    if process.popen.returncode not in (0, 1):
        err = process.errors.read_bytes()[-500:].decode(errors="replace")
        log.warning("%s exited with %s: %s", tool, process.popen.returncode, err)
    return process.output.read_bytes()


@functools.cache
def binary_path(distribution: str, binary: str) -> str | None:
    """The binary the wheel installed (from its RECORD: found wherever pip put the scripts), else
    one on PATH."""
    try:
        for entry in importlib.metadata.distribution(distribution).files or ():
            if entry.name == binary and (located := Path(entry.locate())).is_file():
                return str(located.resolve())
    except importlib.metadata.PackageNotFoundError:
        pass
    return shutil.which(binary)


def tool_finding(
    source: FindingSource, code: str, rated: tuple[Severity, str], message: str, url: str, line, file: SourceFile
) -> Finding:
    """A finding of one of these analysers: `rated` is (severity, category), `line` its 1-based line."""
    severity, category = rated
    return Finding(
        severity=severity,
        category=category,
        title=message[:300],
        detail=f"{source} {code}: {message} ({url})"[:4000],
        line=line or None,
        file=file.path or None,
        source=source,
        rule=code,
    )


def _not_checked(run: Run, reason: str, names: list[str] | None = None) -> list[Finding]:
    """A `not-checked` finding for each of these copies (None: every file of the run)."""
    tool = run.analyser.binary
    return [
        Finding(
            severity="info",
            category="coverage",
            title=f"Not checked: {tool} {reason}",
            detail=f"{tool} {reason}, so this file was not analysed; only the secrets check ran on it.",
            file=file.path or None,
            source=run.analyser.name,
            rule=NOT_CHECKED,
        )
        for file in (run.names.values() if names is None else [run.names[name] for name in names])
    ]
