"""A review's findings as a SARIF 2.1.0 log, the format GitHub code scanning and other CI dashboards
read: one run of the tool CodeRevAI, one result per finding (rule id, level, message, file, line).
Findings the model dismissed as false positives are results too, each with a suppression (kind
external, the model's reason as its justification): code scanning shows them as dismissed."""

from __future__ import annotations

import re
from collections.abc import Sequence
from urllib.parse import quote

from shared.review.findings import SEVERITY_ORDER, Finding

MEDIA_TYPE = "application/sarif+json"
SCHEMA = "https://docs.oasis-open.org/sarif/sarif/v2.1.0/errata01/os/schemas/sarif-schema-2.1.0.json"
LEVELS = {"critical": "error", "high": "error", "medium": "warning", "low": "note", "info": "note"}
# GitHub ranks security alerts by a rule's `security-severity` (a CVSS-like score): >= 9 critical,
# >= 7 high, >= 4 medium, else low.
SECURITY_SEVERITY = {"critical": "9.5", "high": "8.0", "medium": "5.5", "low": "3.0", "info": "1.0"}
SECURITY_CATEGORIES = frozenset({"security", "secrets"})
_TOOL_CODE = re.compile(r"^(ruff|bandit) ([A-Za-z0-9-]+)")


def rule_id(finding: Finding) -> str:
    """The analyser's own rule id when it has one (bandit/B307, ruff/S605, rules/python-ssrf,
    secrets/aws-access-key), else source/category."""
    if finding.rule:
        return f"{finding.source}/{_slug(finding.rule)}"
    if match := _TOOL_CODE.match(finding.detail):
        return f"{match.group(1)}/{match.group(2)}"
    return f"{finding.source}/{_slug(finding.category.lower())}"


def _slug(name: str) -> str:
    return re.sub(r"[^A-Za-z0-9]+", "-", name).strip("-") or "general"


def to_sarif(findings: list[Finding], *, properties: dict | None = None, dismissed: Sequence[Finding] = ()) -> dict:
    """The SARIF log of one review; `properties` (the review id, reviewed and skipped files...) go on the run."""
    rules: dict[str, dict] = {}
    results = []
    for finding in [*findings, *dismissed]:
        rid = rule_id(finding)
        rule = rules.setdefault(rid, _rule(rid, finding))
        results.append(_result(finding, rid, list(rules).index(rid)))
        if finding.verdict == "false_positive":
            results[-1]["suppressions"] = [{"kind": "external", "justification": finding.verdictReason or ""}]
        else:
            _raise_severity(rule, finding)
    run: dict = {
        "tool": {
            "driver": {
                "name": "CodeRevAI",
                "informationUri": "https://github.com/vizionik25/CodeRevAI",
                "rules": list(rules.values()),
            }
        },
        "columnKind": "unicodeCodePoints",
        "results": results,
    }
    if properties:
        run["properties"] = properties
    return {"$schema": SCHEMA, "version": "2.1.0", "runs": [run]}


def _rule(rid: str, finding: Finding) -> dict:
    tags = [finding.category] + (["security"] if finding.category in SECURITY_CATEGORIES else [])
    properties: dict = {"tags": list(dict.fromkeys(tags)), "severity": finding.severity}
    if finding.category in SECURITY_CATEGORIES:
        properties["security-severity"] = SECURITY_SEVERITY[finding.severity]
    return {
        "id": rid,
        "name": rid,
        "shortDescription": {"text": f"{finding.source}: {finding.category}"},
        "properties": properties,
    }


def _raise_severity(rule: dict, finding: Finding) -> None:
    """A rule's severity is its most severe result's (what code scanning ranks the alert by)."""
    properties = rule["properties"]
    if SEVERITY_ORDER.index(finding.severity) < SEVERITY_ORDER.index(properties["severity"]):
        properties["severity"] = finding.severity
        if "security-severity" in properties:
            properties["security-severity"] = SECURITY_SEVERITY[finding.severity]


def _result(finding: Finding, rid: str, index: int) -> dict:
    result: dict = {
        "ruleId": rid,
        "ruleIndex": index,
        "level": LEVELS[finding.severity],
        "message": {
            "text": f"{finding.title}\n\n{finding.detail}" if finding.detail != finding.title else finding.title
        },
        "properties": {"severity": finding.severity, "category": finding.category, "source": finding.source},
    }
    if finding.suggestion:
        result["properties"]["suggestion"] = finding.suggestion
    if finding.file:
        location: dict = {"artifactLocation": {"uri": quote(finding.file), "uriBaseId": "%SRCROOT%"}}
        if finding.line:
            location["region"] = {"startLine": finding.line}
        result["locations"] = [{"physicalLocation": location}]
    return result
