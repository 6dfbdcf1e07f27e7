"""Every response a test receives from a function is checked against openapi.yaml (status, body
schema, declared headers), so the document stays true to what the code really answers."""

from __future__ import annotations

import functools
import io

from werkzeug.wrappers import Request

ROOT_DOC = "openapi.yaml"


@functools.cache
def _spec():
    import json

    from openapi_core import Config, OpenAPI

    from tests.conftest import ROOT

    # review-repo answers SARIF (a JSON document) on request; openapi-core reads only application/json as JSON.
    config = Config(extra_media_type_deserializers={"application/sarif+json": json.loads})
    return OpenAPI.from_file_path(str(ROOT / ROOT_DOC), config=config)


@functools.cache
def _documented() -> dict[str, set[str]]:
    import yaml

    from tests.conftest import ROOT

    paths = yaml.safe_load((ROOT / ROOT_DOC).read_text())["paths"]
    return {
        path: {m.upper() for m in ops if m in ("get", "post", "put", "patch", "delete")} for path, ops in paths.items()
    }


def check_response(function: str, response) -> None:
    """Validate one test-client response of `function` as if served under its public path."""
    from openapi_core.contrib.werkzeug import WerkzeugOpenAPIRequest, WerkzeugOpenAPIResponse

    from shared.routes import public_path

    environ = dict(response.request.environ)
    path = public_path(function, environ.get("PATH_INFO") or "/", environ["REQUEST_METHOD"])
    if path is None or environ["REQUEST_METHOD"] not in _documented().get(path, set()):
        return  # OPTIONS preflights and 405s for undocumented methods
    environ.update(PATH_INFO=path, SCRIPT_NAME="", HTTP_HOST="127.0.0.1:8080", SERVER_NAME="127.0.0.1")
    environ["SERVER_PORT"] = "8080"
    environ["wsgi.url_scheme"] = "http"
    # Only the response is checked; the request body was consumed by the function.
    environ.update({"wsgi.input": io.BytesIO(b""), "CONTENT_LENGTH": "0"})
    _spec().validate_response(WerkzeugOpenAPIRequest(Request(environ)), WerkzeugOpenAPIResponse(response))
    assert response.headers.get("X-Request-ID"), f"{path}: no X-Request-ID"
