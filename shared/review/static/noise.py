"""Less noise, nothing hidden: the static findings as a reader wants them.

- Lint-level findings the requested modes do not ask for are left out (families.py).
- One finding per problem: the same problem on the same line (or within one multi-line statement)
  seen by several analysers becomes one finding naming them all (`analysers`), with the text of the
  most specific one and a note of what the others said (SAME_PROBLEM).
- Lint-level rules (unused names, simplifications, style-adjacent checks) become one finding per
  rule and file, with the count and the lines.
- Any other rule repeated in one file is kept up to MAX_REPEATS times, then summarised.
- A finding on a line the author marked `# noqa`, `# nosec`, `// nolint`, `eslint-disable`...
  drops one severity step and says so; it is never dropped.
- Findings in tests, examples and docs drop one step, so they rank below the code that ships
  (secrets keep their severity wherever they are: a live key in a test is still live)."""

from __future__ import annotations

import functools
import re
from collections import defaultdict
from collections.abc import Iterable
from pathlib import PurePosixPath

from coderevai_core.findings import SEVERITY_ORDER, Finding, Severity

from shared.review.outcome import SourceFile
from shared.review.static.families import is_lint, wanted

MAX_REPEATS = 20
MAX_LISTED_LINES = 40
MAX_STATEMENT_LINES = 30  # how far a multi-line statement is followed to pair its analysers' findings

# Problems several analysers report, each as (source, rule) pairs, most specific first: the merged
# finding keeps the first one's severity and text. An explicit table, not a match on titles or
# categories: analysers name the same problem differently (bandit's "Possible SQL injection vector
# through string-based query construction" is our "SQL built from a formatted string"), and two
# rules on one line are often different problems (bandit B110 try-except-pass and ruff E722 bare
# except sit on the same `except:`), so only a reviewed list says which ones are the same.
# A structural rule comes first (it checks whether outside data reaches the sink), the secrets
# check before bandit (it looked at the value), bandit before ruff's port of it.
# "*" is any rule of that source. Any other bandit test Bnnn is the same problem as ruff's Snnn.
SAME_PROBLEM: dict[str, tuple[tuple[str, str], ...]] = {
    "hard-coded credential": (
        ("secrets", "*"), ("bandit", "B105"), ("bandit", "B106"), ("bandit", "B107"),
        ("ruff", "S105"), ("ruff", "S106"), ("ruff", "S107"),
    ),
    "shell command": (
        ("rules", "python-command-injection"), ("bandit", "B602"), ("bandit", "B605"), ("bandit", "B604"),
        ("bandit", "B603"), ("ruff", "S602"), ("ruff", "S605"), ("ruff", "S604"), ("ruff", "S603"),
    ),
    "SQL built from strings": (("rules", "python-sql-built-string"), ("bandit", "B608"), ("ruff", "S608")),
    "request to a URL": (("rules", "python-ssrf"), ("bandit", "B310"), ("ruff", "S310")),
    "debug mode on": (("rules", "python-debug-enabled"), ("bandit", "B201"), ("ruff", "S201")),
}  # fmt: skip
_KIND_OF: dict[tuple[str, str], tuple[str, int]] = {
    analyser: (kind, rank) for kind, analysers in SAME_PROBLEM.items() for rank, analyser in enumerate(analysers)
}
_SUPPRESSION = re.compile(
    r"(#\s*(noqa|nosec|type:\s*ignore|pragma:\s*no\s*cover)|//\s*(nolint|nosec|NOSONAR)|eslint-disable|@SuppressWarnings|NOSONAR)",
    re.I,
)
_SIDE_DIRS = {"test", "tests", "__tests__", "spec", "specs", "testing", "e2e", "example", "examples", "sample",
              "samples", "demo", "demos", "doc", "docs", "fixtures", "testdata"}  # fmt: skip
_SIDE_NAME = re.compile(r"(^test_.*|.*_test\.\w+$|.*\.(test|spec)\.\w+$|^conftest\.py$|.*Test\.java$)", re.I)


def calibrate(findings: list[Finding], files: list[SourceFile], modes: Iterable[str] | None = None) -> list[Finding]:
    """`modes`: the review's modes, which choose the lint families reported; None reports them all."""
    lines_of = {file.path or None: file.content.split("\n") for file in files}
    merged = merge_duplicates(_unique(wanted(findings, modes)), lines_of)
    adjusted = [_adjust(finding, lines_of.get(finding.file)) for finding in merged]
    return _group(adjusted)


def problem_of(finding: Finding) -> tuple[str, int] | None:
    """The problem kind of SAME_PROBLEM a finding reports, and its analyser's rank there (0 = most specific)."""
    rule = finding.rule or ""
    found = _KIND_OF.get((finding.source, rule)) or _KIND_OF.get((finding.source, "*"))
    if found:
        return found
    if finding.source == "bandit" and re.fullmatch(r"B\d{3}", rule):
        return f"bandit {rule}", 0
    if finding.source == "ruff" and re.fullmatch(r"S\d{3}", rule):
        return f"bandit B{rule[1:]}", 1
    return None


def merge_duplicates(findings: list[Finding], lines_of: dict[str | None, list[str]]) -> list[Finding]:
    """One finding per problem: findings of one SAME_PROBLEM kind from different analysers, in one
    file, on the same line or within the statement that starts at the first one's line."""
    candidates: dict[tuple, list[int]] = defaultdict(list)
    for index, finding in enumerate(findings):
        if finding.line and (problem := problem_of(finding)):
            candidates[(finding.file, problem[0])].append(index)
    replaced: dict[int, Finding | None] = {}
    for indexes in candidates.values():
        if len({findings[i].source for i in indexes}) < 2:
            continue
        for cluster in _clusters(sorted(indexes, key=lambda i: findings[i].line), findings, lines_of):
            if len(cluster) > 1:
                merged = _merged([findings[i] for i in cluster])
                replaced.update({i: None for i in cluster})
                replaced[cluster[0]] = merged
    if not replaced:
        return findings
    return [replaced.get(i, finding) for i, finding in enumerate(findings) if replaced.get(i, finding) is not None]


def _clusters(indexes: list[int], findings: list[Finding], lines_of: dict) -> list[list[int]]:
    """Findings of one problem in one file, grouped by statement; at most one per analyser in each."""
    clusters: list[tuple[int, list[int]]] = []  # (last line of the statement, its findings)
    for index in indexes:
        finding = findings[index]
        for end, cluster in clusters:
            if finding.line <= end and finding.source not in {findings[i].source for i in cluster}:
                cluster.append(index)
                break
        else:
            clusters.append((_statement_end(lines_of.get(finding.file), finding.line), [index]))
    return [cluster for _, cluster in clusters]


def _statement_end(lines: list[str] | None, line: int) -> int:
    """The last line of the statement that starts at `line`: where the brackets opened there close.
    By counting brackets outside one-line string literals (the files are in many languages, and a
    rough end is enough to pair a call with its argument's finding)."""
    if not lines:
        return line
    depth = 0
    for number in range(line, min(line + MAX_STATEMENT_LINES, len(lines) + 1)):
        text = _STRINGS.sub('""', lines[number - 1])
        depth += sum(text.count(c) for c in "([{") - sum(text.count(c) for c in ")]}")
        if depth <= 0:
            return number
    return line


_STRINGS = re.compile(r"'(?:[^'\\\n]|\\.)*'|\"(?:[^\"\\\n]|\\.)*\"")


def _merged(same: list[Finding]) -> Finding:
    """The most specific finding's text and severity, naming every analyser and what the others said."""
    ordered = sorted(same, key=lambda f: problem_of(f)[1])
    first, others = ordered[0], ordered[1:]
    also = "; ".join(f"{f.source} {f.rule or ''} ({f.severity}): {f.title}".replace("  ", " ") for f in others)
    return first.model_copy(
        update={
            "analysers": list(dict.fromkeys(a for f in ordered for a in f.analysers)),
            "detail": f"{first.detail[:3000]} Also reported by {also}"[:4000],
        }
    )


@functools.lru_cache(maxsize=4096)  # asked once per finding: thousands of times for one file
def is_side_code(path: str | None) -> bool:
    """Tests, examples, fixtures and docs: code that does not ship."""
    if not path:
        return False
    pure = PurePosixPath(path)
    return any(part.lower() in _SIDE_DIRS for part in pure.parts[:-1]) or bool(_SIDE_NAME.match(pure.name))


def lower(severity: Severity) -> Severity:
    return SEVERITY_ORDER[min(SEVERITY_ORDER.index(severity) + 1, len(SEVERITY_ORDER) - 1)]


def _unique(findings: list[Finding]) -> list[Finding]:
    seen, kept = set(), []
    for finding in findings:
        key = (finding.source, finding.rule, finding.title, finding.file, finding.line)
        if key not in seen:
            seen.add(key)
            kept.append(finding)
    return kept


def _adjust(finding: Finding, lines: list[str] | None) -> Finding:
    if finding.source in ("secrets", "model"):
        return finding
    notes, severity = [], finding.severity
    if lines and finding.line and finding.line <= len(lines) and _SUPPRESSION.search(lines[finding.line - 1]):
        severity = lower(severity)
        notes.append("the line carries a suppression comment, so it ranks one step lower")
    if is_side_code(finding.file):
        severity = lower(severity)
        notes.append("in test, example or documentation code, so it ranks one step lower")
    if not notes:
        return finding
    detail = f"{finding.detail} ({'; '.join(notes)})"[:4000]
    return finding.model_copy(update={"severity": severity, "detail": detail})


def _group(findings: list[Finding]) -> list[Finding]:
    buckets: dict[tuple, list[Finding]] = defaultdict(list)
    order = []
    for finding in findings:
        key = (finding.source, finding.rule, finding.file) if finding.rule else (id(finding),)
        if key not in buckets:
            order.append(key)
        buckets[key].append(finding)
    out: list[Finding] = []
    for key in order:
        same = buckets[key]
        if len(same) == 1:
            out += same
        elif is_lint(same[0]):
            out.append(_summary(same, same))
        elif len(same) > MAX_REPEATS:
            out += same[: MAX_REPEATS - 1]
            out.append(_summary(same[MAX_REPEATS - 1 :], same))
        else:
            out += same
    return out


def _summary(group: list[Finding], whole: list[Finding]) -> Finding:
    """One finding standing for `group` (all of one rule in one file), at the group's first line."""
    first = group[0]
    lines = sorted({f.line for f in group if f.line})
    listed = ", ".join(map(str, lines[:MAX_LISTED_LINES])) + (" …" if len(lines) > MAX_LISTED_LINES else "")
    more = "" if group is whole else " more"
    worst = min((f.severity for f in group), key=SEVERITY_ORDER.index)
    return first.model_copy(
        update={
            "severity": worst,
            "title": f"{first.title[:250]} ({len(group)}{more} times in this file)",
            "detail": f"{first.detail[:3000]} Seen {len(group)}{more} times in this file, on lines {listed}.",
        }
    )
