"""GitHub Actions workflows and composite actions: zizmor (pip `zizmor`, a Rust binary in the
wheel), offline, with its pedantic persona (the regular one leaves out `permissions: write-all`).

zizmor rates each finding by severity and confidence; we map both, and sharpen a few:
- template injection (`${{ github.event... }}` expanded into a `run:` script) with high severity and
  confidence, that is attacker-controlled event data, is critical;
- `pull_request_target` is high, critical when the workflow checks out the pull request's head
  (its code then runs with the base repository's secrets);
- an action not pinned to a commit is medium from a third party, low from GitHub's own `actions/`;
- `permissions: write-all` is medium, default permissions low;
- pedantic-only audits (anonymous definitions, concurrency) are lint-level."""

from __future__ import annotations

import json
import re
from pathlib import PurePosixPath

from coderevai_core.findings import SEVERITY_ORDER, Finding, Severity

from shared.review.outcome import SourceFile
from shared.review.static.external import Analyser, tame_name, tool_finding
from shared.review.static.families import ZIZMOR_LINT

_SEVERITY: dict[str, Severity] = {"High": "high", "Medium": "medium", "Low": "low", "Informational": "info"}
_GITHUB_OWNED = re.compile(r"^(uses:\s*)?(actions|github)/")
_HEAD_CHECKOUT = re.compile(r"ref:\s*\$\{\{\s*(github\.event\.pull_request\.head\.|github\.head_ref)")


def _severity(item: dict, feature: str, file: SourceFile) -> Severity:
    ident = item["ident"]
    determined = item.get("determinations") or {}
    severity = _SEVERITY.get(determined.get("severity"), "low")
    confidence = determined.get("confidence")
    if ident in ZIZMOR_LINT:
        return "info"
    if ident == "template-injection" and severity == "high" and confidence == "High":
        return "critical"
    if ident == "dangerous-triggers" and "pull_request_target" in feature + _annotations(item):
        return "critical" if _HEAD_CHECKOUT.search(file.content) else "high"
    if ident in ("unpinned-uses", "unpinned-images"):
        return "low" if _GITHUB_OWNED.match(feature.strip()) else "medium"
    if ident == "excessive-permissions":
        return "medium" if severity == "high" else "low"
    if confidence == "Low":
        return SEVERITY_ORDER[min(SEVERITY_ORDER.index(severity) + 1, len(SEVERITY_ORDER) - 1)]
    return severity


def _annotations(item: dict) -> str:
    return " ".join(location["symbolic"].get("annotation") or "" for location in item.get("locations") or ())


def _primary(item: dict) -> dict:
    locations = item.get("locations") or [{}]
    return next((loc for loc in locations if loc.get("symbolic", {}).get("kind") == "Primary"), locations[0])


def _findings(out: bytes, names: dict[str, SourceFile]) -> list[Finding]:
    found = []
    for item in json.loads(out or b"[]"):
        primary = _primary(item)
        file = names.get(primary["symbolic"]["key"]["Local"]["verbatim_path"])
        if file is None or item.get("ignored"):
            continue
        concrete = primary.get("concrete") or {}
        feature = concrete.get("feature") or ""
        ident = item["ident"]
        note = primary["symbolic"].get("annotation") or ""
        title = f"{item.get('desc') or ident}: {note}" if note else item.get("desc") or ident
        severity = _severity(item, feature, file)
        if severity == "critical" and ident == "dangerous-triggers":
            title = "pull_request_target workflow checks out the pull request's head: its code runs with this repository's secrets"
        category = "best-practices" if ident in ZIZMOR_LINT else "security"
        line = (concrete.get("location") or {}).get("start_point", {}).get("row", -1) + 1
        url = item.get("url") or "https://docs.zizmor.sh/audits/"
        found.append(tool_finding("zizmor", ident, (severity, category), title, url, line, file))
    return found


# zizmor logs each input it audited; one that is not valid YAML, or not a workflow or action by
# GitHub's schema, it skips with a warning (naming the file or not), and with none left it exits 3.
_COMPLETED = re.compile(r"\bcompleted (\S+)\s*$", re.M)


def _read(log: str) -> set[str] | None:
    if "no inputs collected" in log:
        return set()
    return set(_COMPLETED.findall(log)) or None


def _copy_name(file: SourceFile) -> str:
    """zizmor reads `action.yml` as a composite action and any other YAML file as a workflow."""
    name = tame_name(file.path, "workflow.yml")
    return name if PurePosixPath(name).suffix.lower() in (".yml", ".yaml") else name + ".yml"


ZIZMOR = Analyser(
    name="zizmor",
    distribution="zizmor",
    binary="zizmor",
    arguments=(
        "--offline",
        "--no-config",
        "--no-exit-codes",
        "--no-progress",
        "--color",
        "never",
        "--persona",
        "pedantic",
        "--format",
        "json",
    ),  # fmt: skip
    copy_name=_copy_name,
    findings=_findings,
    read=_read,
    unread="could not read it as a workflow or action: not valid YAML, or not GitHub's schema for one",
    ms_per_line=0.15,
)
