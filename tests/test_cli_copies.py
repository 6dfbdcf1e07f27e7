"""The client's copies of server modules (cli/coderevai/secret_scan.py and sarif.py, written by
scripts/sync_cli.py) are the server's modules as they are, import nothing outside the standard
library (but each other), and give the same answers."""

from __future__ import annotations

import ast
import subprocess
import sys

import pytest
from coderevai import sarif as cli_sarif
from coderevai import secret_scan as cli_secret_scan

from scripts import sync_cli
from shared.repo import sarif
from shared.review import secret_scan
from shared.review.findings import Finding
from tests.conftest import ROOT

SAMPLES = {
    ".env": "STRIPE_KEY=sk_live_4fQ9zR2mXk7LpW3vT8nB6yHd\nDEBUG=1\nDB_PASSWORD=changeme\n",
    "config/settings.py": 'API_TOKEN = "ghp_' + "aB3dE5fG7hJ9kL1mN3pQ5rS7tU9vW1xY3zA5" + '"\nname = "x"\n',
    "deploy/values.yaml": "database:\n  url: postgres://app:S3cr3t-Pa55w0rd@db:5432/app\n",
}


def test_the_copies_are_the_server_modules_as_they_are():
    done = subprocess.run([sys.executable, "scripts/sync_cli.py", "--check"], cwd=ROOT, capture_output=True, text=True)
    assert done.returncode == 0, done.stderr
    made = sync_cli.copies()
    assert set(sync_cli.COPIES.values()) <= set(made)
    for copy, text in made.items():
        assert (ROOT / copy).read_text() == text


COPIED = sorted(sync_cli.copies())


@pytest.mark.parametrize("copy", COPIED)
def test_the_copies_import_the_standard_library_only(copy):
    tree = ast.parse((ROOT / copy).read_text())
    imported = [
        alias.name if isinstance(node, ast.Import) else node.module
        for node in ast.walk(tree)
        if isinstance(node, (ast.Import, ast.ImportFrom))
        for alias in node.names
    ]
    siblings = {f"coderevai.{path.rsplit('/', 1)[1][:-3]}" for path in COPIED}
    assert imported
    assert all(name.split(".")[0] in sys.stdlib_module_names or name in siblings | {"__future__"} for name in imported)


def test_a_shared_module_imported_is_copied_beside_and_anything_else_refused(tmp_path):
    (tmp_path / "shared" / "review").mkdir(parents=True)
    (tmp_path / "shared" / "review" / "secret_scan.py").write_text(
        "import re\n\nfrom shared.review.findings import Finding\nfrom shared.review.values import good\n\nX = re\n"
    )
    (tmp_path / "shared" / "review" / "values.py").write_text("import math\n\n\ndef good():\n    return math.pi\n")
    (tmp_path / "shared" / "repo").mkdir()
    (tmp_path / "shared" / "repo" / "sarif.py").write_text("from shared.review.findings import Finding\n")
    made = sync_cli.copies(tmp_path)
    assert set(made) == {
        "cli/coderevai/secret_scan.py", "cli/coderevai/values.py", "cli/coderevai/sarif.py", "cli/coderevai/findings.py"
    }  # fmt: skip
    assert "from coderevai.values import good\n" in made["cli/coderevai/secret_scan.py"]
    assert "from coderevai.findings import Finding\n" in made["cli/coderevai/sarif.py"]
    assert "class Finding:" in made["cli/coderevai/findings.py"] and "import math\n" in made["cli/coderevai/values.py"]

    (tmp_path / "shared" / "review" / "values.py").write_text("import httpx\n")
    with pytest.raises(sync_cli.NotStandalone, match="imports httpx"):
        sync_cli.copies(tmp_path)


@pytest.mark.parametrize("path", SAMPLES)
def test_the_client_finds_the_same_secrets_as_the_server(path):
    text = SAMPLES[path]
    server = [f.model_dump() for f in secret_scan.secret_file_findings(path, text)]
    client = [f.model_dump() for f in cli_secret_scan.secret_file_findings(path, text)]
    assert server and client == server
    assert [f.model_dump() for f in secret_scan.findings(text, path)] == [
        f.model_dump() for f in cli_secret_scan.findings(text, path)
    ]
    assert secret_scan.mask(text, secret_scan.scan(text, path)) == cli_secret_scan.mask(
        text, cli_secret_scan.scan(text, path)
    )


def test_the_client_writes_the_same_sarif_as_the_server():
    findings = [f for path, text in SAMPLES.items() for f in secret_scan.secret_file_findings(path, text)]
    findings.append(Finding(severity="low", category="correctness", title="`os` imported but unused (2 times in this file)",
                            detail="ruff F401: `os` imported but unused (https://docs.astral.sh/ruff/rules/unused-import) Seen 2 times in this file, on lines 1, 4.",
                            line=1, file="a.py", source="ruff", rule="F401"))  # fmt: skip
    sources = {**SAMPLES, "a.py": "import os\n\n\nimport os\n"}
    server = sarif.to_sarif(findings, sources=sources)
    client = cli_sarif.to_sarif([cli_secret_scan.Finding(**f.model_dump()) for f in findings], sources=sources)
    assert client == server
    assert len(server["runs"][0]["results"]) == len(findings) + 1  # the grouped finding: one result per line


def test_rules_of_analysers_with_a_page_a_rule_link_it():
    shellcheck = cli_secret_scan.Finding(
        severity="medium", category="bugs", title="Double quote to prevent globbing and word splitting.",
        detail="SC2086: Double quote to prevent globbing and word splitting.", line=3, file="deploy.sh",
        source="shellcheck", rule="SC2086",
    )  # fmt: skip
    [rule] = cli_sarif.to_sarif([shellcheck])["runs"][0]["tool"]["driver"]["rules"]
    assert rule["helpUri"] == "https://www.shellcheck.net/wiki/SC2086"
    assert rule["name"] == "DoubleQuoteToPreventGlobbingAndWordSplitting"
    assert "https://www.shellcheck.net/wiki/SC2086" in rule["help"]["markdown"]
