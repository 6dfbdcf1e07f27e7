"""The one error type every layer raises; shared.http turns it into the JSON error shape.

Code raises a fine-grained `reason` (RATE_LIMITED, GITHUB_UNAVAILABLE, ...); the body's `code` is
the coarser one the web app knows (app/types/errors.ts), so its error display works unchanged:
`{code, message, retryable, details?, reason, error}` (`error` repeats the message for callers
written against the earlier shape)."""

from __future__ import annotations

# The web app's own codes: it shows its message for these and "Request failed" for anything else.
PUBLIC_CODES = frozenset(
    {
        "UNAUTHORIZED",
        "RATE_LIMIT_EXCEEDED",
        "INVALID_INPUT",
        "FILE_TOO_LARGE",
        "REPO_TOO_LARGE",
        "AI_SERVICE_ERROR",
        "GITHUB_API_ERROR",
        "DATABASE_ERROR",
        "PAYMENT_ERROR",
        "VALIDATION_ERROR",
        "NOT_FOUND",
        "INTERNAL_ERROR",
        "SERVICE_UNAVAILABLE",
    }
)

_PUBLIC_CODE = {
    "RATE_LIMITED": "RATE_LIMIT_EXCEEDED",
    "PAYLOAD_TOO_LARGE": "FILE_TOO_LARGE",
    "METHOD_NOT_ALLOWED": "INVALID_INPUT",
    "INVALID_REPO_URL": "INVALID_INPUT",
    "INVALID_SIGNATURE": "INVALID_INPUT",
    "CORS_FORBIDDEN": "UNAUTHORIZED",
    "ORIGIN_FORBIDDEN": "UNAUTHORIZED",
    "REPO_NOT_FOUND": "NOT_FOUND",
    "UPSTREAM_UNAVAILABLE": "AI_SERVICE_ERROR",
    "UPSTREAM_ERROR": "AI_SERVICE_ERROR",
    "MODEL_UNAVAILABLE": "AI_SERVICE_ERROR",
    "GITHUB_ERROR": "GITHUB_API_ERROR",
    "GITHUB_UNAVAILABLE": "GITHUB_API_ERROR",
    "GITHUB_RATE_LIMITED": "GITHUB_API_ERROR",
    "DATABASE_UNAVAILABLE": "DATABASE_ERROR",
    "DATABASE_BUSY": "DATABASE_ERROR",
    "BILLING_DISABLED": "PAYMENT_ERROR",
    "STRIPE_UNAVAILABLE": "PAYMENT_ERROR",
    "STRIPE_ERROR": "PAYMENT_ERROR",
    "ALREADY_SUBSCRIBED": "PAYMENT_ERROR",
    "AUTH_UNAVAILABLE": "SERVICE_UNAVAILABLE",
    "CLERK_UNAVAILABLE": "SERVICE_UNAVAILABLE",
    "INTERNAL": "INTERNAL_ERROR",
}

# A reason not in the table above still gets a code the web app knows, from its status.
_BY_STATUS = {
    400: "INVALID_INPUT",
    401: "UNAUTHORIZED",
    403: "UNAUTHORIZED",
    404: "NOT_FOUND",
    405: "INVALID_INPUT",
    409: "VALIDATION_ERROR",
    413: "FILE_TOO_LARGE",
    422: "VALIDATION_ERROR",
    429: "RATE_LIMIT_EXCEEDED",
    503: "SERVICE_UNAVAILABLE",
}


class ApiError(Exception):
    def __init__(
        self,
        status: int,
        code: str,
        message: str,
        *,
        retryable: bool = False,
        headers: dict[str, str] | None = None,
        details: str | None = None,
        data: dict | None = None,
    ) -> None:
        super().__init__(message)
        self.status = status
        self.code = code  # the fine reason; the body's `code` is public_code()
        self.message = message
        self.retryable = retryable
        self.headers = headers or {}
        self.details = details  # a human string, as the web app shows it
        self.data = data  # structured extras, top-level keys of the body (fields, skippedFiles)

    def public_code(self, too_large: str = "FILE_TOO_LARGE") -> str:
        if self.code in PUBLIC_CODES:
            return self.code
        code = _PUBLIC_CODE.get(self.code) or _BY_STATUS.get(self.status)
        if code is None:
            code = "INTERNAL_ERROR" if self.status <= 500 else "SERVICE_UNAVAILABLE"
        return too_large if code == "FILE_TOO_LARGE" else code

    def body(self, too_large: str = "FILE_TOO_LARGE") -> dict:
        """`too_large` is what an oversize request is called where it is answered: FILE_TOO_LARGE,
        or REPO_TOO_LARGE on a repository review."""
        body = {
            **(self.data or {}),
            "code": self.public_code(too_large),
            "message": self.message,
            "error": self.message,
            "retryable": self.retryable,
            "reason": self.code,
        }
        if self.details:
            body["details"] = self.details
        return body


def invalid_input(message: str, *, details: str | None = None, data: dict | None = None) -> ApiError:
    return ApiError(400, "INVALID_INPUT", message, details=details, data=data)


def unauthorized(message: str = "Sign in to continue.") -> ApiError:
    return ApiError(401, "UNAUTHORIZED", message)


def not_found(message: str) -> ApiError:
    return ApiError(404, "NOT_FOUND", message)


def too_large(what: str, limit_bytes: int) -> ApiError:
    """`maxBytes` states the cap as a number, so a client can split its request to fit it."""
    message = f"{what} is larger than the limit of {limit_bytes} bytes."
    return ApiError(413, "PAYLOAD_TOO_LARGE", message, data={"maxBytes": limit_bytes})


def database_unavailable() -> ApiError:
    return ApiError(503, "DATABASE_UNAVAILABLE", "The database is unreachable; try again shortly.", retryable=True)
