"""Shell scripts, Dockerfiles and GitHub Actions workflows through the real shellcheck, hadolint and
zizmor binaries that their wheels install, as the static pass runs them."""

from __future__ import annotations

import os
import uuid

import pytest

from shared.review import engine
from shared.review import static as static_pass
from shared.review.outcome import SourceFile
from shared.review.static import analyse, coverage, external
from shared.review.static.shell import SHELLCHECK
from tests.conftest import function_client

DEPLOY_SH = """#!/bin/bash
# deploy a release
target=$1
eval "echo deploying $target"
cd $target
rm -rf $target/*
for f in $(ls *.tar.gz); do
  tar xzf "$f"
done
sh -c "$DEPLOY_HOOK"
"""
CLEAN_SH = """#!/bin/sh
set -eu
for name in "$@"; do
  printf '%s\\n' "$name"
done
"""
DOCKERFILE = """FROM python:3.12-slim
RUN apt-get update && apt-get install -y curl
COPY . /app
RUN cd /app && pip install -r requirements.txt
USER root
CMD python /app/main.py
"""
WORKFLOW = """name: ci
on:
  pull_request_target:
    types: [opened]
permissions: write-all
jobs:
  build:
    runs-on: ubuntu-latest
    steps:
      - uses: actions/checkout@v4
        with:
          ref: ${{ github.event.pull_request.head.sha }}
      - uses: some-org/deploy-action@main
      - name: greet
        run: echo "${{ github.event.pull_request.title }}"
"""
PINNED_WORKFLOW = """name: tests
on: push
permissions: {}
concurrency:
  group: tests
jobs:
  test:
    name: test
    runs-on: ubuntu-latest
    steps:
      - uses: actions/checkout@11bd71901bbe5b1630ceea73d27597364c9af683
        with:
          persist-credentials: false
      - name: test
        run: make test
"""


def of(findings, source):
    return {(f.rule, f.line): f for f in findings if f.source == source}


def test_shell_script_gets_shellcheck_findings_and_an_argument_run_by_eval_is_high():
    findings = analyse([SourceFile(path="scripts/deploy.sh", content=DEPLOY_SH)], "")
    shellcheck = of(findings, "shellcheck")
    assert shellcheck[("SC2164", 5)].severity == "low"  # cd without || exit
    assert shellcheck[("SC2115", 6)].severity == "high"  # rm -rf "$target/"* may remove /*
    assert shellcheck[("SC2045", 7)].severity == "medium"  # an error to shellcheck: iterating over ls
    # unquoted variables are lint-level: one info finding for the file, with every line
    [unquoted] = [f for f in findings if f.rule == "SC2086"]
    assert unquoted.severity == "info" and "times in this file" in unquoted.title
    ours = of(findings, "rules")
    assert ours[("shell-command-injection", 4)].severity == "high"  # $target is $1
    assert ours[("shell-command-injection", 10)].severity == "low"  # where $DEPLOY_HOOK comes from is unknown
    assert all(f.file == "scripts/deploy.sh" for f in findings)


def test_clean_script_gets_no_findings_and_an_extensionless_script_is_found_by_its_shebang():
    assert analyse([SourceFile(path="bin/release", content=CLEAN_SH)], "") == []
    [unquoted] = analyse([SourceFile(path="bin/release", content=CLEAN_SH.replace('"$name"', "$name"))], "")
    assert (unquoted.source, unquoted.rule, unquoted.line) == ("shellcheck", "SC2086", 4)
    files = [SourceFile(path="bin/release", content=CLEAN_SH), SourceFile(path="LICENSE", content="MIT\n")]
    assert coverage(files, "") == ({"shell": 1}, {})


def test_dockerfile_gets_hadolint_findings_with_security_and_lint_levels():
    findings = analyse([SourceFile(path="deploy/Dockerfile", content=DOCKERFILE)], "")
    hadolint = of(findings, "hadolint")
    assert (hadolint[("DL3002", 5)].severity, hadolint[("DL3002", 5)].category) == ("medium", "security")
    assert hadolint[("DL3008", 2)].severity == "info"  # version pins are lint-level
    assert hadolint[("DL3025", 6)].severity == "low"  # a warning
    assert ("DL3003", 4) in hadolint and ("DL3042", 4) in hadolint
    assert coverage([SourceFile(path="deploy/Dockerfile", content=DOCKERFILE)], "").analysed == {"dockerfile": 1}


def test_workflow_injection_and_head_checkout_are_critical_and_unpinned_actions_are_not():
    findings = analyse([SourceFile(path=".github/workflows/ci.yml", content=WORKFLOW)], "")
    zizmor = of(findings, "zizmor")
    assert zizmor[("template-injection", 15)].severity == "critical"
    trigger = zizmor[("dangerous-triggers", 3)]
    assert trigger.severity == "critical" and "checks out the pull request's head" in trigger.title
    assert zizmor[("unpinned-uses", 13)].severity == "medium"  # a third party's action on a branch
    assert zizmor[("unpinned-uses", 10)].severity == "low"  # GitHub's own, on a tag
    assert zizmor[("excessive-permissions", 5)].severity == "medium"
    # without the head checkout, pull_request_target stays high
    without = WORKFLOW.replace("        with:\n          ref: ${{ github.event.pull_request.head.sha }}\n", "")
    again = of(analyse([SourceFile(path=".github/workflows/ci.yml", content=without)], ""), "zizmor")
    assert again[("dangerous-triggers", 3)].severity == "high"


def test_pinned_least_privilege_workflow_has_nothing_above_info():
    findings = analyse([SourceFile(path=".github/workflows/tests.yaml", content=PINNED_WORKFLOW)], "")
    assert [f for f in findings if f.severity != "info"] == []


@pytest.mark.parametrize(
    ("language", "content", "kind"),
    [
        ("bash", "cd $1\n", "shell"),
        ("sh", "cd $1\n", "shell"),
        ("dockerfile", DOCKERFILE, "dockerfile"),
        ("yaml", WORKFLOW, "github-actions"),
    ],  # fmt: skip
)
def test_snippets_are_routed_by_their_language_hint(language, content, kind):
    snippet = [SourceFile(path="", content=content)]
    assert coverage(snippet, language).analysed == {kind: 1}
    assert {f.source for f in analyse(snippet, language)} & {"shellcheck", "hadolint", "zizmor"}


def test_yaml_that_is_not_a_workflow_goes_to_no_analyser():
    config = [SourceFile(path="", content="server:\n  port: 8080\n")]
    assert analyse(config, "yaml") == [] and coverage(config, "yaml").analysed == {}
    assert coverage([SourceFile(path="deploy/values.yml", content=WORKFLOW)], "").analysed == {}


def test_an_analyser_over_its_time_limit_leaves_its_files_listed_as_not_checked(settings_env):
    settings_env(STATIC_TOOL_TIMEOUT_SECONDS="0.05")
    # shellcheck takes seconds on a few thousand lines; the Python file's analysers are not cut short
    big = "#!/bin/bash\n" + "".join(f"f{n}() {{\n  cd $1\n  rm -rf $2/*\n  echo $3 | grep $4\n}}\n" for n in range(800))
    files = [SourceFile(path="tools/big.sh", content=big), SourceFile(path="tools/small.sh", content=CLEAN_SH)]
    findings = analyse(files, "")
    assert [(f.file, f.rule, f.severity) for f in findings if f.source == "shellcheck"] == [
        ("tools/big.sh", "not-checked", "info"),
        ("tools/small.sh", "not-checked", "info"),
    ]
    assert coverage(files, "", findings) == ({}, {"shell": 2})
    feedback = engine.static_review(files, language="").feedback
    assert "**Not checked:**" in feedback and "shell (2)" in feedback and "No issues found." not in feedback


def test_an_analyser_with_a_report_larger_than_a_pipe_holds_runs_to_its_end_before_it_is_read(tmp_path):
    # 600 unquoted uses: shellcheck's JSON report is ~150 KB, more than a pipe's 64 KiB
    script = "#!/bin/bash\n" + "".join(f"rm -rf $dir{n}/*\n" for n in range(600))
    run = external.start(SHELLCHECK, [(0, SourceFile(path="clean.sh", content=script))], tmp_path)
    run.process.popen.wait(timeout=30)  # nobody reads its output meanwhile: a pipe would stop it
    assert run.process.output.stat().st_size > 64 * 1024
    found = external.collect_all([run])
    assert len([f for f in found if f.rule == "SC2086"]) == 600


def test_the_analyser_with_the_most_work_keeps_its_priority_and_the_others_yield_the_cpu(tmp_path):
    stages = "".join(f"FROM python:3.12 AS s{n}\nRUN apt-get update && apt-get install -y curl\n" for n in range(300))
    kinds = {
        "shell": [(0, SourceFile(path="run.sh", content=CLEAN_SH))],
        "dockerfile": [(1, SourceFile(path="Dockerfile", content=stages))],
        "github-actions": [(2, SourceFile(path=".github/workflows/ci.yml", content=WORKFLOW))],
    }
    runs = static_pass._start_external(kinds, [], tmp_path)
    own = os.getpriority(os.PRIO_PROCESS, 0)
    priorities = {run.analyser.binary: os.getpriority(os.PRIO_PROCESS, run.process.popen.pid) for run in runs}
    assert [run.analyser.binary for run in runs][0] == "hadolint"  # started first
    assert priorities == {"hadolint": own, "shellcheck": min(own + 19, 19), "zizmor": min(own + 19, 19)}
    assert {f.source for f in external.collect_all(runs)} >= {"hadolint", "zizmor"}
    # when this process's own rules have the most work, every external analyser yields to them
    many_rules = [(SourceFile(path="app.js", content="x = 1;\n" * 100_000), "javascript")]
    runs = static_pass._start_external(kinds, many_rules, tmp_path / "second")
    assert {os.getpriority(os.PRIO_PROCESS, run.process.popen.pid) for run in runs} == {min(own + 19, 19)}
    external.collect_all(runs)


def test_workflows_zizmor_cannot_read_are_listed_as_not_checked_not_as_clean():
    not_a_workflow = WORKFLOW.replace("    steps:", "    stepz:")  # GitHub's schema: no such key
    not_yaml = "name: ci\non: push\njobs:\n  build: [\n"
    files = [
        SourceFile(path=".github/workflows/ci.yml", content=WORKFLOW),
        SourceFile(path=".github/workflows/typo.yml", content=not_a_workflow),
        SourceFile(path=".github/workflows/broken.yml", content=not_yaml),
    ]
    findings = analyse(files, "")
    unread = {f.file for f in findings if f.rule == "not-checked"}
    assert unread == {".github/workflows/typo.yml", ".github/workflows/broken.yml"}
    assert {f.file for f in findings if f.source == "zizmor" and f.rule != "not-checked"} == {
        ".github/workflows/ci.yml"
    }
    assert coverage(files, "", findings) == ({"github-actions": 1}, {"github-actions": 2})
    # with none it can read, zizmor exits 3 with no report: each file is listed, the pass goes on
    alone = analyse(files[1:2], "")
    assert [(f.file, f.rule) for f in alone if f.source == "zizmor"] == [(".github/workflows/typo.yml", "not-checked")]


def test_review_code_endpoint_reviews_a_shell_snippet_offline(db_env):
    client = function_client("review_code")
    code = f'#!/bin/bash\n# {uuid.uuid4().hex}\neval "$1"\ncd $HOME/build\n'
    response = client.post(
        "/",
        json={"code": code, "language": "bash", "reviewModes": ["security"]},
        headers={"X-Dev-User": f"reviewer_{uuid.uuid4().hex[:8]}"},
    )
    assert response.status_code == 200
    found = {(f["source"], f["rule"], f["line"], f["severity"]) for f in response.json["findings"]}
    assert ("rules", "shell-command-injection", 3, "high") in found
    assert ("shellcheck", "SC2164", 4, "low") in found
    assert "shell (1)" in response.json["feedback"] and "Not checked" not in response.json["feedback"]


@pytest.mark.parametrize(
    ("script", "expected"),
    [
        ('target=$1\neval "deploy $target"\n', [(2, "high")]),
        ('local n="$1"\nsh -c "ls ${n}"\n', [(2, "high")]),
        ('bash -c "$2"\n', [(1, "high")]),
        ('. "$1"\n', [(1, "high")]),
        ('eval "$(echo $1)"\n', [(1, "high")]),
        ('eval "$HOOK"\n', [(1, "low")]),
        ('eval "$(ssh-agent -s)"\n', []),  # a fixed command's output: no variable reaches eval
        ("source ./lib.sh\n", []),
        ('echo "$1"\nprintf "%s" "$@"\n', []),
    ],
)
def test_shell_command_injection_needs_a_variable_and_is_high_for_arguments(script, expected):
    findings = analyse([SourceFile(path="run.sh", content=f"#!/bin/bash\n{script}")], "")
    found = [(f.line - 1, f.severity) for f in findings if f.rule == "shell-command-injection"]
    assert found == expected
