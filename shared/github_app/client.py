"""GitHub's REST API as an installation: every call to GITHUB_API_URL (github.com's API, GitHub
Enterprise's, or the tests' fake) with the installation's token, pages followed, and GitHub's
answers turned into errors the worker can act on: a rate limit or an outage is retryable (the
queue tries again later), a 404 or 403 is final.

Plain httpx rather than githubkit or PyGithub (benchmarks/github_app.py measures the imports):
httpx is already loaded by every function (+0 ms), githubkit adds ~80 ms and its generated models
(and broke on its cache dependency's 2.0 release), PyGithub ~50 ms with `requests` beside httpx and
blocking retries of its own; we call a dozen endpoints, and the waits and errors are ours to decide."""

from __future__ import annotations

import logging
import re
import threading
import time
from typing import Any

import httpx

from shared.config import get_settings
from shared.errors import ApiError
from shared.github_app import auth

log = logging.getLogger("coderevai.github_app.client")

API_VERSION = "2022-11-28"
_NEXT = re.compile(r'<([^>]+)>;\s*rel="next"')
MAX_PAGES = 30  # 3,000 items: a pull request's files stop at 3,000 in GitHub's API anyway

_client: httpx.Client | None = None
_client_for: tuple | None = None
_client_lock = threading.Lock()


class GitHubError(ApiError):
    """A call GitHub refused; `github_status` is its HTTP status (0: not reached)."""

    def __init__(self, github_status: int, message: str, *, retry_after: int | None = None) -> None:
        retryable = github_status in (0, 429) or github_status >= 500 or retry_after is not None
        reason = (
            "GITHUB_RATE_LIMITED" if retry_after is not None else "GITHUB_UNAVAILABLE" if retryable else "GITHUB_ERROR"
        )
        headers = {"Retry-After": str(retry_after)} if retry_after is not None else None
        super().__init__(503 if retryable else 502, reason, message, retryable=retryable, headers=headers)
        self.github_status = github_status


def http() -> httpx.Client:
    """One connection pool per instance, rebuilt when the settings are reloaded (tests)."""
    global _client, _client_for
    settings = get_settings()
    key = (settings.github_api_url, settings.github_timeout_seconds)
    with _client_lock:
        if _client is None or _client_for != key:
            headers = {
                "Accept": "application/vnd.github+json",
                "X-GitHub-Api-Version": API_VERSION,
                "User-Agent": "coderevai-app",
            }
            timeout = httpx.Timeout(settings.github_timeout_seconds, connect=10)
            _client, _client_for = (
                httpx.Client(base_url=settings.github_api_url.rstrip("/"), headers=headers, timeout=timeout),
                key,
            )
        return _client


def call(method: str, path: str, *, token: str, **kwargs: Any) -> httpx.Response:
    """One call with a bearer token (the app JWT or an installation's token)."""
    try:
        headers = {**kwargs.pop("headers", {}), "Authorization": f"Bearer {token}"}
        response = http().request(method, path, headers=headers, **kwargs)
    except httpx.TransportError as exc:
        raise GitHubError(0, f"GitHub is unreachable ({type(exc).__name__})") from None
    if response.is_success:
        return response
    raise GitHubError(response.status_code, _message(response), retry_after=_rate_limit_wait(response))


def installation_token(installation_id: int) -> str:
    token = auth.cached_token(installation_id)
    if token:
        return token
    answer = call("POST", f"/app/installations/{installation_id}/access_tokens", token=auth.app_jwt()).json()
    auth.keep_token(installation_id, answer["token"], answer.get("expires_at"))
    return answer["token"]


class Installation:
    """The API as one installation of the app."""

    def __init__(self, installation_id: int) -> None:
        self.id = installation_id

    def call(self, method: str, path: str, **kwargs: Any) -> httpx.Response:
        try:
            return call(method, path, token=installation_token(self.id), **kwargs)
        except GitHubError as exc:
            if exc.github_status != 401:
                raise
            auth.forget_token(self.id)  # revoked before its time: one more try with a fresh one
            return call(method, path, token=installation_token(self.id), **kwargs)

    def get(self, path: str, **kwargs: Any) -> Any:
        return self.call("GET", path, **kwargs).json()

    def pages(self, path: str, params: dict | None = None) -> list[dict]:
        """Every item of a listed resource, 100 a page, following the Link header."""
        items: list[dict] = []
        url: str | None = path
        query: dict | None = {"per_page": 100, **(params or {})}
        for _ in range(MAX_PAGES):
            response = self.call("GET", url, params=query)
            body = response.json()
            items += body if isinstance(body, list) else body.get("items", [])
            match = _NEXT.search(response.headers.get("Link", ""))
            if not match:
                break
            url, query = match.group(1), None
        return items


def user_pages(path: str, *, token: str, key: str) -> list[dict]:
    """A listed resource under a user's own token (GET /user/installations wraps its list in `key`)."""
    items: list[dict] = []
    url: str | None = path
    query: dict | None = {"per_page": 100}
    for _ in range(MAX_PAGES):
        response = call("GET", url, token=token, params=query)
        items += response.json().get(key, [])
        match = _NEXT.search(response.headers.get("Link", ""))
        if not match:
            break
        url, query = match.group(1), None
    return items


_app_slug: str | None = None


def app_slug() -> str | None:
    """The app's slug (`@slug review`): GITHUB_APP_SLUG, else GitHub's word (GET /app, once)."""
    global _app_slug
    if get_settings().github_app_slug:
        return get_settings().github_app_slug
    if _app_slug is None:
        try:
            _app_slug = call("GET", "/app", token=auth.app_jwt()).json().get("slug")
        except ApiError as exc:  # /coderevai still works; @slug waits for the next comment
            log.warning("cannot read the app's slug: %s", exc.code)
            return None
    return _app_slug


def _rate_limit_wait(response: httpx.Response) -> int | None:
    """Seconds until GitHub takes calls again, when the answer says the rate limit is spent."""
    if response.status_code not in (403, 429):
        return None
    headers = response.headers
    if (retry_after := headers.get("Retry-After", "")).isdigit():
        return max(1, int(retry_after))
    if headers.get("X-RateLimit-Remaining") == "0" and (reset := headers.get("X-RateLimit-Reset", "")).isdigit():
        return max(1, int(reset) - int(time.time()))
    return 60 if response.status_code == 429 else None


def _message(response: httpx.Response) -> str:
    try:
        body = response.json()
    except ValueError:
        body = None
    message = body.get("message") if isinstance(body, dict) else None
    return f"GitHub answered {response.status_code}: {message or response.reason_phrase}"
