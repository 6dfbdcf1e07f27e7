"""Findings as markdown, as the server's feedback ends with them (the history keeps only the
markdown, and a front end that renders only `feedback` still shows them) and as the command line
renders a change's kept findings again. A repository review, read by a person, leads with the
findings that matter (most severe, then most certain) and counts the rest per rule."""

from __future__ import annotations

from collections import Counter

from coderevai_core.findings import SEVERITY_ORDER, Finding

MAX_RENDERED = 200
LEADING_FINDINGS = 20  # what a person reads of a repository review before the count per rule
MAX_RENDERED_DISMISSED = 20
FINDINGS_HEADING = "### Findings"


def findings_section(findings: list[Finding], *, all_checked: bool = True, lead: int | None = None) -> str:
    """Every finding (up to MAX_RENDERED) in the given order; with `lead`, the `lead` that matter most
    (by_importance), then a count per rule of the rest."""
    if not findings:
        found = (
            "No issues found." if all_checked else "No issues found in what was checked (see above for what was not)."
        )
        return f"{FINDINGS_HEADING}\n\n{found}"
    counts = Counter(f.severity for f in findings)
    summary = ", ".join(f"{counts[s]} {s}" for s in SEVERITY_ORDER if counts[s])
    lines = [f"{FINDINGS_HEADING} ({summary})", ""]
    if lead is not None and len(findings) > lead:
        ranked = by_importance(findings)
        lines += [item for finding in ranked[:lead] for item in _rendered(finding)]
        lines += ["", *_per_rule(ranked[lead:])]
        return "\n".join(lines)
    lines += [item for finding in findings[:MAX_RENDERED] for item in _rendered(finding)]
    if len(findings) > MAX_RENDERED:
        lines.append(f"- … and {len(findings) - MAX_RENDERED} more in `findings`.")
    return "\n".join(lines)


def by_importance(findings: list[Finding]) -> list[Finding]:
    """Most severe first; within a severity the most certain: confirmed by the model, then seen by
    more analysers; then by file and line."""
    return sorted(
        findings,
        key=lambda f: (
            SEVERITY_ORDER.index(f.severity),
            f.verdict != "confirmed",
            -len(f.analysers),
            f.file or "",
            f.line or 0,
        ),
    )


def dismissed_section(dismissed: list[Finding]) -> str:
    """The static findings the model dismissed, with its reasons ("" when there are none)."""
    if not dismissed:
        return ""
    lines = [f"### Dismissed as false positives by the model ({len(dismissed)})", ""]
    for finding in dismissed[:MAX_RENDERED_DISMISSED]:
        lines.append(f"- {_place_and_title(finding)}: {finding.verdictReason}")
    if len(dismissed) > MAX_RENDERED_DISMISSED:
        lines.append(f"- … and {len(dismissed) - MAX_RENDERED_DISMISSED} more in `dismissed`.")
    return "\n".join(lines)


def _rendered(finding: Finding) -> list[str]:
    confirmed = " (confirmed by the model)" if finding.verdict == "confirmed" else ""
    lines = [f"- **{finding.severity}** · {finding.category}{_place_and_title(finding)}{confirmed}"]
    if finding.suggestion:
        lines.append(f"  - Suggestion: {_inline(finding.suggestion)}")
    return lines


def _place_and_title(finding: Finding) -> str:
    where = ":".join(str(part) for part in (finding.file, finding.line) if part)
    place = f" (line {finding.line})" if finding.line and not finding.file else f" ({where})" if where else ""
    return f"{place}: {finding.title} _[{', '.join(finding.analysers)}]_"


def _per_rule(rest: list[Finding]) -> list[str]:
    """The findings past the lead, counted per rule, the rules with the most severe findings first."""
    rules: dict[str, list[Finding]] = {}
    for finding in rest:
        name = f"{finding.source} {finding.rule}" if finding.rule else f"{finding.source} ({finding.category})"
        rules.setdefault(name, []).append(finding)
    ordered = sorted(rules.items(), key=lambda item: (SEVERITY_ORDER.index(item[1][0].severity), -len(item[1])))
    lines = [f"#### The other {len(rest)} findings, by rule (every one is in `findings`)", "",
             "| rule | findings | most severe | for example |", "|---|---|---|---|"]  # fmt: skip
    for name, same in ordered:
        example = same[0].title.replace("|", "\\|").replace("\n", " ")[:100]
        lines.append(f"| `{name}` | {len(same)} | {same[0].severity} | {example} |")
    return lines


def _inline(text: str) -> str:
    if "\n" not in text:
        return text  # one line: analysers already mark code in it with backticks
    fence = "~~~~" if "```" in text else "```"
    return "\n\n    " + "\n    ".join([fence, *text.splitlines(), fence])


def prose_of(feedback: str) -> str:
    """A batch's feedback without the findings list the engine appends (the merged list replaces it)."""
    head, marker, _ = feedback.rpartition(FINDINGS_HEADING)
    return head.rstrip() if marker else feedback
