"""The routes table drives the local server and the deployed routing; openapi.yaml documents
exactly its paths and methods, and every function it names exists."""

from __future__ import annotations

import yaml

from shared.routes import ROUTES, functions
from tests.conftest import ROOT


def test_openapi_documents_exactly_the_routes_table():
    paths = yaml.safe_load((ROOT / "openapi.yaml").read_text())["paths"]
    documented = {
        (path, method.upper()) for path, ops in paths.items() for method in ops if method in ("get", "post", "delete")
    }
    routed = {(route.path, method) for route in ROUTES for method in route.methods}
    assert documented == routed


def test_every_path_is_under_api_and_routed_once():
    assert all(route.path.startswith("/api/") for route in ROUTES)
    assert len({route.path for route in ROUTES}) == len(ROUTES)
    assert all(route.target.startswith("/") for route in ROUTES)


def test_every_function_named_has_its_entry_point():
    for name in functions():
        main = ROOT / "functions" / name / "main.py"
        assert main.exists(), name
        assert f"def {name}(" in main.read_text()
