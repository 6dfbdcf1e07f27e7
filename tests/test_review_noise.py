"""Less noise, nothing hidden: grouping, caps, calibrated severities, side code ranked lower, and
a review that says what it did not check (real analysers on code we write here)."""

from __future__ import annotations

from shared.review.engine import static_review
from shared.review.outcome import SourceFile
from shared.review.static import analyse


def test_hundreds_of_the_same_lint_finding_become_one_with_count_and_lines():
    code = "".join(f"import mod{n}\n" for n in range(300)) + "print('ready')\n"
    findings = analyse([SourceFile(path="many.py", content=code)], "python")
    unused = [f for f in findings if f.rule == "F401"]
    assert len(unused) == 1
    [grouped] = unused
    assert grouped.line == 1 and "(300 times in this file)" in grouped.title
    assert "on lines 1, 2, 3," in grouped.detail


def test_a_security_finding_repeated_past_the_cap_is_summarised_not_dropped():
    code = "".join(f"def f{n}(x):\n    return eval(x)\n" for n in range(60))
    findings = analyse([SourceFile(path="evals.py", content=code)], "python")
    evals = [f for f in findings if f.rule == "B307"]
    assert len(evals) == 20  # 19 as they are, then one for the other 41
    assert [f.line for f in evals[:19]] == list(range(2, 40, 2))
    assert "(41 more times in this file)" in evals[-1].title and evals[-1].line == 40


def test_an_undefined_name_in_an_annotation_is_not_high():
    code = "def load(path: Path) -> Config:\n    return read(path)\n"
    findings = [f for f in analyse([SourceFile(path="cfg.py", content=code)], "python") if f.rule == "F821"]
    by_name = {f.title.split("`")[1]: f.severity for f in findings}
    assert by_name == {"Path": "medium", "Config": "medium", "read": "high"}


def test_findings_in_tests_rank_below_the_same_finding_in_shipped_code():
    code = "import subprocess\n\ndef run(cmd):\n    subprocess.call(cmd, shell=True)\n"
    files = [SourceFile(path="app/run.py", content=code), SourceFile(path="tests/test_run.py", content=code)]
    shells = {f.file: f for f in analyse(files, "python") if f.rule == "B602"}
    assert shells["app/run.py"].severity == "high"
    assert shells["tests/test_run.py"].severity == "medium"
    assert "test, example or documentation code" in shells["tests/test_run.py"].detail


def test_suppression_comments_lower_a_finding_and_never_hide_it():
    code = "import subprocess\n\ndef run(cmd):\n    subprocess.call(cmd, shell=True)  # nosec B602\n"
    [shell] = [f for f in analyse([SourceFile(path="run.py", content=code)], "python") if f.rule == "B602"]
    assert shell.severity == "medium" and "suppression comment" in shell.detail


def test_secrets_in_tests_are_rated_by_the_secrets_check_as_test_fixtures_not_lowered_again():
    code = "KEY = 'sk_live_R0vRzZ1fb6d06QGofB8ChQBi'\n"
    [leak] = [
        f for f in analyse([SourceFile(path="tests/conftest.py", content=code)], "python") if f.source == "secrets"
    ]
    assert leak.severity == "info" and "test fixture" in leak.detail  # issue 19: a fixture, for information
    assert "one step lower" not in leak.detail


def test_a_language_no_analyser_covers_is_named_never_no_issues():
    code = "func run(cmd: String) {\n  system(cmd)\n}\n"
    outcome = static_review([SourceFile(path="lib/tool.swift", content=code)], language="")
    assert outcome.findings == []
    assert "Not checked" in outcome.feedback and "swift (1)" in outcome.feedback
    assert "No issues found." not in outcome.feedback
    clean = static_review(
        [SourceFile(path="ok.go", content="package ok\n\nfunc Two() int { return 2 }\n")], language=""
    )
    assert "No issues found." in clean.feedback and "Not checked" not in clean.feedback
