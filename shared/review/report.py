"""Findings as markdown. The feedback always ends with them, so the history (which keeps only the
markdown) and a front end that renders only `feedback` still show every finding."""

from __future__ import annotations

from collections import Counter

from shared.review.findings import SEVERITY_ORDER, Finding
from shared.review.static import Coverage

MAX_RENDERED = 200
FINDINGS_HEADING = "### Findings"


def findings_section(findings: list[Finding], *, all_checked: bool = True) -> str:
    if not findings:
        found = (
            "No issues found." if all_checked else "No issues found in what was checked (see above for what was not)."
        )
        return f"{FINDINGS_HEADING}\n\n{found}"
    counts = Counter(f.severity for f in findings)
    summary = ", ".join(f"{counts[s]} {s}" for s in SEVERITY_ORDER if counts[s])
    lines = [f"{FINDINGS_HEADING} ({summary})", ""]
    for finding in findings[:MAX_RENDERED]:
        where = ":".join(str(part) for part in (finding.file, finding.line) if part)
        place = f" (line {finding.line})" if finding.line and not finding.file else f" ({where})" if where else ""
        lines.append(f"- **{finding.severity}** · {finding.category}{place}: {finding.title} _[{finding.source}]_")
        if finding.suggestion:
            lines.append(f"  - Suggestion: {_inline(finding.suggestion)}")
    if len(findings) > MAX_RENDERED:
        lines.append(f"- … and {len(findings) - MAX_RENDERED} more in `findings`.")
    return "\n".join(lines)


def static_feedback(findings: list[Finding], coverage: Coverage) -> str:
    """The whole review when no model is configured; it names what no analyser covered."""
    checked = ", ".join(f"{name} ({count})" for name, count in sorted(coverage.analysed.items()))
    intro = "## Static review\n\nNo AI model is configured, so this review comes from the static analysers only"
    intro += (
        f" (files analysed by language: {checked}) and a secrets check on every file."
        if checked
        else ": a secrets check."
    )
    if coverage.unchecked:
        unchecked = ", ".join(f"{name} ({count})" for name, count in sorted(coverage.unchecked.items()))
        intro += (
            f" **Not checked:** no analyser here covers {unchecked}; only the secrets check ran on those files,"
            " so their code was not reviewed."
        )
    if findings:
        intro += " Start with the most severe findings below."
    else:
        intro += " A model review can still catch design and logic issues."
    return f"{intro}\n\n{findings_section(findings, all_checked=not coverage.unchecked)}"


def cut_to(feedback: str, limit: int) -> str:
    """The feedback within `limit` characters (what the history keeps), saying where it was cut."""
    if len(feedback) <= limit:
        return feedback
    note = "\n\n… (cut here: the review is longer than the history keeps; every finding is in `findings`.)"
    return feedback[: limit - len(note)] + note


def _inline(text: str) -> str:
    if "\n" not in text:
        return text  # one line: analysers already mark code in it with backticks
    fence = "~~~~" if "```" in text else "```"
    return "\n\n    " + "\n    ".join([fence, *text.splitlines(), fence])
