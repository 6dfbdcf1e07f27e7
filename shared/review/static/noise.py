"""Less noise, nothing hidden: the static findings as a reader wants them.

- Lint-level rules (unused names, simplifications, style-adjacent checks) become one finding per
  rule and file, with the count and the lines.
- Any other rule repeated in one file is kept up to MAX_REPEATS times, then summarised.
- A finding on a line the author marked `# noqa`, `# nosec`, `// nolint`, `eslint-disable`...
  drops one severity step and says so; it is never dropped.
- Findings in tests, examples and docs drop one step, so they rank below the code that ships
  (secrets keep their severity wherever they are: a live key in a test is still live)."""

from __future__ import annotations

import re
from collections import defaultdict
from pathlib import PurePosixPath

from shared.review.findings import SEVERITY_ORDER, Finding, Severity
from shared.review.outcome import SourceFile
from shared.review.static.dockerfile import LINT_CODES as HADOLINT_LINT
from shared.review.static.shell import LINT_CODES as SHELLCHECK_LINT
from shared.review.static.workflows import LINT_CODES as ZIZMOR_LINT

MAX_REPEATS = 20
MAX_LISTED_LINES = 40
LINT_PREFIXES = ("SIM", "C4", "E4", "E7", "PERF", "F401", "F811", "F841", "F541", "B007", "B009", "B010")
# shellcheck info/style, hadolint info and pins, zizmor's pedantic audits (their modules list the codes)
LINT_PREFIXES += SHELLCHECK_LINT + HADOLINT_LINT + ZIZMOR_LINT
_SUPPRESSION = re.compile(
    r"(#\s*(noqa|nosec|type:\s*ignore|pragma:\s*no\s*cover)|//\s*(nolint|nosec|NOSONAR)|eslint-disable|@SuppressWarnings|NOSONAR)",
    re.I,
)
_SIDE_DIRS = {"test", "tests", "__tests__", "spec", "specs", "testing", "e2e", "example", "examples", "sample",
              "samples", "demo", "demos", "doc", "docs", "fixtures", "testdata"}  # fmt: skip
_SIDE_NAME = re.compile(r"(^test_.*|.*_test\.\w+$|.*\.(test|spec)\.\w+$|^conftest\.py$|.*Test\.java$)", re.I)


def calibrate(findings: list[Finding], files: list[SourceFile]) -> list[Finding]:
    lines_of = {file.path or None: file.content.split("\n") for file in files}
    adjusted = [_adjust(finding, lines_of.get(finding.file)) for finding in _unique(findings)]
    return _group(adjusted)


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
        elif (same[0].rule or "").startswith(LINT_PREFIXES):
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
