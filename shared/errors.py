"""The one error type every layer raises; shared.http turns it into the JSON error shape."""

from __future__ import annotations


class ApiError(Exception):
    def __init__(
        self,
        status: int,
        code: str,
        message: str,
        *,
        retryable: bool = False,
        headers: dict[str, str] | None = None,
        details: dict | None = None,
    ) -> None:
        super().__init__(message)
        self.status = status
        self.code = code
        self.message = message
        self.retryable = retryable
        self.headers = headers or {}
        self.details = details

    def body(self) -> dict:
        body = {"error": self.message, "code": self.code, "retryable": self.retryable}
        if self.details:
            body["details"] = self.details
        return body


def invalid_input(message: str, details: dict | None = None) -> ApiError:
    return ApiError(400, "INVALID_INPUT", message, details=details)


def unauthorized(message: str = "Sign in to continue.") -> ApiError:
    return ApiError(401, "UNAUTHORIZED", message)


def not_found(message: str) -> ApiError:
    return ApiError(404, "NOT_FOUND", message)


def too_large(what: str, limit_bytes: int) -> ApiError:
    return ApiError(413, "PAYLOAD_TOO_LARGE", f"{what} is larger than the limit of {limit_bytes} bytes.")


def database_unavailable() -> ApiError:
    return ApiError(503, "DATABASE_UNAVAILABLE", "The database is unreachable; try again shortly.", retryable=True)
