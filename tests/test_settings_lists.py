"""Every setting reaches production from one list, the settings class (shared/config.py): deploy.sh
forwards each one (or writes it itself), docs/configuration.md has a row for it and .env.example a
line; and none of them names a variable the class does not read. The tests' isolation list
(conftest.APP_VARIABLES) is the class's own fields."""

from __future__ import annotations

import re

from shared.config import Settings
from tests.conftest import APP_VARIABLES, ROOT

SETTINGS = {name.upper() for name in Settings.model_fields}
# deploy.sh's own variables, not the functions' settings (docs/configuration.md: "deploy.sh only").
DEPLOY_ONLY = {"GOOGLE_CLOUD_REGION", "RUNTIME_SERVICE_ACCOUNT"}
NAME = re.compile(r"\b[A-Z][A-Z0-9]*(?:_[A-Z0-9]+)+\b")


def deploy_list(name: str) -> set[str]:
    script = (ROOT / "deploy.sh").read_text()
    (value,) = re.findall(rf'^{name}="([^"]*)"', script, re.M)
    return set(value.split())


def documented() -> set[str]:
    """The variables in the first column of docs/configuration.md's tables."""
    rows = [line for line in (ROOT / "docs" / "configuration.md").read_text().splitlines() if line.startswith("| ")]
    return {name for row in rows for name in NAME.findall(row.split("|")[1])}


def in_env_example() -> set[str]:
    return set(re.findall(r"^([A-Z][A-Z0-9_]*)=", (ROOT / ".env.example").read_text(), re.M))


def assert_same(listed: set[str], where: str) -> None:
    missing, unknown = sorted(SETTINGS - listed), sorted(listed - SETTINGS)
    assert not missing, f"settings of shared/config.py missing from {where}: {missing}"
    assert not unknown, f"{where} names variables that are no setting of shared/config.py: {unknown}"


def test_deploy_forwards_every_setting_once_and_nothing_else():
    secret, plain, by_deploy = deploy_list("SECRET_VARS"), deploy_list("PLAIN_VARS"), deploy_list("SET_BY_DEPLOY")
    app = deploy_list("APP_PLAIN_VARS")  # the GitHub App's functions only
    lists = (secret, plain, by_deploy, app)
    assert sum(len(one) for one in lists) == len(set().union(*lists)), "a setting in two of deploy.sh's lists"
    assert_same(
        secret | plain | by_deploy | app, "deploy.sh's SECRET_VARS, PLAIN_VARS, APP_PLAIN_VARS and SET_BY_DEPLOY"
    )


def test_the_configuration_page_has_a_row_for_every_setting_and_no_other():
    assert_same(documented(), "docs/configuration.md's table")
    page = (ROOT / "docs" / "configuration.md").read_text()
    deploy_only = page.split("**deploy.sh only**", 1)[1]
    assert all(name in deploy_only for name in DEPLOY_ONLY)


def test_env_example_has_a_line_for_every_setting_and_no_other():
    assert_same(in_env_example() - DEPLOY_ONLY, ".env.example")


def test_tests_isolate_every_setting():
    assert set(APP_VARIABLES) == SETTINGS
