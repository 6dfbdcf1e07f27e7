"""The client's address, for limits per address on routes without sign-in."""

from __future__ import annotations

import flask

from shared.config import get_settings


def client_address(request: flask.Request) -> str:
    """Google's front ends append the address they saw to X-Forwarded-For, after whatever the client
    sent (which it can forge): the client is the TRUSTED_PROXY_HOPS-th entry from the end (1 on
    Cloud Functions/Cloud Run directly, 2 behind the external load balancer, which adds its own)."""
    hops = get_settings().trusted_proxy_hops
    forwarded = [part.strip() for part in request.headers.get("X-Forwarded-For", "").split(",") if part.strip()]
    if forwarded:
        return forwarded[-hops] if len(forwarded) >= hops else forwarded[0]
    return request.remote_addr or "unknown"
