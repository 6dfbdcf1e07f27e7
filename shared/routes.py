"""The one table of routes: each path the web app calls (under /api/) -> the function that serves it
and the path that function sees. It drives the one-port local server (scripts/local_server.py), the
load balancer's URL map and the Next.js rewrites (scripts/routes.py, deploy.sh), and openapi.yaml is
checked against it (tests/test_routes.py)."""

from __future__ import annotations

from typing import NamedTuple


class Route(NamedTuple):
    path: str  # what the browser calls, on the front end's own origin
    function: str  # functions/<function>/main.py, entry point <function>
    target: str  # the path the function is handed (its own routing: "/", "/checkout", ...)
    methods: tuple[str, ...]


ROUTES: tuple[Route, ...] = (
    Route("/api/review-code", "review_code", "/", ("POST",)),
    Route("/api/review-repo", "review_repo", "/", ("POST",)),
    Route("/api/generate-diff", "generate_diff", "/", ("POST",)),
    Route("/api/history", "history", "/", ("GET", "POST", "DELETE")),
    Route("/api/history/feedback", "history", "/feedback", ("POST",)),
    Route("/api/subscription", "billing", "/", ("GET",)),
    Route("/api/create-checkout-session", "billing", "/checkout", ("POST",)),
    Route("/api/customer-portal", "billing", "/portal", ("POST",)),
    Route("/api/keys", "keys", "/", ("GET", "POST", "DELETE")),
    Route("/api/health", "health", "/", ("GET",)),
    Route("/api/metrics", "metrics", "/", ("POST",)),
    Route("/api/webhooks/stripe", "stripe_webhook", "/", ("POST",)),
    Route("/api/webhooks/github", "github_webhook", "/", ("POST",)),
    Route("/api/github/install", "github_app", "/install", ("GET",)),
    Route("/api/github/setup", "github_app", "/setup", ("GET",)),
    Route("/api/github/installations", "github_app", "/", ("GET",)),
)


def public_path(function: str, target: str, method: str) -> str | None:
    """The web app's path that reaches `function` at `target` with `method` (the function sees only
    its own path behind the load balancer or rewrites, so its log line names the caller's this way)."""
    target = target.rstrip("/") or "/"
    for route in ROUTES:
        if route.function == function and route.target == target and method in route.methods:
            return route.path
    return None


def function_url_name(function: str) -> str:
    """Cloud Functions gen2 names use dashes: review_code is deployed as review-code."""
    return function.replace("_", "-")


def functions() -> tuple[str, ...]:
    """Every function the table names, each once, in table order."""
    return tuple(dict.fromkeys(route.function for route in ROUTES))
