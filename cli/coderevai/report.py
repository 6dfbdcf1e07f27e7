"""The answers of several requests merged into one review, written as text, JSON, markdown or SARIF,
and the severities that decide the exit code."""

from __future__ import annotations

import json
from urllib.parse import unquote

SEVERITIES = ("critical", "high", "medium", "low", "info")
SARIF_SCHEMA = "https://docs.oasis-open.org/sarif/sarif/v2.1.0/errata01/os/schemas/sarif-schema-2.1.0.json"
_LEVEL_SEVERITY = {"error": "high", "warning": "medium", "note": "low", "none": "info"}


def _rank(severity: str) -> int:
    return SEVERITIES.index(severity) if severity in SEVERITIES else len(SEVERITIES)


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
    }


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
            properties["reviewIds"].append(extra.get("reviewId"))
            properties["model"] = properties["model"] or extra.get("model")
            properties["reviewedFiles"] += extra.get("reviewedFiles", [])
            properties["skippedFiles"] += extra.get("skippedFiles", [])
    order = list(rules)
    for result in results:
        result["ruleIndex"] = order.index(result["ruleId"])
    driver = {
        "name": "CodeRevAI",
        "informationUri": "https://github.com/vizionik25/CodeRevAI",
        "rules": list(rules.values()),
    }
    run = {"tool": {"driver": driver}, "columnKind": "unicodeCodePoints", "results": results, "properties": properties}
    return {"$schema": SARIF_SCHEMA, "version": "2.1.0", "runs": [run]}


def _rule_severity(rule: dict) -> str:
    return rule.get("properties", {}).get("severity", "info")


def as_review(merged: dict, sarif: bool) -> dict:
    """findings, reviewedFiles and skippedFiles, whichever form the review came in."""
    if not sarif:
        return merged
    [run] = merged["runs"]
    findings = []
    for result in run["results"]:
        if result.get("suppressions"):
            continue  # dismissed by the model as a false positive: listed in the log, not a finding
        extra = result.get("properties", {})
        location = (result.get("locations") or [{}])[0].get("physicalLocation", {})
        findings.append(
            {
                "severity": extra.get("severity") or _LEVEL_SEVERITY.get(result.get("level", "warning"), "medium"),
                "category": extra.get("category", "general"),
                "title": result["message"]["text"].split("\n", 1)[0],
                "file": unquote(location["artifactLocation"]["uri"]) if location else None,
                "line": location.get("region", {}).get("startLine"),
                "source": extra.get("source", result["ruleId"]),
                "suggestion": extra.get("suggestion"),
            }
        )
    properties = run["properties"]
    return {
        "findings": findings,
        "reviewedFiles": properties["reviewedFiles"],
        "skippedFiles": properties["skippedFiles"],
    }


def fails(found: list[str], threshold: str) -> bool:
    """A finding at or above the threshold remains ("never": no finding fails the run)."""
    return threshold != "never" and any(_rank(severity) <= _rank(threshold) for severity in found)


def render(merged: dict, fmt: str) -> str:
    if fmt in ("json", "sarif"):
        return json.dumps(merged, indent=2, ensure_ascii=False) + "\n"
    if fmt == "markdown":
        return _markdown(merged)
    return _text(merged)


def summary(merged: dict) -> str:
    counts = {s: 0 for s in SEVERITIES}
    for finding in merged["findings"]:
        counts[finding["severity"]] = counts.get(finding["severity"], 0) + 1
    shown = ", ".join(f"{n} {s}" for s, n in counts.items() if n)
    total = len(merged["findings"])
    reviewed, skipped = len(merged["reviewedFiles"]), len(merged["skippedFiles"])
    head = f"{total} finding{'s' if total != 1 else ''}" + (f" ({shown})" if shown else "")
    return f"{head}; {reviewed} file{'s' if reviewed != 1 else ''} reviewed, {skipped} skipped."


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
