"""ruff and bandit on Python files.

ruff is one native binary: a subprocess call costs a few milliseconds. bandit is Python, so it runs
in this process (imported on first use: functions that never review keep their cold start); a
process of its own cost ~140 ms of interpreter start for ~5 ms of analysis on a snippet, and on a
5,000-line file it measured 1.5-2.4 s against 0.9-1.3 s in-process. Both read a private
temporary copy of the files with suppression comments switched off: the author's `# noqa` /
`# nosec` lower a finding's severity (see noise.py), they do not hide it."""

from __future__ import annotations

import functools
import json
import logging
import re
import subprocess
import threading
from pathlib import Path, PurePosixPath

from shared.review.findings import Finding, Severity
from shared.review.outcome import SourceFile

log = logging.getLogger("coderevai.review.static")

TOOL_TIMEOUT_SECONDS = 30
PYTHON_SUFFIXES = {".py", ".pyi"}
# Correctness, likely bugs, performance traps and needless complexity; not formatting (a formatter's job).
RUFF_RULES = "F,E4,E7,E9,B,PLE,PERF,SIM,C4"
BANDIT_SKIPS = ("B101",)
# Above this much Python, bandit gets a process of its own (see the module's docstring).
BANDIT_IN_PROCESS_MAX_CHARS = 64 * 1024  # assert statements: noise in tests, which reviews often include

_RUFF_CATEGORIES = {"E9": "syntax", "F": "correctness", "PLE": "correctness", "B": "bugs", "PERF": "performance"}
_RUFF_HIGH = {"F822", "F823", "F631", "F632", "F701", "F702", "F704", "F706", "B006", "B008", "B012"}
_RUFF_LOW = {"F401", "F841", "F541"}
_BANDIT_QUOTES_PASSWORD = {"B105", "B106", "B107"}
_BANDIT_SEVERITY: dict[str, Severity] = {"HIGH": "high", "MEDIUM": "medium", "LOW": "low"}
_bandit_lock = threading.Lock()
_bandit_config = None


def write_copies(files: list[tuple[int, SourceFile]], root: Path) -> dict[str, SourceFile]:
    """Each file under our own name (index + a tame basename): a repository path can never escape root."""
    names: dict[str, SourceFile] = {}
    for index, file in files:
        target = root / f"f{index:05d}" / _safe_name(file.path)
        target.parent.mkdir()
        target.write_text(file.content, encoding="utf-8", newline="")
        names[str(target.relative_to(root))] = file
    return names


def start_ruff(root: Path) -> subprocess.Popen[bytes]:
    command = [ruff_bin(), "check", "--isolated", "--no-cache", "--ignore-noqa", "--exit-zero",
               "--output-format", "json", "--select", RUFF_RULES, "."]  # fmt: skip
    # A fixed argv of our own analyser, no shell; user code only ever reaches it as a file.
    return subprocess.Popen(  # noqa: S603
        command, cwd=root, stdout=subprocess.PIPE, stderr=subprocess.PIPE, stdin=subprocess.DEVNULL
    )


def ruff_findings(process: subprocess.Popen[bytes], root: Path, names: dict[str, SourceFile]) -> list[Finding]:
    findings = []
    for item in _json_list(_finish("ruff", process)):
        file = names.get(_relative(item.get("filename", ""), root))
        if file is not None:
            findings.append(_from_ruff(item, file))
    return findings


def bandit_findings(root: Path, names: dict[str, SourceFile]) -> list[Finding]:
    from bandit.core import config, docs_utils, manager

    global _bandit_config
    with _bandit_lock:  # bandit's plugin registry is built lazily and is not safe to build twice at once
        if _bandit_config is None:
            _bandit_config = config.BanditConfig()
        scan = manager.BanditManager(
            _bandit_config, "file", quiet=True, ignore_nosec=True, profile={"exclude": list(BANDIT_SKIPS)}
        )
    scan.files_list = [str(root / name) for name in names]
    try:
        scan.run_tests()
    except Exception:  # one odd file must not cost the whole static pass
        log.warning("bandit failed; static pass continues without it", exc_info=True)
        return []
    findings = []
    for issue in scan.get_issue_list():
        file = names.get(_relative(issue.fname, root))
        if file is not None:
            item = issue.as_dict(with_code=False)
            findings.append(_from_bandit({**item, "more_info": docs_utils.get_url(item["test_id"])}, file))
    return findings


def _from_ruff(item: dict, file: SourceFile) -> Finding:
    code = item.get("code") or ""
    message = item.get("message") or "ruff finding"
    rule = re.fullmatch(r"([A-Z]+)[0-9]+", code)
    if rule is None:  # syntax errors come without a rule code ("invalid-syntax", or none at all)
        severity, category, code = "high", "syntax", code or "invalid-syntax"
    else:
        prefix = rule.group(1)
        category = _RUFF_CATEGORIES.get(code[:2], _RUFF_CATEGORIES.get(prefix, "maintainability"))
        severity = "high" if code in _RUFF_HIGH else "low" if code in _RUFF_LOW else "medium"
        if prefix in {"SIM", "C4"}:
            severity = "low"
        if code == "F821":  # an undefined name: a crash when it runs, but often a forward-referenced annotation
            severity = "medium" if _in_annotation(file.content, item) else "high"
    fix = item.get("fix") or {}
    url = item.get("url")
    return Finding(
        severity=severity,
        category=category,
        title=message[:300],
        detail=f"ruff {code}: {message}" + (f" ({url})" if url else ""),
        line=(item.get("location") or {}).get("row") or None,
        file=file.path or None,
        suggestion=fix.get("message"),
        source="ruff",
        rule=code,
    )


def _in_annotation(content: str, item: dict) -> bool:
    """Whether ruff's location sits after a `:` or `->` on its line (a parameter or return annotation)."""
    location = item.get("location") or {}
    row, column = location.get("row") or 0, location.get("column") or 0
    lines = content.split("\n")
    if not 1 <= row <= len(lines):
        return False
    before = lines[row - 1][: max(column - 1, 0)]
    return bool(re.search(r"(->|:)\s*[\"'\[\w., |]*$", before)) and "=" not in before.rsplit(":", 1)[-1]


def _from_bandit(item: dict, file: SourceFile) -> Finding:
    text = item.get("issue_text") or "bandit finding"
    if item.get("test_id") in _BANDIT_QUOTES_PASSWORD:
        text = "Possible hard-coded password"  # bandit's own text quotes it, and findings reach the model
    cwe = (item.get("issue_cwe") or {}).get("id")
    detail = f"bandit {item.get('test_id')} ({item.get('test_name')}"
    detail += f", CWE-{cwe}" if cwe else ""
    detail += f", confidence {str(item.get('issue_confidence', '')).lower()}): {text}"
    if item.get("more_info"):
        detail += f" See {item['more_info']}"
    return Finding(
        severity=_BANDIT_SEVERITY.get(item.get("issue_severity", ""), "low"),
        category="security",
        title=text[:300],
        detail=detail[:4000],
        line=item.get("line_number") or None,
        file=file.path or None,
        source="bandit",
        rule=item.get("test_id"),
    )


def _safe_name(path: str) -> str:
    name = re.sub(r"[^A-Za-z0-9_.\-]", "_", PurePosixPath(path).name).lstrip(".") or "snippet"
    return name if PurePosixPath(name).suffix.lower() in PYTHON_SUFFIXES else name + ".py"


def ruff_bin() -> str:
    from ruff.__main__ import find_ruff_bin

    return find_ruff_bin()


def _finish(tool: str, process: subprocess.Popen[bytes]) -> bytes:
    """The tool's output; on a timeout or a crash the pass goes on without it (logged)."""
    try:
        out, err = process.communicate(timeout=TOOL_TIMEOUT_SECONDS)
    except subprocess.TimeoutExpired:
        process.kill()
        process.communicate()
        log.warning("%s timed out after %ss; static pass continues without it", tool, TOOL_TIMEOUT_SECONDS)
        return b""
    if process.returncode not in (0, 1):
        log.warning("%s exited with %s: %s", tool, process.returncode, err.decode(errors="replace")[-500:])
    return out


def _json_list(raw: bytes) -> list[dict]:
    if not raw.strip():
        return []
    try:
        items = json.loads(raw)
    except ValueError:
        log.warning("ruff gave output that is not its JSON report")
        return []
    return [item for item in items if isinstance(item, dict)] if isinstance(items, list) else []


def _relative(filename: str, root: Path) -> str:
    """The tool's file name relative to root. By string prefix: resolving each name cost ~0.2 ms a
    finding, half a second on a large file with thousands of findings."""
    if not filename.startswith("/"):
        return str(PurePosixPath(filename.removeprefix("./")))
    for prefix in (f"{root}/", f"{_resolved(root)}/"):
        if filename.startswith(prefix):
            return filename[len(prefix) :]
    return filename


@functools.lru_cache(maxsize=8)
def _resolved(root: Path) -> Path:
    return root.resolve()
