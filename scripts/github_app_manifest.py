"""Prints the GitHub App manifest (JSON) for one-step app creation with GitHub's manifest flow:
the permissions the app needs (pull requests and checks write, contents read, metadata read), the
events it subscribes to (pull_request, issue_comment; `installation` events reach every app without
a subscription), the webhook URL and the setup redirect that links an installation to a user.

    python scripts/github_app_manifest.py --webhook-url URL --setup-url URL [--name N] [--homepage URL]

Only the standard library: deploy.sh runs this with whatever python3 the deploying machine has.
"""

from __future__ import annotations

import argparse
import json

PERMISSIONS = {"pull_requests": "write", "checks": "write", "contents": "read", "metadata": "read"}
EVENTS = ["pull_request", "issue_comment"]


def manifest(webhook_url: str, setup_url: str, *, name: str, homepage: str) -> dict:
    return {
        "name": name,
        "url": homepage,
        "hook_attributes": {"url": webhook_url, "active": True},
        # With OAuth during installation GitHub sends the browser to the callback URL (not a setup
        # URL) with `installation_id` and the installing user's `code`: linking verifies with both.
        "request_oauth_on_install": True,
        "callback_urls": [setup_url],
        "public": False,
        "default_permissions": PERMISSIONS,
        "default_events": EVENTS,
    }


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--webhook-url", required=True)
    parser.add_argument("--setup-url", required=True)
    parser.add_argument("--name", default="CodeRevAI")
    parser.add_argument("--homepage", default="https://github.com/vizionik25/CodeRevAI")
    args = parser.parse_args(argv)
    print(json.dumps(manifest(args.webhook_url, args.setup_url, name=args.name, homepage=args.homepage), indent=2))


if __name__ == "__main__":
    main()
