"""ruff and bandit on Python files.

ruff is one native binary: a subprocess call costs a few milliseconds. bandit is Python: on a
snippet it runs in this process (imported on first use: functions that never review keep their
cold start), since a process started for it cost ~140 ms of interpreter start for ~5 ms of
analysis. On more than BANDIT_WORKER_MIN_CHARS of Python it runs in one long-lived worker process
(started on first need, bandit imported there once), alongside the structural rules in this one:
bandit and ast-grep both hold the GIL, so in one process their times add (the static pass of a
5,000-line file took 1.22-1.28x bandit alone). Both read a private
temporary copy of the files with suppression comments switched off: the author's `# noqa` /
`# nosec` lower a finding's severity (see noise.py), they do not hide it."""

from __future__ import annotations

import atexit
import functools
import json
import logging
import re
import subprocess
import sys
import threading
from concurrent.futures import Future
from pathlib import Path, PurePosixPath

from coderevai_core.findings import Finding, Severity

from shared.config import get_settings
from shared.languages import PYTHON_SUFFIXES
from shared.review.outcome import SourceFile
from shared.review.static import external, rules

log = logging.getLogger("coderevai.review.static")

# Correctness, likely bugs, performance traps and needless complexity; not formatting (a formatter's job).
RUFF_RULES = "F,E4,E7,E9,B,PLE,PERF,SIM,C4"
BANDIT_SKIPS = ("B101",)  # assert statements: noise in tests, which reviews often include
# Above this much Python, bandit runs in the worker process (see the module's docstring).
BANDIT_WORKER_MIN_CHARS = 64 * 1024

_RUFF_CATEGORIES = {"E9": "syntax", "F": "correctness", "PLE": "correctness", "B": "bugs", "PERF": "performance"}
# B008 (a call in an argument default) is medium, not high beside B006: the call runs once, which is
# a bug only when its value is mutable, and idiomatic defaults are calls (sentinels, `Depends()`).
_RUFF_HIGH = {"F822", "F823", "F631", "F632", "F701", "F702", "F704", "F706", "B006", "B012"}
_RUFF_LOW = {"F401", "F841", "F541"}
# Trojan Source (CVE-2021-42574) reorders code with the bidi embedding, override and isolate
# controls; the marks (LRM, RLM, ALM) that right-to-left text legitimately carries cannot.
_REORDERING = re.compile("[\u202a-\u202e\u2066-\u2069]")
_BANDIT_QUOTES_PASSWORD = {"B105", "B106", "B107"}
# bandit's injection tests where the sink is routine in libraries (an SQL toolkit builds SQL, a
# client fetches URLs, a cache unpickles): high when request data, a route parameter or the command
# line reaches the line within its function (the structural rules' sources), otherwise low. Shell
# (B602/B604/B605) keeps bandit's own rating: a non-literal command with shell=True is a hazard
# wherever its value comes from, and its fix (an argument list) always available.
BANDIT_SINKS = {
    "B608",  # SQL built from strings
    "B610",  # Django extra()
    "B611",  # Django RawSQL
    "B301",  # pickle
    "B302",  # marshal
    "B310",  # urlopen of a URL (SSRF, file://)
}
# eval and exec (B307/B102) are a hazard wherever their argument comes from (bandit's medium, and
# ast.literal_eval is always the fix), and critical when request data, input() or argv reaches them:
# they run the sender's code in the process.
BANDIT_CODE_SINKS = {"B307", "B102"}
_RATED_BY_REACH = BANDIT_SINKS | BANDIT_CODE_SINKS
_STATEMENTS = ("expression_statement", "return_statement")
_PASSWORD = re.compile(r"pass|pwd", re.I)
# Text without which bandit raises none of BANDIT_SINKS on a file.
_SINK_HINTS = re.compile(
    r"(?i)select|insert|update|delete|extra|rawsql|shell|system|popen|eval|exec|pickle|marshal|urlopen"
)
_BANDIT_SEVERITY: dict[str, Severity] = {"HIGH": "high", "MEDIUM": "medium", "LOW": "low"}
_BANDIT_FIELDS = ("filename", "test_id", "test_name", "issue_text", "issue_severity", "issue_confidence", "line_number")
_bandit_lock = threading.Lock()
_bandit_config = None
_worker_lock = threading.Lock()
_worker: _BanditWorker | None = None


def write_copies(files: list[tuple[int, SourceFile]], root: Path) -> dict[str, SourceFile]:
    return external.write_copies(files, root, lambda file: _safe_name(file.path))


def start_ruff(root: Path) -> external.Process:
    command = [ruff_bin(), "check", "--isolated", "--no-cache", "--ignore-noqa", "--exit-zero",
               "--output-format", "json", "--select", RUFF_RULES, "."]  # fmt: skip
    return external.spawn(command, root, "ruff")


def ruff_findings(process: external.Process, root: Path, names: dict[str, SourceFile]) -> list[Finding]:
    findings = []
    for item in _json_list(_finish("ruff", process)):
        file = names.get(_relative(item.get("filename", ""), root))
        if file is not None:
            findings.append(_from_ruff(item, file))
    return findings


def start_bandit(root: Path, names: dict[str, SourceFile]) -> Future | None:
    """bandit on the worker process when the files are large (a Future of its issues, for
    bandit_findings), else None: bandit_findings then runs it here."""
    if sum(len(file.content) for file in names.values()) <= BANDIT_WORKER_MIN_CHARS:
        return None
    future: Future = Future()
    paths = [str(root / name) for name in names]
    threading.Thread(target=_scan_on_worker, args=(paths, future), daemon=True).start()
    return future


def bandit_findings(root: Path, names: dict[str, SourceFile], started: Future | None = None) -> list[Finding]:
    early: dict[str, set[int]] = {}
    if started is not None:  # bandit works in its own process meanwhile: which lines sources reach, now
        early = {name: _reached(file.content) for name, file in names.items() if _SINK_HINTS.search(file.content)}
    items = None
    if started is not None:
        try:
            items = started.result()
        except Exception:  # no worker could start, or it died (out of memory, killed): run here
            log.warning("bandit worker failed; bandit runs in-process", exc_info=True)
    if items is None:
        items = bandit_items([str(root / name) for name in names])
    findings = []
    sinks: dict[str, set[int]] = {}  # file name -> lines of sink findings, to check for sources
    for item in items:
        if item.get("test_id") in _RATED_BY_REACH and item.get("line_number"):
            sinks.setdefault(_relative(item["filename"], root), set()).add(item["line_number"])
    reached = {name: early[name] & lines if name in early else _reached(names[name].content, lines)
               for name, lines in sinks.items() if name in names}  # fmt: skip
    for item in items:
        name = _relative(item["filename"], root)
        file = names.get(name)
        if file is not None:
            findings.append(_from_bandit(item, file, item.get("line_number") in reached.get(name, ())))
    return findings


def _scan_on_worker(paths: list[str], future: Future) -> None:
    global _worker
    try:
        with _worker_lock:  # one scan at a time on the worker
            if _worker is None or _worker.process.poll() is not None:
                _worker = _BanditWorker()  # started on first need, and again after it died
            try:
                _worker.send(paths)
                items = _worker.receive()
            except Exception:
                _worker.stop()
                raise
        future.set_result(items)
    except Exception as exc:
        future.set_exception(exc)


def bandit_items(paths: list[str]) -> list[dict]:
    """bandit's issues on these files, as dicts (what crosses from the worker process)."""
    from bandit.core import config, docs_utils, manager

    global _bandit_config
    with _bandit_lock:  # bandit's plugin registry is built lazily and is not safe to build twice at once
        if _bandit_config is None:
            _bandit_config = config.BanditConfig()
        scan = manager.BanditManager(
            _bandit_config, "file", quiet=True, ignore_nosec=True, profile={"exclude": list(BANDIT_SKIPS)}
        )
    scan.files_list = paths
    try:
        scan.run_tests()
    except Exception:  # one odd file must not cost the whole static pass
        log.warning("bandit failed; static pass continues without it", exc_info=True)
        return []
    items = []
    for issue in scan.get_issue_list():
        item = issue.as_dict(with_code=False)
        kept = {key: item.get(key) for key in _BANDIT_FIELDS}  # what _from_bandit reads: less to send
        kept["issue_cwe"] = {"id": (item.get("issue_cwe") or {}).get("id")}
        items.append({**kept, "more_info": docs_utils.get_url(item["test_id"])})
    return items


class _BanditWorker:
    """The worker process (shared/review/static/bandit_worker.py), started on first need."""

    def __init__(self) -> None:
        root = Path(__file__).resolve().parents[3]  # the folder that holds the `shared` package
        self.process = subprocess.Popen(
            [sys.executable, "-m", "shared.review.static.bandit_worker"],
            cwd=root,
            stdin=subprocess.PIPE,
            stdout=subprocess.PIPE,
            text=True,
        )
        atexit.register(self.stop)

    def send(self, paths: list[str]) -> None:
        self.process.stdin.write(json.dumps(paths) + "\n")
        self.process.stdin.flush()

    def receive(self) -> list[dict]:
        line = self.process.stdout.readline()
        if not line:
            raise RuntimeError(f"bandit worker exited ({self.process.poll()})")
        return json.loads(line)

    def stop(self) -> None:
        if self.process.poll() is None:
            self.process.kill()
            self.process.wait()


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
        title=message,
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


def _from_bandit(item: dict, file: SourceFile, reached: bool = False) -> Finding:
    text = item.get("issue_text") or "bandit finding"
    severity = _BANDIT_SEVERITY.get(item.get("issue_severity", ""), "low")
    if item.get("test_id") in _BANDIT_QUOTES_PASSWORD:
        text = "Possible hard-coded password"  # bandit's own text quotes it, and findings reach the model
    cwe = (item.get("issue_cwe") or {}).get("id")
    detail = f"bandit {item.get('test_id')} ({item.get('test_name')}"
    detail += f", CWE-{cwe}" if cwe else ""
    detail += f", confidence {str(item.get('issue_confidence', '')).lower()}): {text}"
    if item.get("test_id") == "B324":  # MD5/SHA-1: as our rules rate them, high for passwords only
        severity = "high" if _PASSWORD.search(_line(file.content, item.get("line_number"))) else "low"
    if item.get("test_id") == "B613" and not _REORDERING.search(file.content):  # bandit reports a file once
        severity = "low"  # only bidi marks (RLM in right-to-left locale data): they cannot reorder code
        detail += " Only directional marks in this file, no embedding, override or isolate controls."
    if item.get("test_id") in BANDIT_SINKS:  # rated as our rules' sinks are: by what reaches them
        if reached:
            severity = "high"
        else:
            severity = "low" if severity != "info" else severity
            detail += rules.UNSOURCED_NOTE
    if item.get("test_id") in BANDIT_CODE_SINKS and reached:
        severity = "critical"
        detail += " Request data, input() or the command line reaches it: the sender's code runs here."
    if item.get("more_info"):
        detail += f" See {item['more_info']}"
    return Finding(
        severity=severity,
        category="security",
        title=text,
        detail=detail,
        line=item.get("line_number") or None,
        file=file.path or None,
        source="bandit",
        rule=item.get("test_id"),
    )


def _reached(content: str, lines: set[int] | None = None) -> set[int]:
    """Of these lines (all: None), those a source reaches within their function."""
    if lines is None:
        lines = set(range(1, content.count("\n") + 2))
    return rules.reached_lines(content, "python", lines, _STATEMENTS)


def _line(content: str, number: int | None) -> str:
    lines = content.split("\n")
    return lines[number - 1] if number and 1 <= number <= len(lines) else ""


def _safe_name(path: str) -> str:
    name = external.tame_name(path, "snippet")
    return name if PurePosixPath(name).suffix.lower() in PYTHON_SUFFIXES else name + ".py"


def ruff_bin() -> str:
    from ruff.__main__ import find_ruff_bin

    return find_ruff_bin()


def _finish(tool: str, process: external.Process) -> bytes:
    """The tool's output; on a timeout or a crash the pass goes on without it (logged)."""
    return external.finish(tool, process, get_settings().static_tool_timeout_seconds) or b""


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
