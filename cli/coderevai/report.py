"""The answers of several requests merged into one review, written as text, JSON, markdown or SARIF,
and the severities that decide the exit code."""

from __future__ import annotations

import json
from urllib.parse import unquote

from coderevai_core import markdown
from coderevai_core import sarif as sarif_log
from coderevai_core.changed_lines import ChangedLines, about_change, not_shown
from coderevai_core.findings import SEVERITY_ORDER, Finding

from coderevai import annotations

_LEVEL_SEVERITY = {"error": "high", "warning": "medium", "note": "low", "none": "info"}


def _rank(severity: str) -> int:
    return SEVERITY_ORDER.index(severity) if severity in SEVERITY_ORDER else len(SEVERITY_ORDER)


def merge_json(answers: list[dict], skipped: list[dict]) -> dict:
    findings = [finding for answer in answers for finding in answer["findings"]]
    findings.sort(key=lambda f: (_rank(f["severity"]), f.get("file") or "", f.get("line") or 0))
    usage = {key: sum(a["usage"][key] for a in answers) for key in ("promptTokens", "outputTokens", "totalTokens")}
    return {
        "reviewIds": [a["reviewId"] for a in answers],
        "model": answers[0]["model"] if answers else None,
        "findings": findings,
        "reviewedFiles": [path for a in answers for path in a["reviewedFiles"]],
        "skippedFiles": skipped + [s for a in answers for s in a["skippedFiles"]],
        "usage": usage,
        "feedback": [a["feedback"] for a in answers],
        **({"findingsNotShown": sum(a["findingsNotShown"] for a in answers)} if _counted(answers) else {}),
    }


def _counted(answers: list[dict]) -> bool:
    return bool(answers) and all("findingsNotShown" in a for a in answers)


def merge_sarif(logs: list[dict], skipped: list[dict]) -> dict:
    """One run holding every request's results; rules by id (the most severe copy kept)."""
    rules: dict[str, dict] = {}
    results: list[dict] = []
    properties: dict = {"reviewIds": [], "model": None, "reviewedFiles": [], "skippedFiles": list(skipped)}
    for log in logs:
        for run in log["runs"]:
            run_rules = run["tool"]["driver"].get("rules", [])
            for result in run["results"]:
                rule = run_rules[result["ruleIndex"]] if "ruleIndex" in result else {"id": result["ruleId"]}
                known = rules.get(rule["id"])
                if known is None or _rank(_rule_severity(rule)) < _rank(_rule_severity(known)):
                    rules[rule["id"]] = rule
                results.append(result)
            extra = run.get("properties", {})
            if "reviewId" in extra:
                properties["reviewIds"].append(extra["reviewId"])
            properties["model"] = properties["model"] or extra.get("model")
            properties["reviewedFiles"] += extra.get("reviewedFiles", [])
            properties["skippedFiles"] += extra.get("skippedFiles", [])
    order = list(rules)
    for result in results:
        result["ruleIndex"] = order.index(result["ruleId"])
    driver = sarif_log.driver(list(rules.values()))
    run = {"tool": {"driver": driver}, "columnKind": "unicodeCodePoints", "results": results, "properties": properties}
    return {"$schema": sarif_log.SCHEMA, "version": "2.1.0", "runs": [run]}


def with_local(merged: dict, local: list[Finding], sarif: bool, sources: dict[str, str]) -> dict:
    """The review with the findings made on this machine (the secrets check of the files not sent)."""
    if not local:
        return merged
    if sarif:
        run = merged["runs"][0]
        log = merge_sarif([merged, sarif_log.to_sarif(local, sources=sources)], [])
        log["runs"][0]["properties"] = run["properties"]
        return log
    findings = merged["findings"] + [finding.model_dump() for finding in local]
    findings.sort(key=lambda f: (_rank(f["severity"]), f.get("file") or "", f.get("line") or 0))
    return {**merged, "findings": findings}


def near_changes(merged: dict, sarif: bool, changed: ChangedLines, context: int) -> dict:
    """The findings on the lines a change added (or within `context` lines of one), as a pull request
    shows them; a finding with no line, or in a file sent whole, stays. `findingsNotShown` (in
    SARIF, the run's properties) counts the rest, with what each answer left out (`answer_near_changes`)."""

    def kept(path: str | None, line: int | None) -> bool:
        return about_change(path, line, changed, context)

    if not sarif:
        findings = [f for f in merged["findings"] if kept(f.get("file"), f.get("line"))]
        hidden = merged.get("findingsNotShown", 0) + len(merged["findings"]) - len(findings)
        return {**merged, "findings": findings, "findingsNotShown": hidden}
    run = merged["runs"][0]
    results = [r for r in run["results"] if kept(*_place(r))]
    properties = {**run["properties"], "findingsNotShown": _findings_in(run["results"]) - _findings_in(results)}
    return {**merged, "runs": [{**run, "results": results, "properties": properties}]}


def _findings_in(results: list[dict]) -> int:
    """Findings, not results: a grouped finding is one result per line, the model's dismissed ones are none."""
    return len({(r["ruleId"], r["message"]["text"]) for r in results if not r.get("suppressions")})


def answer_near_changes(answer: dict, changed: ChangedLines, context: int) -> dict:
    """One JSON answer told as the change's review: its findings, its dismissed ones and its
    feedback's lists are those near the change, and `findingsNotShown` counts the rest. The
    feedback's prose (the model's, or the static pass's) is kept as the server wrote it."""
    findings = [f for f in answer["findings"] if about_change(f.get("file"), f.get("line"), changed, context)]
    dismissed = [f for f in answer.get("dismissed", []) if about_change(f.get("file"), f.get("line"), changed, context)]
    hidden = len(answer["findings"]) - len(findings)
    told = {**answer, "findings": findings, "dismissed": dismissed, "findingsNotShown": hidden}
    if hidden or len(dismissed) < len(answer.get("dismissed", [])):
        told["feedback"] = _retold(answer["feedback"], findings, dismissed, hidden)
    return told


def _retold(feedback: str, findings: list[dict], dismissed: list[dict], hidden: int) -> str:
    """The feedback with its findings' lists rendered again (as the server renders them) from what was kept."""
    prose = markdown.prose_of(feedback)
    count = [f"{not_shown(hidden)}."] if hidden else []
    if prose == feedback:  # the server cut its feedback before the lists: nothing there to tell again
        return "\n\n".join([feedback, *count])
    kept = [Finding.model_construct(**f) for f in findings]
    listed = (
        markdown.findings_section(kept, lead=markdown.LEADING_FINDINGS)
        if kept
        else f"{markdown.FINDINGS_HEADING}\n\nNo findings on the changed lines."
    )
    dismissed_list = (
        [markdown.dismissed_section([Finding.model_construct(**f) for f in dismissed])] if dismissed else []
    )
    return "\n\n".join([prose, listed, *count, *dismissed_list])


def _place(result: dict) -> tuple[str | None, int | None]:
    location = (result.get("locations") or [{}])[0].get("physicalLocation")
    if not location:
        return None, None
    return unquote(location["artifactLocation"]["uri"]), location.get("region", {}).get("startLine")


def _rule_severity(rule: dict) -> str:
    return rule.get("properties", {}).get("severity", "info")


def as_review(merged: dict, sarif: bool) -> dict:
    """findings, reviewedFiles and skippedFiles, whichever form the review came in."""
    if not sarif:
        # Read as the server wrote it, unvalidated: a newer server's source or field is no error here.
        findings = [{**f, "ruleId": sarif_log.rule_id(Finding.model_construct(**f))} for f in merged["findings"]]
        return {**merged, "findings": findings}
    [run] = merged["runs"]
    findings = []
    for result in run["results"]:
        if result.get("suppressions"):
            continue  # dismissed by the model as a false positive: listed in the log, not a finding
        extra = result.get("properties", {})
        path, line = _place(result)
        text = result["message"]["text"]
        findings.append(
            {
                "severity": extra.get("severity") or _LEVEL_SEVERITY.get(result.get("level", "warning"), "medium"),
                "category": extra.get("category", "general"),
                "title": extra.get("title") or text.split("\n", 1)[0],
                "detail": extra.get("detail") or text,
                "file": path,
                "line": line,
                "source": extra.get("source", result["ruleId"]),
                "rule": extra.get("rule"),
                "ruleId": result["ruleId"],
                "suggestion": extra.get("suggestion"),
            }
        )
    properties = run["properties"]
    return {
        "findings": findings,
        "reviewedFiles": properties["reviewedFiles"],
        "skippedFiles": properties["skippedFiles"],
        **({"findingsNotShown": properties["findingsNotShown"]} if "findingsNotShown" in properties else {}),
    }


def fails(found: list[str], threshold: str) -> bool:
    """A finding at or above the threshold remains ("never": no finding fails the run)."""
    return threshold != "never" and any(_rank(severity) <= _rank(threshold) for severity in found)


def render(merged: dict, fmt: str) -> str:
    if fmt == "github":
        return annotations.render(as_review(merged, False)["findings"])
    if fmt in ("json", "sarif"):
        return json.dumps(merged, indent=2, ensure_ascii=False) + "\n"
    if fmt == "markdown":
        return _markdown(merged)
    return _text(merged)


def summary(merged: dict) -> str:
    counts = {s: 0 for s in SEVERITY_ORDER}
    for finding in merged["findings"]:
        counts[finding["severity"]] = counts.get(finding["severity"], 0) + 1
    shown = ", ".join(f"{n} {s}" for s, n in counts.items() if n)
    total = len(merged["findings"])
    reviewed, skipped = len(merged["reviewedFiles"]), len(merged["skippedFiles"])
    head = f"{total} finding{'s' if total != 1 else ''}" + (f" ({shown})" if shown else "")
    hidden = f"; {not_shown(merged['findingsNotShown'])}" if merged.get("findingsNotShown") else ""
    return f"{head}; {reviewed} file{'s' if reviewed != 1 else ''} reviewed, {skipped} skipped{hidden}."


def _text(merged: dict) -> str:
    lines = []
    for finding in merged["findings"]:
        place = ":".join(str(p) for p in (finding.get("file"), finding.get("line")) if p) or "(general)"
        lines.append(f"{place}: {finding['severity']} [{finding['category']}] {finding['title']} ({finding['source']})")
        if finding.get("suggestion"):
            lines.append(f"    suggestion: {' '.join(finding['suggestion'].split())[:300]}")
    lines.append(summary(merged))
    return "\n".join(lines) + "\n"


def _markdown(merged: dict) -> str:
    parts = ["# CodeRevAI review", summary(merged)]
    parts += [feedback.strip() for feedback in merged["feedback"]]
    if merged["skippedFiles"]:
        listed = "\n".join(f"- `{s['path']}`: {s['reason']}" for s in merged["skippedFiles"])
        parts.append(f"## Skipped files\n\n{listed}")
    return "\n\n".join(parts) + "\n"
