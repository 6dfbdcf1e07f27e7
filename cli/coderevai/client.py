"""One review-repo request, with what a CI job needs around it: a clear message for each failure,
waiting out a rate limit (429, Retry-After, up to a bound), and 413 reported (with the cap the server
states) so the caller splits. Every POST carries an Idempotency-Key, the same on each retry of one
request: a retried upload whose first answer was lost is answered from the first run, not run twice."""

from __future__ import annotations

import time
import uuid
from typing import Any

import httpx

SARIF = "application/sarif+json"
RETRIES_WHEN_UNAVAILABLE = 2  # a 502/503 the server marks retryable, or an answer lost on the way


class ServerError(Exception):
    """The review cannot go on (exit code 2); the message says why, with the server's own words."""


class TooLarge(Exception):
    """413: this request is over one of the server's caps; send fewer files at once. `max_bytes`: the
    cap the server states (its JSON's maxBytes), None when the cap is not one of bytes (files)."""

    def __init__(self, message: str, max_bytes: int | None) -> None:
        super().__init__(message)
        self.max_bytes = max_bytes


class NothingToReview(Exception):
    """400: the server skipped every file of the request; `skipped` says why, file by file."""

    def __init__(self, message: str, skipped: list[dict]) -> None:
        super().__init__(message)
        self.skipped = skipped


class Client:
    """`timeout`: a large request's review takes minutes; review-repo is deployed with 900 s."""

    def __init__(self, base_url: str, key: str, *, sarif: bool, max_wait: float, timeout: float = 900) -> None:
        self.url = base_url.rstrip("/") + "/review-repo"
        self.sarif = sarif
        self.max_wait = max_wait
        accept = SARIF if sarif else "application/json"
        headers = {"Authorization": f"Bearer {key}", "Accept": accept, "User-Agent": "coderevai-cli"}
        self.http = httpx.Client(headers=headers, timeout=httpx.Timeout(timeout, connect=10))

    def close(self) -> None:
        self.http.close()

    def review(self, body: dict, on_wait=None) -> dict:
        waited = 0.0
        unavailable = 0
        headers = {"Idempotency-Key": str(uuid.uuid4())}  # one per request, kept across its retries
        while True:
            try:
                response = self.http.post(self.url, json=body, headers=headers)
            except httpx.TransportError as exc:
                if isinstance(exc, httpx.ConnectError) or unavailable >= RETRIES_WHEN_UNAVAILABLE:
                    raise ServerError(f"cannot reach the server at {self.url}: {exc or type(exc).__name__}") from None
                unavailable += 1  # sent, and the answer lost: the same key makes the retry safe
                time.sleep(2**unavailable)
                continue
            if response.status_code == 200:
                return response.json()
            error = _error_of(response)
            message = error.get("message") or error.get("error") or response.reason_phrase
            if response.status_code == 429:
                delay = _retry_after(response)
                if waited + delay > self.max_wait:
                    raise ServerError(
                        f"rate limited (429) and the wait would pass --max-wait {self.max_wait:g}s: {message}"
                    )
                if on_wait:
                    on_wait(delay)
                time.sleep(delay)
                waited += delay
                continue
            if response.status_code in (502, 503) and error.get("retryable") and unavailable < RETRIES_WHEN_UNAVAILABLE:
                unavailable += 1
                time.sleep(2**unavailable)
                continue
            if response.status_code == 413:
                stated = error.get("maxBytes")
                raise TooLarge(message, stated if isinstance(stated, int) and stated > 0 else None)
            if response.status_code == 401:
                raise ServerError(f"the server refused the API key (401): {message} Check CODEREVAI_API_KEY.")
            if response.status_code == 400 and message.startswith("There is no file to review"):
                # A server whose selection rules are newer than this client's: its reasons, file by file.
                raise NothingToReview(message, error.get("skippedFiles") or [])
            code = error.get("code") or "error"
            request_id = response.headers.get("X-Request-ID")
            where = f" (request id {request_id})" if request_id else ""
            raise ServerError(f"the server answered {response.status_code} {code}: {message}{where}")


def _error_of(response: httpx.Response) -> dict[str, Any]:
    try:
        body = response.json()
    except ValueError:
        return {}
    return body if isinstance(body, dict) else {}


def _retry_after(response: httpx.Response) -> float:
    try:
        return max(1.0, float(response.headers.get("Retry-After", "5")))
    except ValueError:
        return 5.0
