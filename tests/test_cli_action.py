"""action.yml, the reusable Action: a composite action whose steps set up Python, install this
repository's client and run it; its review step's script, run as Actions runs it (inputs as
environment variables), reviews a branch against the local server in each mode."""

from __future__ import annotations

import json
import re
import subprocess

import pytest
import yaml
from coderevai.main import parser

from tests.conftest import ROOT
from tests.support.cli import SHELL_LINE, VULNERABLE, a_branch, new_key, on_path
from tests.support.sarif_check import assert_valid_sarif

ACTION = yaml.safe_load((ROOT / "action.yml").read_text())


def review_flags() -> set[str]:
    [review] = [
        action for action in parser()._subparsers._group_actions[0].choices.values() if action.prog.endswith("review")
    ]
    return {flag for action in review._actions for flag in action.option_strings}


def test_the_action_is_composite_and_installs_the_client_from_its_own_ref():
    assert ACTION["runs"]["using"] == "composite"
    assert set(ACTION["inputs"]) >= {"api-url", "api-key", "fail-on", "mode", "base-ref"}
    assert ACTION["inputs"]["api-key"]["required"] is True
    steps = ACTION["runs"]["steps"]
    assert steps[0]["uses"].startswith("actions/setup-python@")
    assert 'pip install --disable-pip-version-check --quiet "$GITHUB_ACTION_PATH/cli"' in steps[1]["run"]
    assert all(step.get("shell") == "bash" for step in steps if "run" in step)


def test_the_run_steps_use_real_cli_flags_and_no_input_inside_a_script():
    flags = review_flags()
    for step in ACTION["runs"]["steps"]:
        script = step.get("run", "")
        used = set(re.findall(r"(?<![\w-])(--[a-z][a-z-]+)", script)) - {"--disable-pip-version-check", "--quiet"}
        assert used <= flags, used - flags
        assert "${{" not in script  # inputs reach scripts through env only (no script injection)
    [review] = [step for step in ACTION["runs"]["steps"] if step.get("id") == "review"]
    assert {"--github-review", "--format", "--diff", "--fail-on", "--max-comments", "--context"} <= set(
        re.findall(r"--[a-z-]+", review["run"])
    )


def test_the_guide_leads_with_the_action():
    guide = (ROOT / "docs" / "ci.md").read_text()
    example = (ROOT / "docs" / "examples" / "coderevai-action.yml").read_text()
    workflow = yaml.safe_load(example)
    [uses] = [s for s in workflow["jobs"]["review"]["steps"] if "api-key" in s.get("with", {})]
    assert set(uses["with"]) <= set(ACTION["inputs"])
    assert guide.index("uses: vizionik25/CodeRevAI@main") < guide.index("pip install")
    assert all(
        line.strip() in guide
        for line in example.splitlines()
        if line.strip().startswith(("uses:", "mode:", "api-key:"))
    )


def review_step(server: str, repo, **given: str) -> subprocess.CompletedProcess:
    """The review step's script as Actions runs it: the inputs (defaults, then `given`) as its environment."""
    caller = new_key(server)
    [review] = [step for step in ACTION["runs"]["steps"] if step.get("id") == "review"]
    inputs = {name: str(spec.get("default", "")) for name, spec in ACTION["inputs"].items()}
    inputs.update({"api-url": caller.url, "api-key": caller.key, "base-ref": "main", **given})
    env = on_path(caller)
    for name, value in review["env"].items():
        expression = re.fullmatch(r"\$\{\{ inputs\.([a-z-]+)(?: \|\| .*)? \}\}", value)
        assert expression, value
        env[name] = inputs[expression.group(1)]
    env["GITHUB_OUTPUT"] = str(repo / "github_output")
    return subprocess.run(["bash", "-c", review["run"]], cwd=repo, env=env, capture_output=True, text=True, timeout=120)


@pytest.mark.parametrize("mode", ["annotations", "sarif", "nonsense"])
def test_the_review_step_runs_as_actions_runs_it(server, branch, mode):
    done = review_step(server, branch, mode=mode)
    output = branch / "github_output"
    if mode == "nonsense":
        assert (
            done.returncode == 2 and "::error title=CodeRevAI::mode must be review, sarif or annotations" in done.stdout
        )
        return
    assert done.returncode == 1, done.stderr  # fail-on high by default: the change adds shell=True
    if mode == "annotations":
        assert done.stdout.startswith(f"::error file=app.py,line={SHELL_LINE},")
    else:
        assert output.read_text() == "sarif-file=coderevai.sarif\n"
        log = json.loads((branch / "coderevai.sarif").read_text())
        assert_valid_sarif(log)
        assert {r["ruleId"] for r in log["runs"][0]["results"]} == {"bandit/B602"}


def test_the_base_branchs_fail_on_applies_unless_the_input_says(server, tmp_path):
    """The step's default (`fail-on` empty) defers to .coderevai.yml on the base branch, then high."""
    repo = a_branch(
        tmp_path / "repo",
        {".coderevai.yml": "fail_on: never\n", "app.py": "import subprocess\n"},
        {"app.py": VULNERABLE},  # shell=True, high
    )
    quiet = review_step(server, repo, mode="annotations")
    assert quiet.returncode == 0, quiet.stderr
    assert "reviewing by the rules of main:.coderevai.yml" in quiet.stderr and "::error file=app.py" in quiet.stdout
    assert review_step(server, repo, mode="annotations", **{"fail-on": "high"}).returncode == 1
