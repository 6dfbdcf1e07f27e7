"""GitHub's REST API as the pull-request review needs it: the workflow's context from the
environment Actions sets, requests that wait out a rate limit within --max-wait, pages followed,
and the pull request's diff is read through it (coderevai_core.pull_request).
httpx directly rather than PyGithub: six endpoints, and the waits and errors are ours to decide."""

from __future__ import annotations

import json
import os
import re
import time
from typing import NamedTuple

import httpx
from coderevai_core.pull_request import GitHubError

from coderevai import __version__
from coderevai.files import UsageError

_NEXT = re.compile(r'<([^>]+)>;\s*rel="next"')


class Context(NamedTuple):
    api: str
    token: str
    repository: str  # owner/name
    number: int
    head_sha: str | None


def context_from_environment() -> Context:
    """GITHUB_TOKEN, GITHUB_REPOSITORY, the pull request of the event at GITHUB_EVENT_PATH, GITHUB_API_URL."""
    missing = [name for name in ("GITHUB_TOKEN", "GITHUB_REPOSITORY", "GITHUB_EVENT_PATH") if not os.environ.get(name)]
    if missing:
        raise UsageError(
            f"--github-review needs {', '.join(missing)}: run it in a pull_request workflow with "
            "`env: GITHUB_TOKEN: ${{ github.token }}` (and `permissions: pull-requests: write`)."
        )
    try:
        with open(os.environ["GITHUB_EVENT_PATH"], encoding="utf-8") as file:
            event = json.load(file)
    except (OSError, ValueError) as exc:
        raise UsageError(f"cannot read the workflow's event at GITHUB_EVENT_PATH: {exc}") from None
    pull = event.get("pull_request") if isinstance(event, dict) else None
    if not isinstance(pull, dict) or not isinstance(pull.get("number"), int):
        raise UsageError("--github-review runs on a pull_request (or pull_request_target) event: this event has none")
    return Context(
        api=os.environ.get("GITHUB_API_URL", "https://api.github.com").rstrip("/"),
        token=os.environ["GITHUB_TOKEN"],
        repository=os.environ["GITHUB_REPOSITORY"],
        number=pull["number"],
        head_sha=(pull.get("head") or {}).get("sha"),
    )


class GitHub:
    def __init__(self, context: Context, *, max_wait: float) -> None:
        self.context = context
        self.max_wait = max_wait
        self.waited = 0.0
        headers = {
            "Authorization": f"Bearer {context.token}",
            "Accept": "application/vnd.github+json",
            "X-GitHub-Api-Version": "2022-11-28",
            "User-Agent": f"coderevai-cli/{__version__}",
        }
        self.http = httpx.Client(base_url=context.api, headers=headers, timeout=httpx.Timeout(60, connect=10))

    def close(self) -> None:
        self.http.close()

    def repo_path(self, tail: str) -> str:
        return f"/repos/{self.context.repository}/{tail}"

    def call(self, method: str, path: str, **kwargs) -> httpx.Response:
        """The answer to a call, a rate limit waited out first (403/429 with GitHub's rate-limit headers)."""
        while True:
            try:
                response = self.http.request(method, path, **kwargs)
            except httpx.TransportError as exc:
                raise GitHubError(0, f"cannot reach {self.context.api}: {exc or type(exc).__name__}") from None
            delay = _rate_limit_delay(response)
            if delay is None:
                if response.is_success:
                    return response
                raise GitHubError(response.status_code, _message(response))
            if self.waited + delay > self.max_wait:
                raise GitHubError(
                    response.status_code,
                    f"rate limited, and the wait ({delay:g}s) would pass --max-wait {self.max_wait:g}s",
                )
            time.sleep(delay)
            self.waited += delay

    def pages(self, path: str) -> list[dict]:
        """Every item of a listed resource (100 a page, following the Link header's next page)."""
        items: list[dict] = []
        url: str | None = path
        params: dict | None = {"per_page": 100}
        while url:
            response = self.call("GET", url, params=params)
            items += response.json()
            match = _NEXT.search(response.headers.get("Link", ""))
            url, params = (match.group(1), None) if match else (None, None)
        return items


def _rate_limit_delay(response: httpx.Response) -> float | None:
    """Seconds to wait when GitHub says the rate limit is spent (primary: remaining 0 and a reset
    time; secondary: Retry-After), else None. A 403 without them is a refusal, not a limit."""
    if response.status_code not in (403, 429):
        return None
    headers = response.headers
    if retry_after := headers.get("Retry-After"):
        try:
            return max(1.0, float(retry_after))
        except ValueError:
            return 60.0
    if headers.get("X-RateLimit-Remaining") == "0" and (reset := headers.get("X-RateLimit-Reset")):
        try:
            return max(1.0, float(reset) - time.time())
        except ValueError:
            return 60.0
    return 60.0 if response.status_code == 429 else None


def _message(response: httpx.Response) -> str:
    try:
        body = response.json()
    except ValueError:
        return response.reason_phrase
    if not isinstance(body, dict):
        return response.reason_phrase
    errors = body.get("errors")
    detail = f" ({'; '.join(map(str, errors))})" if isinstance(errors, list) and errors else ""
    return f"{body.get('message') or response.reason_phrase}{detail}"
