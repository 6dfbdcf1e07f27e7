"""The SARIF writer (coderevai_core.sarif) the server and the command line share: a rule of an
analyser that publishes one page a rule links that page."""

from __future__ import annotations

from coderevai_core import sarif
from coderevai_core.findings import Finding


def test_rules_of_analysers_with_a_page_a_rule_link_it():
    shellcheck = Finding(
        severity="medium", category="bugs", title="Double quote to prevent globbing and word splitting.",
        detail="SC2086: Double quote to prevent globbing and word splitting.", line=3, file="deploy.sh",
        source="shellcheck", rule="SC2086",
    )  # fmt: skip
    [rule] = sarif.to_sarif([shellcheck])["runs"][0]["tool"]["driver"]["rules"]
    assert rule["helpUri"] == "https://www.shellcheck.net/wiki/SC2086"
    assert rule["name"] == "DoubleQuoteToPreventGlobbingAndWordSplitting"
    assert "https://www.shellcheck.net/wiki/SC2086" in rule["help"]["markdown"]
