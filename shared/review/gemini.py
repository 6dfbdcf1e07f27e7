"""The Gemini provider (shared/review/provider.py): google-genai with the answer's JSON schema as
its response schema, a bounded timeout, bounded retries with backoff on 429/5xx, token usage read
from the response, and upstream failures turned into 502/503 JSON errors (never a 500 with a stack).
google-genai is imported on first use only, so functions that never call the model (history,
billing) do not load it."""

from __future__ import annotations

import logging
import threading
from typing import TYPE_CHECKING

from pydantic import BaseModel

from shared.config import get_settings
from shared.errors import ApiError
from shared.review.outcome import Usage
from shared.review.provider import Completion, status_error, timed_out, unreachable

if TYPE_CHECKING:
    from google import genai

log = logging.getLogger("coderevai.review.gemini")

name = "gemini"
RETRY_STATUSES = [408, 429, 500, 502, 503, 504]
TEMPERATURE = 0.2

_client: genai.Client | None = None
_client_key: tuple | None = None
_lock = threading.Lock()


def configured() -> bool:
    """A key for the Gemini API, or Vertex AI with the instance's own credentials."""
    settings = get_settings()
    return bool(settings.gemini_api_key) or settings.google_genai_use_vertexai


def model_name() -> str:
    return get_settings().gemini_model


def complete(*, system: str, contents: str, schema: type[BaseModel], max_output_tokens: int) -> Completion:
    from google.genai import types

    model = model_name()
    config = types.GenerateContentConfig(
        system_instruction=system,
        response_mime_type="application/json",
        response_schema=schema,
        temperature=TEMPERATURE,
        max_output_tokens=max_output_tokens,
    )
    try:
        response = _get_client().models.generate_content(model=model, contents=contents, config=config)
    except Exception as exc:
        raise _upstream_error(exc) from None
    if not response.text:
        reason = response.candidates[0].finish_reason if response.candidates else "no candidates"
        log.warning("Gemini wrote no answer (finish reason %s)", reason)
    return Completion(text=response.text or "", usage=_usage(response.usage_metadata), model=model)


def _get_client() -> genai.Client:
    """One client per instance (connection pooling), rebuilt when the settings change."""
    global _client, _client_key
    settings = get_settings()
    key = (
        settings.gemini_api_key,
        settings.google_genai_use_vertexai,
        settings.google_cloud_project,
        settings.google_cloud_location,
        settings.gemini_base_url,
        settings.gemini_timeout_seconds,
        settings.gemini_max_attempts,
        settings.gemini_retry_delay_seconds,
    )
    with _lock:
        if _client is None or _client_key != key:
            from google.genai import types

            retry = types.HttpRetryOptions(
                attempts=settings.gemini_max_attempts,
                initial_delay=settings.gemini_retry_delay_seconds,
                max_delay=max(settings.gemini_retry_delay_seconds * 8, 0.001),
                http_status_codes=RETRY_STATUSES,
            )
            options = types.HttpOptions(
                base_url=settings.gemini_base_url,
                timeout=int(settings.gemini_timeout_seconds * 1000),
                retry_options=retry,
            )
            _client, _client_key = new_client(settings, options), key
        return _client


def new_client(settings, http_options) -> genai.Client:
    """Vertex AI (GOOGLE_GENAI_USE_VERTEXAI) with application default credentials (the function's
    service account on Google Cloud: no key to keep or rotate), else the Gemini API with its key."""
    from google import genai

    if settings.google_genai_use_vertexai:
        return genai.Client(
            vertexai=True,
            project=settings.google_cloud_project,
            location=settings.google_cloud_location,
            http_options=http_options,
        )
    return genai.Client(api_key=settings.gemini_api_key, http_options=http_options)


def _usage(metadata) -> Usage:
    if metadata is None:
        return Usage()
    prompt = metadata.prompt_token_count or 0
    output = (metadata.candidates_token_count or 0) + (metadata.thoughts_token_count or 0)
    return Usage(promptTokens=prompt, outputTokens=output, totalTokens=metadata.total_token_count or prompt + output)


def _transport_classes(name: str) -> tuple[type, ...]:
    # google-genai talks through httpx or its fork httpx2, whose classes are unrelated to httpx's.
    import importlib

    found = []
    for module in ("httpx", "httpx2"):
        try:
            found.append(getattr(importlib.import_module(module), name))
        except (ImportError, AttributeError):
            pass
    return tuple(found)


def _is_credentials_failure(exc: Exception) -> bool:
    try:
        from google.auth.exceptions import DefaultCredentialsError, RefreshError
    except ImportError:
        return False
    return isinstance(exc, (DefaultCredentialsError, RefreshError))


def _upstream_error(exc: Exception) -> ApiError:
    from google.genai import errors

    if isinstance(exc, errors.APIError):
        log.warning("Gemini answered %s %s after retries", exc.code, exc.status)
        return status_error(exc.code)
    if _is_credentials_failure(exc):
        # Vertex AI without usable application default credentials: a deployment problem, not the model's.
        log.error("Vertex AI credentials unavailable: %s", type(exc).__name__)
        return ApiError(502, "UPSTREAM_ERROR", "The review model refused our credentials.", retryable=False)
    if isinstance(exc, _transport_classes("TimeoutException")):
        log.warning("Gemini timed out after retries")
        return timed_out()
    if isinstance(exc, _transport_classes("TransportError")):
        log.warning("Gemini unreachable: %s", type(exc).__name__)
        return unreachable()
    log.error("unexpected Gemini client failure: %s", type(exc).__name__)
    return ApiError(502, "UPSTREAM_ERROR", "The review model failed; try again.", retryable=True)
