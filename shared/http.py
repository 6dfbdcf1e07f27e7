"""What every HTTP function shares: request ids, CORS, body limits, validation, the error shape,
usage records and one JSON log line per call. A function's main.py wraps its handler in `endpoint`."""

from __future__ import annotations

import functools
import json
import logging
import re
import time
import uuid
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any, NamedTuple, TypeVar

import flask
from pydantic import BaseModel, ValidationError

from shared import logs
from shared.config import get_settings
from shared.errors import ApiError, invalid_input, too_large
from shared.routes import public_path

log = logging.getLogger("coderevai.http")

M = TypeVar("M", bound=BaseModel)
MAX_BODY_BYTES = 1024 * 1024
# Cloud Run (under Cloud Functions gen2) refuses a larger HTTP/1 request body before we see it.
PLATFORM_MAX_BODY_BYTES = 32 * 1024 * 1024
_REQUEST_ID = re.compile(r"^[A-Za-z0-9._\-]{8,128}$")
# A refused request writes no usage row: shedding load must not cost a database write each, and a
# database that is down cannot take one.
_NO_USAGE_ROW = frozenset({"RATE_LIMITED", "DATABASE_UNAVAILABLE", "DATABASE_BUSY"})
_SAFE_METHODS = frozenset({"GET", "HEAD", "OPTIONS"})
_EXPOSED = "X-Request-ID, X-RateLimit-Limit, X-RateLimit-Remaining, X-RateLimit-Reset, Retry-After, Idempotent-Replayed"


@dataclass(eq=False)
class Call:
    """One request as the handler sees it: the parsed pieces plus what it reports back."""

    request: flask.Request
    request_id: str
    path: str
    max_body: int
    user_id: str | None = None
    tokens_used: int | None = None
    headers: dict[str, str] = field(default_factory=dict)
    _body: bytes | None = None

    def body(self) -> bytes:
        if self._body is None:
            length = self.request.content_length
            if length is not None and length > self.max_body:
                raise too_large("The request body", self.max_body)
            data = self.request.stream.read(self.max_body + 1)
            if len(data) > self.max_body:
                raise too_large("The request body", self.max_body)
            self._body = data
        return self._body

    def json(self, model: type[M]) -> M:
        raw = self.body()
        if not raw.strip():
            raise invalid_input("The request body must be a JSON object.")
        try:
            return model.model_validate_json(raw)
        except ValidationError as exc:
            raise validation_error(exc) from None

    def query(self, model: type[M]) -> M:
        try:
            return model.model_validate(self.request.args.to_dict())
        except ValidationError as exc:
            raise validation_error(exc) from None


def validation_error(exc: ValidationError) -> ApiError:
    problems = []
    for error in exc.errors(include_url=False, include_input=False):
        where = ".".join(str(part) for part in error["loc"])
        if error["type"] == "json_invalid":
            return invalid_input("The request body is not valid JSON.")
        problems.append({"field": where, "message": error["msg"]})
    first = problems[0]
    message = f"{first['field']}: {first['message']}" if first["field"] else first["message"]
    details = "; ".join(f"{p['field']}: {p['message']}" if p["field"] else p["message"] for p in problems)
    return invalid_input(f"Invalid input: {message}", details=details, data={"fields": problems})


class Spec(NamedTuple):
    """One function's options, fixed when its module loads. `limit` names the caller's rate limit
    (a route in RATE_LIMITS, shared/config.py), enforced per user after sign-in by shared.ratelimit:
    429 RATE_LIMITED, or X-RateLimit-* headers; `limit_by="address"` counts per client address
    instead (no sign-in needed, plans do not apply); `limit_methods` limits only those methods
    (keys: POST creates, GET and DELETE are free). `too_large` is the web app's code for an
    oversize request here (REPO_TOO_LARGE on review_repo). `api_keys`: `Authorization: Bearer
    sk_live_...` keys sign in too (shared.keys). `idempotent` honours an Idempotency-Key header on
    POST (shared.idempotency)."""

    name: str
    methods: tuple[str, ...]
    authenticated: bool = True
    max_body: int = MAX_BODY_BYTES
    limit: str | None = None
    limit_methods: tuple[str, ...] | None = None
    too_large: str = "FILE_TOO_LARGE"
    limit_by: str = "user"
    api_keys: bool = False
    idempotent: bool = False

    @property
    def path(self) -> str:
        return "/" + self.name.replace("_", "-")

    def limits(self, method: str) -> bool:
        return self.limit is not None and (self.limit_methods is None or method in self.limit_methods)


def endpoint(name: str, **options: Any) -> Callable[[Callable[[Call], Any]], Callable[[flask.Request], flask.Response]]:
    """Wrap a handler `(Call) -> dict | (dict, status) | flask.Response` into an HTTP function;
    `options` are Spec's fields (methods=..., limit=..., ...)."""
    spec = _checked(Spec(name, **options))
    _load(spec)

    def wrap(handler: Callable[[Call], Any]) -> Callable[[flask.Request], flask.Response]:
        @functools.wraps(handler)
        def entry(request: flask.Request) -> flask.Response:
            return handle(spec, handler, request)

        return entry

    return wrap


def _checked(spec: Spec) -> Spec:
    if spec.limit is not None and not spec.authenticated and spec.limit_by != "address":
        raise ValueError("rate limits are per user: `limit` needs authenticated=True or limit_by='address'")
    if spec.idempotent and not spec.authenticated:
        raise ValueError("idempotency keys are per user: `idempotent` needs authenticated=True")
    return spec._replace(methods=tuple(method.upper() for method in spec.methods))


def _load(spec: Spec) -> None:
    """What every call of this function uses, loaded with the endpoint, at start (and an import
    error then stops the instance rather than its first request); the unauthenticated webhook
    loads none of it. API-key sign-in (shared.keys.signin and the ApiKey table, ~4 ms) loads on the
    first request that carries a key: the web app's calls never do."""
    if spec.authenticated:
        from shared.auth import check_jwt_key
        from shared.usage import record_call  # noqa: F401

        check_jwt_key(get_settings())
    if spec.limit is not None:
        from shared.ratelimit import check_route

        check_route(spec.limit)
    if spec.limit_by == "address":
        from shared.addresses import client_address  # noqa: F401


def handle(spec: Spec, handler: Callable[[Call], Any], request: flask.Request) -> flask.Response:
    """One call: the handler's answer or the error's, then the same finish for both."""
    started = time.perf_counter()
    call = Call(request=request, request_id=_request_id(request), path=spec.path, max_body=spec.max_body)
    token = logs.request_id_var.set(call.request_id)
    error: ApiError | None = None
    cors: dict[str, str] = {}
    try:
        settings = get_settings()
        logs.configure(settings.log_level)
        cors = _cors_headers(request, settings)
        response = dispatch(spec, handler, call, settings, cors)
    except ApiError as exc:
        error = exc
    except Exception:
        log.exception("unhandled error in %s", spec.path)
        error = ApiError(
            500, "INTERNAL", "Something went wrong on our side; quote the request id when reporting it.", retryable=True
        )
    if error is not None:
        response = error_answer(error, spec)
    finish(spec, call, response, cors, error, started)
    logs.request_id_var.reset(token)
    return response


def dispatch(
    spec: Spec, handler: Callable[[Call], Any], call: Call, settings: Any, cors: dict[str, str]
) -> flask.Response:
    """Preflight, method, sign-in, rate limit, then the handler (once per Idempotency-Key)."""
    request = call.request
    if request.method == "OPTIONS":
        return _preflight(request, cors, spec.methods)
    if request.method not in spec.methods:
        allowed = ", ".join(spec.methods)
        raise ApiError(
            405,
            "METHOD_NOT_ALLOWED",
            f"{request.method} is not allowed here; use {allowed}.",
            headers={"Allow": f"{allowed}, OPTIONS"},
        )
    if spec.authenticated:
        from shared.auth import authenticate

        _require_allowed_origin(request, settings)
        call.user_id = authenticate(request, api_keys=spec.api_keys)
    if spec.limits(request.method):
        from shared.ratelimit import enforce

        if spec.limit_by == "address":
            from shared.addresses import client_address

            call.headers.update(enforce(spec.limit, client_address(request), plan="free"))
        else:
            call.headers.update(enforce(spec.limit, call.user_id))
    if spec.idempotent and request.method == "POST" and "Idempotency-Key" in request.headers:
        from shared.idempotency import run_once  # on first use: only keyed calls need its table

        return run_once(request, call.user_id, call.body(), lambda: _to_response(handler(call)))
    return _to_response(handler(call))


def error_answer(error: ApiError, spec: Spec) -> flask.Response:
    response = json_response(error.body(spec.too_large), error.status)
    response.headers.update(error.headers)
    return response


def finish(
    spec: Spec, call: Call, response: flask.Response, cors: dict[str, str], error: ApiError | None, started: float
) -> None:
    """The answer's headers, the usage row and the log line, for every answer alike."""
    response.headers.update(call.headers)
    response.headers.update(cors)
    response.headers["X-Request-ID"] = call.request_id
    duration_ms = int((time.perf_counter() - started) * 1000)
    if call.user_id and (error is None or error.code not in _NO_USAGE_ROW):
        from shared.usage import record_call

        record_call(call.user_id, spec.path, duration_ms, response.status_code, call.tokens_used)
    _log_line(spec, call.request, response.status_code, duration_ms, error)


def _log_line(spec: Spec, request: flask.Request, status: int, duration_ms: int, error: ApiError | None) -> None:
    if not log.isEnabledFor(logging.INFO):
        return
    # The caller's /api path (the function sees only its own) beside the function and its path.
    api_path = public_path(spec.name, request.path, request.method) or spec.path
    http_request = {"requestMethod": request.method, "requestUrl": api_path, "status": status}
    fields = {
        "function": spec.name,
        "functionPath": request.path,
        "httpRequest": {**http_request, "latency": f"{duration_ms / 1000:.3f}s"},
        **({"errorCode": error.code} if error else {}),
    }
    message = "%s %s -> %s in %d ms (%s %s)"
    log.info(message, request.method, api_path, status, duration_ms, spec.name, request.path, extra={"fields": fields})


def json_response(body: Any, status: int = 200) -> flask.Response:
    return flask.Response(json.dumps(body, default=str), status=status, mimetype="application/json")


def _to_response(result: Any) -> flask.Response:
    if isinstance(result, flask.Response):
        return result
    if isinstance(result, tuple):
        body, status = result
        return json_response(body, status)
    return json_response(result)


def _request_id(request: flask.Request) -> str:
    given = request.headers.get("X-Request-ID", "")
    return given if _REQUEST_ID.match(given) else uuid.uuid4().hex


def _cors_headers(request: flask.Request, settings: Any) -> dict[str, str]:
    origin = request.headers.get("Origin")
    if not origin:
        return {}
    allowed = _allowed_origins(settings)
    if origin in allowed:
        return {"Access-Control-Allow-Origin": origin, "Vary": "Origin", "Access-Control-Expose-Headers": _EXPOSED}
    if "*" in allowed:
        return {"Access-Control-Allow-Origin": "*", "Access-Control-Expose-Headers": _EXPOSED}
    return {}


def _require_allowed_origin(request: flask.Request, settings: Any) -> None:
    """A browser attaches the `__session` cookie to a request another site makes it send, so a
    state-changing request signed in by that cookie must come from an allowed origin (CSRF).
    A request with an Authorization header carries its credential itself and is exempt."""
    if request.method in _SAFE_METHODS or "Authorization" in request.headers or "__session" not in request.cookies:
        return
    origin = request.headers.get("Origin") or _origin_of(request.headers.get("Referer", ""))
    allowed = _allowed_origins(settings)
    if origin and origin != "null" and (origin in allowed or "*" in allowed):
        return
    raise ApiError(
        403,
        "ORIGIN_FORBIDDEN",
        "A request signed in by cookie must come from an allowed origin (Origin or Referer header).",
    )


def _origin_of(url: str) -> str | None:
    scheme, _, rest = url.partition("://")
    host = rest.split("/", 1)[0]
    return f"{scheme}://{host}" if scheme and host else None


def _allowed_origins(settings: Any) -> list[str]:
    return settings.allowed_origins or ([] if settings.production else ["*"])


def _preflight(request: flask.Request, cors: dict[str, str], allowed: tuple[str, ...]) -> flask.Response:
    if not cors:
        raise ApiError(403, "CORS_FORBIDDEN", "This origin is not allowed to call the API.")
    response = flask.Response(status=204)
    response.headers.update(
        {
            "Access-Control-Allow-Methods": ", ".join((*allowed, "OPTIONS")),
            "Access-Control-Allow-Headers": "Authorization, Content-Type, X-Request-ID, Idempotency-Key",
            "Access-Control-Max-Age": "3600",
        }
    )
    return response
