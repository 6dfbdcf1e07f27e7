"""The OpenAI-compatible provider (shared/review/provider.py): any server speaking OpenAI's
chat-completions API (OpenAI, Azure OpenAI's v1 API, OpenRouter, Ollama, vLLM, LM Studio, most
gateways) through the official `openai` SDK, at OPENAI_BASE_URL with OPENAI_MODEL. The answer's
structure is asked for as OPENAI_RESPONSE_FORMAT says: the JSON schema (`json_schema`), any JSON
(`json_object`) or the prompt alone (`text`); the schema is in the prompt whenever the server is not
given it. The SDK is imported on first use, so functions that never call a model do not load it."""

from __future__ import annotations

import json
import logging
import threading
import time
from typing import TYPE_CHECKING

from pydantic import BaseModel

from shared.config import get_settings
from shared.errors import ApiError
from shared.review.outcome import Usage
from shared.review.provider import Completion, status_error, timed_out, unreachable

if TYPE_CHECKING:
    import openai

log = logging.getLogger("coderevai.review.openai")

name = "openai"
NO_KEY = "unused"  # the SDK insists on a key; local servers (Ollama, vLLM) ignore it
RETRY_STATUSES = frozenset({408, 409, 429, 500, 502, 503, 504})

_client: openai.OpenAI | None = None
_client_key: tuple | None = None
_lock = threading.Lock()


def configured() -> bool:
    return bool(get_settings().openai_model)  # required with MODEL_PROVIDER=openai (shared/config.py)


def model_name() -> str:
    return get_settings().openai_model or ""


def complete(*, system: str, contents: str, schema: type[BaseModel], max_output_tokens: int) -> Completion:
    settings = get_settings()
    shape = settings.openai_response_format
    if shape != "json_schema":
        schema_text = json.dumps(schema.model_json_schema(), ensure_ascii=False)
        system += f"\n\nAnswer with one JSON object matching this JSON schema, and nothing else:\n{schema_text}"
    request = {
        "model": settings.openai_model,
        "messages": [{"role": "system", "content": system}, {"role": "user", "content": contents}],
        # Not max_tokens, which OpenAI's reasoning models refuse; no temperature, which they refuse
        # too unless left at their default.
        "max_completion_tokens": max_output_tokens,
    }
    if shape == "json_schema":
        request["response_format"] = {
            "type": "json_schema",
            # Not strict: OpenAI's strict mode wants every field required, and optional ones are ours.
            "json_schema": {"name": schema.__name__, "schema": schema.model_json_schema(), "strict": False},
        }
    elif shape == "json_object":
        request["response_format"] = {"type": "json_object"}
    response = _with_retries(lambda: _get_client().chat.completions.create(**request))
    choice = response.choices[0] if response.choices else None
    text = (choice.message.content or "") if choice else ""
    if choice is None or choice.finish_reason not in ("stop", None):
        log.warning("model answer ended early (finish reason %s)", choice.finish_reason if choice else "no choices")
    return Completion(text=text, usage=_usage(response.usage), model=response.model or settings.openai_model)


def _with_retries(call):
    """`call`, again on 429, 5xx, timeouts and broken connections, with backoff, within the deadline of
    OPENAI_MAX_ATTEMPTS x OPENAI_TIMEOUT_SECONDS (what deploy.sh sizes the functions' time limits
    from). By hand rather than the SDK's retries, which wait out a server's Retry-After of up to two
    minutes each time and so could outlast the function."""
    settings = get_settings()
    attempts, delay = settings.openai_max_attempts, settings.openai_retry_delay_seconds
    deadline = time.monotonic() + attempts * settings.openai_timeout_seconds
    for attempt in range(1, attempts + 1):
        try:
            return call()
        except Exception as exc:
            wait = _retry_wait(exc, delay)
            if wait is None or attempt == attempts or time.monotonic() + wait > deadline:
                raise _upstream_error(exc) from None
            log.info("model server failed (%s), attempt %d of %d", type(exc).__name__, attempt, attempts)
            time.sleep(wait)
            delay *= 2
    raise AssertionError("unreachable")  # the last attempt returns or raises


def _retry_wait(exc: Exception, backoff: float) -> float | None:
    """Seconds to wait before trying again, or None when trying again cannot help."""
    import openai

    if isinstance(exc, openai.APIStatusError):
        if exc.status_code not in RETRY_STATUSES:
            return None
        after = _retry_after(exc)
        return after if after is not None else backoff
    return backoff if isinstance(exc, openai.APIConnectionError) else None


def _retry_after(exc: openai.APIStatusError) -> float | None:
    headers = exc.response.headers
    for header, unit in (("retry-after-ms", 0.001), ("retry-after", 1.0)):
        try:
            return max(0.0, float(headers[header]) * unit)
        except (KeyError, ValueError):
            continue
    return None


def _get_client() -> openai.OpenAI:
    """One client per instance (connection pooling), rebuilt when the settings change."""
    global _client, _client_key
    settings = get_settings()
    key = (settings.openai_base_url, settings.openai_api_key, settings.openai_timeout_seconds)
    with _lock:
        if _client is None or _client_key != key:
            import openai

            _client = openai.OpenAI(
                base_url=settings.openai_base_url or None,
                api_key=settings.openai_api_key or NO_KEY,
                timeout=settings.openai_timeout_seconds,
                max_retries=0,  # ours, within the deadline (_with_retries)
            )
            _client_key = key
        return _client


def _usage(usage) -> Usage:
    if usage is None:  # some local servers report none
        return Usage()
    prompt, output = usage.prompt_tokens or 0, usage.completion_tokens or 0
    return Usage(promptTokens=prompt, outputTokens=output, totalTokens=usage.total_tokens or prompt + output)


def _upstream_error(exc: Exception) -> ApiError:
    import openai

    if isinstance(exc, openai.APIStatusError):
        log.warning("model server answered %s after retries", exc.status_code)
        return status_error(exc.status_code, exc.response.headers.get("retry-after"))
    if isinstance(exc, openai.APITimeoutError):
        log.warning("model server timed out after retries")
        return timed_out()
    if isinstance(exc, openai.APIConnectionError):
        log.warning("model server unreachable: %s", type(exc).__name__)
        return unreachable()
    log.error("unexpected model client failure: %s", type(exc).__name__)
    return ApiError(502, "UPSTREAM_ERROR", "The review model failed; try again.", retryable=True)
