"""What a model provider is (shared/review/gemini.py, shared/review/openai_chat.py): it says whether it
is configured and which model it runs, and completes one prompt into the answer's text, asking for
`schema` the way its server understands. Reading that text is not its job (shared/review/answers.py),
nor choosing the provider (shared/review/model.py). Its upstream failures leave it as the ApiErrors
of `status_error`, the same whichever server failed."""

from __future__ import annotations

from typing import NamedTuple, Protocol

from pydantic import BaseModel

from shared.errors import ApiError
from shared.review.outcome import Usage


class Completion(NamedTuple):
    text: str  # the answer as the model wrote it ("" when it wrote none)
    usage: Usage
    model: str  # the model that answered


class Provider(Protocol):
    name: str  # "gemini" or "openai", as MODEL_PROVIDER says

    def configured(self) -> bool: ...

    def model_name(self) -> str: ...

    def complete(self, *, system: str, contents: str, schema: type[BaseModel], max_output_tokens: int) -> Completion:
        """`system` holds our instructions only; everything a user wrote belongs in `contents`."""
        ...


def status_error(status: int, retry_after: str | None = None) -> ApiError:
    """An HTTP status the model's server answered after our retries, as our error."""
    if status == 429:
        return ApiError(
            503,
            "UPSTREAM_UNAVAILABLE",
            "The review model is over capacity right now; try again in a minute.",
            retryable=True,
            headers={"Retry-After": retry_after or "30"},
        )
    if status in (401, 403):
        return ApiError(502, "UPSTREAM_ERROR", "The review model refused our credentials.", retryable=False)
    if status == 503:
        return ApiError(503, "UPSTREAM_UNAVAILABLE", "The review model is unavailable; try again.", retryable=True)
    if 400 <= status < 500 and status != 408:
        return ApiError(502, "UPSTREAM_ERROR", "The review model rejected the request.", retryable=False)
    return ApiError(502, "UPSTREAM_ERROR", "The review model failed; try again.", retryable=True)


def timed_out() -> ApiError:
    return ApiError(503, "UPSTREAM_UNAVAILABLE", "The review model did not answer in time; try again.", retryable=True)


def unreachable() -> ApiError:
    return ApiError(503, "UPSTREAM_UNAVAILABLE", "The review model is unreachable; try again.", retryable=True)
