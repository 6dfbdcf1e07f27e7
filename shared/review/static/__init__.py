"""The static pass: ruff and bandit on Python files, the secrets check on every file. Runs before
any model call; its findings ground the prompt, and with no model they are the whole review.

The analysers run as subprocesses (both at once) on a private temporary copy of the files, with
their config discovery and suppression comments switched off: the author's `# noqa` / `# nosec`
must not hide issues from the reviewer."""

from __future__ import annotations

import json
import logging
import re
import subprocess
import sys
import tempfile
from pathlib import Path, PurePosixPath

from shared.review import secret_scan
from shared.review.findings import Finding, Severity
from shared.review.outcome import SourceFile

log = logging.getLogger("coderevai.review.static")

TOOL_TIMEOUT_SECONDS = 30
PYTHON_LANGUAGES = {"python", "python3", "py"}
PYTHON_SUFFIXES = {".py", ".pyi"}
# Correctness, likely bugs, performance traps and needless complexity; not formatting (a formatter's job).
RUFF_RULES = "F,E4,E7,E9,B,PLE,PERF,SIM,C4"
BANDIT_SKIPS = "B101"  # assert statements: noise in tests, which reviews often include

_RUFF_CATEGORIES = {"E9": "syntax", "F": "correctness", "PLE": "correctness", "B": "bugs", "PERF": "performance"}
_RUFF_HIGH = {"F821", "F822", "F823", "F631", "F632", "F701", "F702", "F704", "F706", "B006", "B008", "B012"}
_RUFF_LOW = {"F401", "F841", "F541"}
_BANDIT_QUOTES_PASSWORD = {"B105", "B106", "B107"}
_BANDIT_SEVERITY: dict[str, Severity] = {"HIGH": "high", "MEDIUM": "medium", "LOW": "low"}


def is_python(file: SourceFile, language: str) -> bool:
    suffix = PurePosixPath(file.path).suffix.lower()
    return suffix in PYTHON_SUFFIXES or (not suffix and language.strip().lower() in PYTHON_LANGUAGES)


def analyse(files: list[SourceFile], language: str) -> list[Finding]:
    """Findings for every file; `file` is the file's path ("" paths give None)."""
    findings = [
        secret_scan.to_finding(leak, file.content, file.path or None)
        for file in files
        for leak in secret_scan.scan(file.content)
    ]
    python = [(index, file) for index, file in enumerate(files) if is_python(file, language)]
    if python:
        findings += _python_findings(python)
    return findings


def _python_findings(files: list[tuple[int, SourceFile]]) -> list[Finding]:
    with tempfile.TemporaryDirectory(prefix="crv-static-") as workdir:
        root = Path(workdir)
        names: dict[str, SourceFile] = {}
        for index, file in files:
            # Our own names (index + a tame basename): a repository path can never escape the dir.
            target = root / f"f{index:05d}" / _safe_name(file.path)
            target.parent.mkdir()
            target.write_text(file.content, encoding="utf-8", newline="")
            names[str(target.relative_to(root))] = file
        ruff = _start([ruff_bin(), "check", "--isolated", "--no-cache", "--ignore-noqa", "--exit-zero",
                       "--output-format", "json", "--select", RUFF_RULES, "."], root)  # fmt: skip
        bandit = _start([sys.executable, "-m", "bandit", "-r", ".", "-f", "json", "-q", "--ignore-nosec",
                         "-s", BANDIT_SKIPS], root)  # fmt: skip
        ruff_out = _finish("ruff", ruff)
        bandit_out = _finish("bandit", bandit)
    findings = []
    for item in _json_list(ruff_out, "ruff", key=None):
        file = names.get(_relative(item.get("filename", ""), root))
        if file is not None:
            findings.append(_from_ruff(item, file))
    for item in _json_list(bandit_out, "bandit", key="results"):
        file = names.get(_relative(item.get("filename", ""), root))
        if file is not None:
            findings.append(_from_bandit(item, file))
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
    )


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
    )


def _safe_name(path: str) -> str:
    name = re.sub(r"[^A-Za-z0-9_.\-]", "_", PurePosixPath(path).name).lstrip(".") or "snippet"
    return name if PurePosixPath(name).suffix.lower() in PYTHON_SUFFIXES else name + ".py"


def ruff_bin() -> str:
    from ruff.__main__ import find_ruff_bin

    return find_ruff_bin()


def _start(command: list[str], cwd: Path) -> subprocess.Popen[bytes]:
    # A fixed argv of our own analysers, no shell; user code only ever reaches them as a file.
    return subprocess.Popen(  # noqa: S603
        command, cwd=cwd, stdout=subprocess.PIPE, stderr=subprocess.PIPE, stdin=subprocess.DEVNULL
    )


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


def _json_list(raw: bytes, tool: str, key: str | None) -> list[dict]:
    if not raw.strip():
        return []
    try:
        data = json.loads(raw)
        items = data[key] if key else data
    except (ValueError, KeyError, TypeError):
        log.warning("%s gave output that is not its JSON report", tool)
        return []
    return [item for item in items if isinstance(item, dict)]


def _relative(filename: str, root: Path) -> str:
    path = Path(filename)
    if not path.is_absolute():
        return str(PurePosixPath(filename.removeprefix("./")))
    try:
        return str(path.resolve().relative_to(root.resolve()))
    except ValueError:
        return filename
