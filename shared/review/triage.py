"""The model's triage of the static findings. With a model configured, the static findings go to it
as candidates, each with an id; its answer carries a verdict per candidate: confirmed, or
false_positive with a one-line reason. Confirmed ones stay (marked so); dismissed ones leave the
findings for a `dismissed` list, so nothing is lost silently. A verdict for an id we did not send is
ignored, and a candidate without a verdict stays as it was (no verdicts at all keeps every one).

The secrets check's findings are not candidates: the model sees their values masked, so it has
nothing to judge them by; they go to it as context only."""

from __future__ import annotations

import re
from collections.abc import Iterable
from typing import Protocol

from coderevai_core.findings import Finding, Verdict

MAX_REASON_CHARS = 300


class ModelVerdict(Protocol):
    id: str
    verdict: Verdict
    reason: str | None


def is_candidate(finding: Finding) -> bool:
    return finding.source not in ("secrets", "model")


def candidates(found: list[Finding], limit: int) -> dict[str, Finding]:
    """The findings the model is asked to judge, by id ("s1", "s2"...), in `found`'s order: the first
    `limit` (the model's budget for them, shared/review/budget.py); those past it keep no verdict."""
    chosen = [finding for finding in found if is_candidate(finding)][:limit]
    return {f"s{number}": finding for number, finding in enumerate(chosen, start=1)}


def apply(found: list[Finding], verdicts: Iterable[ModelVerdict], limit: int) -> tuple[list[Finding], list[Finding]]:
    """(kept, dismissed): `found` with the model's verdicts on its first `limit` candidates applied. A
    candidate both confirmed and dismissed stays: keeping a real problem matters more than dropping a false one."""
    by_id = candidates(found, limit)
    judged: dict[int, tuple[Verdict, str | None]] = {}
    for verdict in verdicts:
        finding = by_id.get(verdict.id.strip())
        if finding is None:
            continue  # an id we never sent
        key = id(finding)
        if judged.get(key, ("",))[0] != "confirmed":
            judged[key] = (verdict.verdict, verdict.reason)
    kept, dismissed = [], []
    for finding in found:
        if (decision := judged.get(id(finding))) is None:
            kept.append(finding)
        elif decision[0] == "confirmed":
            kept.append(finding.model_copy(update={"verdict": "confirmed"}))
        else:
            reason = one_line(decision[1] or "") or "The model gave no reason."
            dismissed.append(finding.model_copy(update={"verdict": "false_positive", "verdictReason": reason}))
    return kept, dismissed


def one_line(text: str) -> str:
    return re.sub(r"\s+", " ", text).strip()[:MAX_REASON_CHARS]
