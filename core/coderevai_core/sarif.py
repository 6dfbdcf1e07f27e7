"""A review's findings as a SARIF 2.1.0 log, the format GitHub code scanning and other CI dashboards
read, in the shape GitHub takes as is (SARIF Multitool `validate --rule-kind "Gh;Sarif"`: no error):
one run of the tool CodeRevAI with its version; per rule a friendly name, a short and a full
description, help (why it matters, how to fix) and the analyser's documentation where it has one;
one result per location (a grouped finding, "12 times in this file", is one result per line it
lists), each with a fingerprint that survives the line moving. Findings the model dismissed as
false positives are results too, each with a suppression (kind external, the model's reason as its
justification): code scanning shows them as dismissed.

The server answers with it (review-repo's SARIF), and the `coderevai` client writes it for the
findings it makes on the user's machine."""

from __future__ import annotations

import hashlib
import re
from collections.abc import Sequence
from urllib.parse import quote

from coderevai_core.findings import SEVERITY_ORDER, Finding

MEDIA_TYPE = "application/sarif+json"
SCHEMA = "https://docs.oasis-open.org/sarif/sarif/v2.1.0/errata01/os/schemas/sarif-schema-2.1.0.json"
TOOL_VERSION = "1.1.0"  # of the review's SARIF: raised when rules, results or fingerprints change shape
INFORMATION_URI = "https://github.com/vizionik25/CodeRevAI"
FINGERPRINT = "coderevai/v1"  # partialFingerprints key: rule, file and the line's text, not its number
LEVELS = {"critical": "error", "high": "error", "medium": "warning", "low": "note", "info": "note"}
# GitHub ranks security alerts by a rule's `security-severity` (a CVSS-like score): >= 9 critical,
# >= 7 high, >= 4 medium, else low.
SECURITY_SEVERITY = {"critical": "9.5", "high": "8.0", "medium": "5.5", "low": "3.0", "info": "1.0"}
SECURITY_CATEGORIES = frozenset({"security", "secrets"})
_TOOL_CODE = re.compile(r"^(ruff|bandit) ([A-Za-z0-9-]+)")
_URL = re.compile(r"https?://[^\s)\"'<>]+")
_BANDIT_NAME = re.compile(r"^bandit [A-Z0-9]+ \(([a-z0-9_]+)")
_GROUPED_TITLE = re.compile(r" \(\d+(?: more)? times in this file\)$")
_GROUPED_LINES = re.compile(r"Seen \d+(?: more)? times in this file, on lines ([\d, ]+)")
# Documentation of the analysers that publish one page a rule (bandit and ruff name theirs in the finding).
DOCS = {
    "shellcheck": "https://www.shellcheck.net/wiki/{rule}",
    "hadolint": "https://github.com/hadolint/hadolint/wiki/{rule}",
    "actionlint": "https://github.com/rhysd/actionlint/blob/main/docs/checks.md",
    "zizmor": "https://docs.zizmor.sh/audits/#{rule}",
}
MODEL_HELP = (
    "The model reviewed the code around this line and reports a {category} problem; the result's "
    "message says what it is.",
    "Read the message and the suggestion in the result's properties; apply the change if it holds.",
)


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


def to_sarif(
    findings: list[Finding],
    *,
    properties: dict | None = None,
    sources: dict[str, str] | None = None,
    dismissed: Sequence[Finding] = (),
) -> dict:
    """The SARIF log of one review; `properties` (the review id, reviewed and skipped files...) go on
    the run; `sources` (path -> text, when known) give the fingerprints their lines' text;
    `dismissed` findings become suppressed results."""
    rules: dict[str, dict] = {}
    results = []
    seen: dict[str, int] = {}
    lines_of = {path: text.split("\n") for path, text in (sources or {}).items()}
    for finding in [*findings, *dismissed]:
        rid = rule_id(finding)
        rule = rules.setdefault(rid, _rule(rid, finding))
        if finding.verdict != "false_positive":
            _raise_severity(rule, finding)
        for line in locations(finding):
            result = _result(finding, rid, list(rules).index(rid), line)
            print_ = _fingerprint(rid, finding, line, lines_of.get(finding.file or ""))
            seen[print_] = seen.get(print_, 0) + 1  # the same text twice in a file: told apart by order
            result["partialFingerprints"] = {FINGERPRINT: f"{print_}:{seen[print_]}"}
            if finding.verdict == "false_positive":
                result["suppressions"] = [{"kind": "external", "justification": finding.verdictReason or ""}]
            results.append(result)
    run: dict = {
        "tool": {"driver": driver(list(rules.values()))},
        "columnKind": "unicodeCodePoints",
        "results": results,
    }
    if properties:
        run["properties"] = properties
    return {"$schema": SCHEMA, "version": "2.1.0", "runs": [run]}


def driver(rules: list[dict]) -> dict:
    return {
        "name": "CodeRevAI",
        "version": TOOL_VERSION,
        "semanticVersion": TOOL_VERSION,
        "informationUri": INFORMATION_URI,
        "rules": rules,
    }


def locations(finding: Finding) -> list[int | None]:
    """The lines a finding stands for: each line a grouped finding lists, else its own line."""
    if match := _GROUPED_LINES.search(finding.detail):
        listed = [int(n) for n in re.findall(r"\d+", match.group(1))]
        if listed:
            return list(dict.fromkeys([finding.line, *listed] if finding.line else listed))
    return [finding.line]


def _fingerprint(rid: str, finding: Finding, line: int | None, lines: list[str] | None) -> str:
    """Rule, file and the line's text with its spacing normalised: the same problem keeps its
    fingerprint when lines above it are added or removed (the title stands in when no text is known)."""
    text = lines[line - 1] if lines and line and line <= len(lines) else _GROUPED_TITLE.sub("", finding.title)
    normalised = " ".join(text.split())
    return hashlib.sha256("\0".join((rid, finding.file or "", normalised)).encode()).hexdigest()[:32]


def _rule(rid: str, finding: Finding) -> dict:
    tags = [finding.category] + (["security"] if finding.category in SECURITY_CATEGORIES else [])
    properties: dict = {"tags": list(dict.fromkeys(tags)), "severity": finding.severity}
    if finding.category in SECURITY_CATEGORIES:
        properties["security-severity"] = SECURITY_SEVERITY[finding.severity]
    title, full, why, fix, uri = describe(rid, finding)
    rule: dict = {
        "id": rid,
        "name": _friendly_name(title, rid),
        "shortDescription": {"text": _sentence(title)},
        "fullDescription": {"text": _sentence(full)},
        "help": {
            "text": f"Why it matters: {_sentence(why)} How to fix: {_sentence(fix)}"
            + (f" Documentation: {uri}" if uri else ""),
            "markdown": f"**Why it matters.** {_sentence(why)}\n\n**How to fix.** {_sentence(fix)}"
            + (f"\n\n[Documentation]({uri})" if uri else ""),
        },
        "properties": properties,
    }
    if uri:
        rule["helpUri"] = uri
    return rule


def describe(rid: str, finding: Finding) -> tuple[str, str, str, str, str | None]:
    """(title, full description, why it matters, how to fix, documentation URL) of a finding's rule."""
    title = _GROUPED_TITLE.sub("", finding.title)
    why = _GROUPED_LINES.split(finding.detail)[0].strip() or title
    uri = next(iter(_URL.findall(finding.detail)), None)
    fix = finding.suggestion or (
        "Follow the documentation linked here: it shows the safe form of this code."
        if uri
        else "Change the code as the message describes, or mark the line as reviewed."
    )
    source = finding.source
    if source == "bandit" and (name := _BANDIT_NAME.match(finding.detail)):
        if name.group(1) != "blacklist":  # bandit's blacklist checks share one test name: their text tells them apart
            title = name.group(1).replace("_", " ").capitalize()
        cwe = re.search(r"CWE-\d+", finding.detail)
        why = re.sub(r"\s*See https?://\S+$", "", why.split("): ", 1)[-1]) + (f" ({cwe.group()})" if cwe else "")
    elif source == "ruff" and uri:
        title = uri.rstrip("/").rsplit("/", 1)[-1].replace("-", " ").capitalize()
        why = re.sub(rf"\s*\({re.escape(uri)}\)", "", why).split(": ", 1)[-1]
    elif source == "rules":
        why = why.split(": ", 1)[-1]
    elif source == "secrets":
        kind = finding.rule or "secret"
        title = f"{kind[0].upper()}{kind[1:]} committed"
        why = f"A {kind} in the repository can be used by anyone who can read it, and stays in its history."
    elif source == "model":
        title = f"{finding.category.replace('_', ' ').capitalize()} problem found by the model review"
        why, fix = (text.format(category=finding.category.replace("_", " ")) for text in MODEL_HELP)
    if source in DOCS and finding.rule:
        uri = DOCS[source].format(rule=quote(finding.rule.lower() if source == "zizmor" else finding.rule))
    full = why if source in ("model", "secrets") else f"{title}: {why}"
    return title, full, why, fix, uri


def _friendly_name(title: str, rid: str) -> str:
    """SARIF's friendly name, in Pascal case as the spec's examples are (ProvideRuleFriendlyName)."""
    words = re.findall(r"[A-Za-z0-9]+", title)[:10]
    name = "".join(word[:1].upper() + word[1:] for word in words) or "Finding"
    return name if name != rid else f"{name}Rule"


def _sentence(text: str) -> str:
    text = " ".join(text.split())
    return text if text.endswith((".", "!", "?")) else f"{text}."


def _raise_severity(rule: dict, finding: Finding) -> None:
    """A rule's severity is its most severe result's (what code scanning ranks the alert by)."""
    properties = rule["properties"]
    if SEVERITY_ORDER.index(finding.severity) < SEVERITY_ORDER.index(properties["severity"]):
        properties["severity"] = finding.severity
        if "security-severity" in properties:
            properties["security-severity"] = SECURITY_SEVERITY[finding.severity]


def _result(finding: Finding, rid: str, index: int, line: int | None) -> dict:
    message = f"{finding.title}\n\n{finding.detail}" if finding.detail != finding.title else finding.title
    result: dict = {
        "ruleId": rid,
        "ruleIndex": index,
        "level": LEVELS[finding.severity],
        "message": {"text": _sentence_end(message)},
        "properties": {
            "severity": finding.severity,
            "category": finding.category,
            "source": finding.source,
            "title": finding.title,
            "detail": finding.detail,
        },
    }
    if finding.rule:
        result["properties"]["rule"] = finding.rule
    if finding.suggestion:
        result["properties"]["suggestion"] = finding.suggestion
    if finding.file:
        location: dict = {"artifactLocation": {"uri": quote(finding.file), "uriBaseId": "%SRCROOT%"}}
        if line:
            location["region"] = {"startLine": line}
        result["locations"] = [{"physicalLocation": location}]
    return result


def _sentence_end(text: str) -> str:
    """SARIF messages end with a period (the Multitool's SARIF2001); the text is kept as it is otherwise."""
    return text if text.rstrip().endswith((".", "!", "?")) else f"{text.rstrip()}."
