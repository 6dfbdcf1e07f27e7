"""What an API key looks like: read by sign-in (shared.auth spots a key in the Authorization header)
and by shared.keys (which makes and checks them), so neither imports the other for it."""

from __future__ import annotations

import re
import secrets

API_KEY_PREFIX = "sk_live_"  # noqa: S105  (the prefix of every key, not a key)
KEY_FORMAT = re.compile(re.escape(API_KEY_PREFIX) + r"[0-9a-f]{48}")


def new_key() -> str:
    return API_KEY_PREFIX + secrets.token_hex(24)
