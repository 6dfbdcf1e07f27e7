"""The core distribution (core/, coderevai_core): it installs alone (the standard library, pydantic,
and for `.coderevai.yml` PyYAML and pathspec, never the server's or the CLI's packages), and the CLI
names it from the same checkout, so `pip install ./cli` and the Action take the core of the same ref."""

from __future__ import annotations

import ast
import subprocess
import sys
import zipfile
from pathlib import Path

import pytest

from tests.conftest import ROOT

CORE = ROOT / "core" / "coderevai_core"


LIGHT = set(sys.stdlib_module_names) | {"__future__", "pydantic", "coderevai_core"}
# Imported inside the functions that read a `.coderevai.yml`, never when a module loads: the
# functions and the command line that read none do not pay for them (tests/test_cold_start.py).
ON_USE = {"yaml", "pathspec"}


def imported(nodes) -> set[str]:
    names = {
        alias.name if isinstance(node, ast.Import) else node.module
        for node in nodes
        if isinstance(node, (ast.Import, ast.ImportFrom))
        for alias in node.names
    }
    return {name.split(".")[0] for name in names if name}


def at_load(tree: ast.Module):
    """The nodes that run when the module loads: all but the bodies of its functions."""
    pending = list(tree.body)
    while pending:
        node = pending.pop()
        yield node
        if not isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef, ast.Lambda)):
            pending += ast.iter_child_nodes(node)


@pytest.mark.parametrize("module", sorted(p.name for p in CORE.glob("*.py")))
def test_the_core_imports_the_standard_library_pydantic_and_itself_only(module):
    tree = ast.parse((CORE / module).read_text())
    assert imported(at_load(tree)) <= LIGHT
    assert imported(ast.walk(tree)) <= LIGHT | ON_USE


def test_the_core_declares_what_it_imports_on_use():
    declared = (ROOT / "core" / "pyproject.toml").read_text().lower()
    assert all(f'"{"pyyaml" if name == "yaml" else name}>=' in declared for name in ON_USE)


def build_wheel(project: str, into: Path) -> zipfile.ZipFile:
    command = [sys.executable, "-m", "pip", "wheel", "--quiet", "--no-deps", "--no-build-isolation", "-w", str(into)]
    done = subprocess.run([*command, str(ROOT / project)], capture_output=True, text=True, timeout=120)
    assert done.returncode == 0, done.stderr[-2000:]
    [wheel] = into.glob("*.whl")
    return zipfile.ZipFile(wheel)


def test_the_cli_names_the_core_of_its_own_checkout(tmp_path):
    wheel = build_wheel("cli", tmp_path / "cli")
    names = wheel.namelist()
    [metadata] = [name for name in names if name.endswith(".dist-info/METADATA")]
    requires = [line for line in wheel.read(metadata).decode().splitlines() if line.startswith("Requires-Dist:")]
    assert f"Requires-Dist: coderevai-core @ {(ROOT / 'core').as_uri()}" in requires
    assert "coderevai/main.py" in names
    assert not [name for name in names if name.startswith("coderevai_core/")]  # its own distribution, not a copy


def test_the_core_wheel_holds_every_module(tmp_path):
    names = build_wheel("core", tmp_path / "core").namelist()
    assert {f"coderevai_core/{p.name}" for p in CORE.glob("*.py")} <= set(names)
