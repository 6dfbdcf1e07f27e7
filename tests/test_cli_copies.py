"""The client's copies of server modules (cli/coderevai/secret_scan.py and sarif.py, written by
scripts/sync_cli.py) are the server's modules as they are, import nothing outside the standard
library, and give the same answers."""

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
    for source, copy in sync_cli.COPIES.items():
        assert (ROOT / copy).read_text() == sync_cli.render(source)


@pytest.mark.parametrize("copy", sync_cli.COPIES.values())
def test_the_copies_import_the_standard_library_only(copy):
    tree = ast.parse((ROOT / copy).read_text())
    imported = [
        alias.name if isinstance(node, ast.Import) else node.module
        for node in ast.walk(tree)
        if isinstance(node, (ast.Import, ast.ImportFrom))
        for alias in node.names
    ]
    assert imported and all(name.split(".")[0] in sys.stdlib_module_names or name == "__future__" for name in imported)


def test_a_module_that_imports_more_cannot_be_copied(tmp_path):
    (tmp_path / "shared").mkdir()
    (tmp_path / "shared" / "mod.py").write_text("import httpx\nfrom shared.review.findings import Finding\n")
    with pytest.raises(sync_cli.NotStandalone, match="imports httpx"):
        sync_cli.render("shared/mod.py", tmp_path)
    (tmp_path / "shared" / "mod.py").write_text("import re\n")
    with pytest.raises(sync_cli.NotStandalone, match="no longer imports shared.review.findings"):
        sync_cli.render("shared/mod.py", tmp_path)


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
