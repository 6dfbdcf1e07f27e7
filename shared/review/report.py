"""The review's markdown where no model wrote one (the static pass's), and the feedback cut to
what the history keeps. The findings' own markdown is coderevai_core.markdown, shared with the CLI;
a review's JSON and SARIF keep every finding."""

from __future__ import annotations

from coderevai_core.findings import Finding
from coderevai_core.markdown import findings_section

from shared.review.static import Coverage

NO_MODEL = "No AI model is configured"


def static_feedback(
    findings: list[Finding], coverage: Coverage, *, lead: int | None = None, why: str = NO_MODEL
) -> str:
    """The whole review without the model (`why` says why); it names what no analyser covered."""
    checked = ", ".join(f"{name} ({count})" for name, count in sorted(coverage.analysed.items()))
    intro = f"## Static review\n\n{why}, so this review comes from the static analysers only"
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
    return f"{intro}\n\n{findings_section(findings, all_checked=not coverage.unchecked, lead=lead)}"


def cut_to(feedback: str, limit: int) -> str:
    """The feedback within `limit` characters (what the history keeps), saying where it was cut."""
    if len(feedback) <= limit:
        return feedback
    note = "\n\n… (cut here: the review is longer than the history keeps; every finding is in `findings`.)"
    return feedback[: limit - len(note)] + note
