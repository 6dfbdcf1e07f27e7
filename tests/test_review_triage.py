"""Precision of the review (issue 19, items 3-6) on real analysers and the fake Gemini: one finding
per problem across analysers, lint chosen by the modes, a repository markdown a person reads, and
the model's triage of the static findings (confirmed, dismissed with a reason, kept without a verdict)."""

from __future__ import annotations

import re
import uuid

from coderevai_core.markdown import LEADING_FINDINGS
from coderevai_core.sarif import to_sarif

from shared.repo.review import review_repository
from shared.review.engine import review_files
from shared.review.outcome import SourceFile
from shared.review.static import analyse
from shared.review.static.families import is_lint
from tests.support.sarif_check import assert_valid_sarif
from tests.support.triage import sent_candidates, triaging

HANDLER = """\
import subprocess
from flask import Flask, request

app = Flask(__name__)


@app.route("/run")
def run():
    return subprocess.call("ls " + request.args["dir"], shell=True)


@app.route("/user")
def user(db):
    return db.execute(
        "SELECT * FROM users WHERE name = '%s'" % request.args["name"]
    )
"""

LINT = """\
import os
import json


def pairs(items):
    out = []
    for item in items:
        out.append(dict(key=item))
    return out


def check(flag):
    if flag == True:
        return eval(flag)
"""


def unique(text: str) -> str:
    return f"# {uuid.uuid4().hex}\n{text}"  # the review cache is shared by the whole run


# --- one finding per problem ----------------------------------------------------------------------


def test_a_password_seen_by_the_secrets_check_and_bandit_is_one_finding_naming_both():
    code = 'DB_PASSWORD = "kV9-db-pass-7Qz"\n\n\ndef connect(host, password="Tr0ub4dor-and-3x"):\n    return host\n'
    found = analyse([unique_file("db.py", code)], "python")
    on = {f.line: f for f in found if f.line in (2, 5)}  # shifted one line by the unique header
    assert set(on) == {2, 5}
    assert [f.line for f in found].count(2) == 1 and [f.line for f in found].count(5) == 1
    for finding in on.values():
        assert finding.source == "secrets" and finding.analysers == ["secrets", "bandit"]
        assert re.search(r"Also reported by bandit B10[57] \(low\)", finding.detail)


def test_a_sink_seen_by_a_rule_and_bandit_is_one_finding_even_across_lines():
    found = analyse([unique_file("app.py", HANDLER)], "python", modes=("security",))
    shell = [f for f in found if "bandit" in f.analysers and f.rule in ("B602", "python-command-injection")]
    assert [(f.line, f.source, f.analysers) for f in shell] == [(10, "rules", ["rules", "bandit"])]
    assert "Also reported by bandit B602" in shell[0].detail
    # The rule anchors at the call (line 15); bandit at the string on the next line: one statement.
    sql = [f for f in found if f.rule in ("B608", "python-sql-built-string")]
    assert [(f.line, f.analysers) for f in sql] == [(15, ["rules", "bandit"])]


def test_different_problems_on_one_line_stay_apart():
    code = "def load(path):\n    try:\n        return open(path).read()\n    except:\n        pass\n"
    found = analyse([unique_file("load.py", code)], "python", modes=("bug_fixes",))
    on_except = sorted((f.source, f.rule) for f in found if f.line == 5)
    assert on_except == [("bandit", "B110"), ("ruff", "E722")]  # swallowing vs a bare except
    assert all(len(f.analysers) == 1 for f in found)


# --- the modes choose the lint --------------------------------------------------------------------


def test_the_modes_choose_which_lint_is_reported_and_never_drop_the_rest():
    file = unique_file("lint.py", LINT)

    def rules(modes):
        return {f.rule for f in analyse([file], "python", modes=modes)}

    everything = rules(None)  # other callers: as before, every family
    assert {"F401", "C408", "PERF401", "E712", "B307"} <= everything
    for modes in (("security",), ("bug_fixes",), ("security", "bug_fixes"), ("production_ready",)):
        assert rules(modes) == {rule for rule in everything if rule in ("B307",)}, modes
    assert rules(("performance",)) == {"C408", "PERF401", "B307"}
    assert rules(("best_practices",)) == everything == rules(("comprehensive",))


def test_a_security_review_carries_no_lint_and_the_cache_keeps_modes_apart(gemini):
    files = [unique_file("lint.py", LINT)]
    security = review_files(files, language="python", modes=["security"])
    practices = review_files(files, language="python", modes=["best_practices"])
    assert len(gemini.calls) == 2  # another mode set is another review, not a cache hit
    assert not any(is_lint(f) for f in security.findings)
    assert {"F401", "C408"} <= {f.rule for f in practices.findings}
    assert not any(c.get("rule") == "F401" for c in sent_candidates(gemini.calls[0]))


# --- the model triages the static findings --------------------------------------------------------


def test_verdicts_confirm_dismiss_and_unknown_ids_are_ignored(gemini):
    def decide(candidates):
        by_rule = {c["rule"]: c["id"] for c in candidates}
        return [
            {"id": by_rule["B307"], "verdict": "confirmed", "reason": None},
            {"id": by_rule["B404"], "verdict": "false_positive", "reason": "Importing subprocess\nis not a risk."},
            {"id": "s999", "verdict": "false_positive", "reason": "no such candidate"},
        ]

    gemini.server.route("POST", "/", triaging(decide))
    code = unique("import subprocess\n\n\ndef run(text):\n    return eval(text), subprocess\n")
    outcome = review_files([file_named("tool.py", code)], language="python", modes=["security"])
    by_rule = {f.rule: f for f in outcome.findings}
    assert by_rule["B307"].verdict == "confirmed"
    assert "B404" not in by_rule
    [dismissed] = outcome.dismissed
    assert (dismissed.rule, dismissed.verdict) == ("B404", "false_positive")
    assert dismissed.verdictReason == "Importing subprocess is not a risk."  # one line
    assert "### Dismissed as false positives by the model (1)" in outcome.feedback
    again = review_files([file_named("tool.py", code)], language="python", modes=["security"])
    assert again.cached and [f.rule for f in again.dismissed] == ["B404"]  # the cache restores them
    assert again.findings == outcome.findings


def test_no_verdicts_keep_every_candidate_and_secrets_are_not_candidates(gemini):
    seen = []
    gemini.server.route("POST", "/", triaging(lambda candidates: seen.extend(candidates) or []))
    code = unique('import subprocess\nTOKEN = "ghp_R0vRzZ1fb6d06QGofB8ChQBiR0vRzZ1fb6d0"\n\nprint(eval(input()))\n')
    outcome = review_files([file_named("tool.py", code)], language="python", modes=["security"])
    assert outcome.dismissed == [] and all(f.verdict is None for f in outcome.findings)
    assert {"B404", "B307"} <= {f.rule for f in outcome.findings}
    assert any(f.source == "secrets" for f in outcome.findings)
    assert [c["id"] for c in seen] == [f"s{n}" for n in range(1, len(seen) + 1)]
    assert all("secrets" not in c["analysers"] for c in seen)  # masked values: nothing to judge
    sent = gemini.user_text()
    assert "<secrets_found>" in sent and "ghp_R0vRzZ1fb6d06QGofB8ChQBi" not in sent


def test_offline_reviews_are_not_triaged(db_env):
    code = unique("import subprocess\n\nprint(eval(input()))\n")
    outcome = review_files([file_named("tool.py", code)], language="python", modes=["security"])
    assert outcome.model == "static" and outcome.dismissed == []
    assert all(f.verdict is None for f in outcome.findings)


def test_a_repository_review_maps_verdicts_back_and_sarif_suppresses_the_dismissed(gemini):
    def decide(candidates):
        return [
            {"id": c["id"], "verdict": "false_positive", "reason": "A constant, not user input."}
            for c in candidates
            if c["rule"] == "B404"
        ]

    gemini.server.route("POST", "/", triaging(decide))
    files = [(f"pkg/m{n}.py", unique(f"import subprocess\n\nprint(eval(input()), {n})\n")) for n in range(3)]
    review = review_repository(files, modes=("security",), custom_prompt=None)
    assert sorted((f.file, f.line) for f in review.dismissed) == [(f"pkg/m{n}.py", 2) for n in range(3)]
    assert not any(f.rule == "B404" for f in review.findings)
    assert {f.file for f in review.findings if f.rule == "B307"} == {f"pkg/m{n}.py" for n in range(3)}

    log = to_sarif(review.findings, dismissed=review.dismissed)
    assert_valid_sarif(log)
    suppressed = [r for r in log["runs"][0]["results"] if "suppressions" in r]
    assert len(suppressed) == 3
    assert suppressed[0]["suppressions"] == [{"kind": "external", "justification": "A constant, not user input."}]
    assert all("suppressions" not in r for r in log["runs"][0]["results"] if r["ruleId"] != "bandit/B404")

    again = review_repository(files, modes=("security",), custom_prompt=None)
    assert again.cached and len(again.dismissed) == 3


# --- a repository review a person reads -----------------------------------------------------------


def test_a_repository_markdown_leads_with_twenty_findings_then_counts_the_rest(db_env):
    files = [(f"app/m{n:02d}.py", unique("import subprocess\n\nprint(eval(input()))\n")) for n in range(30)]
    review = review_repository(files, modes=("security",), custom_prompt=None)
    assert len(review.findings) == 60  # JSON keeps every finding
    listed = [line for line in review.feedback.splitlines() if line.startswith("- **")]
    assert len(listed) == LEADING_FINDINGS
    assert all("ast.literal_eval" in line for line in listed)  # eval (B307) before the import of subprocess
    assert "#### The other 40 findings, by rule" in review.feedback
    assert "| `bandit B404` | 30 | low |" in review.feedback
    assert re.search(r"\| `bandit B307` \| 10 \| (critical|high|medium) \|", review.feedback)


def unique_file(path: str, code: str) -> SourceFile:
    return file_named(path, unique(code))


def file_named(path: str, content: str) -> SourceFile:
    return SourceFile(path=path, content=content)
