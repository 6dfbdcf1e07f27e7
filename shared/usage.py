"""ApiUsage: one row per handled call, for analytics and cost tracking."""

from __future__ import annotations

import logging

from shared import db
from shared.models.api_usage import ApiUsage

log = logging.getLogger("coderevai.usage")


def record_call(user_id: str, endpoint: str, duration_ms: int, status: int, tokens: int | None) -> None:
    """Best effort: a usage row that cannot be written is logged, never fails the user's request."""
    try:
        with db.session() as session:
            session.add(
                ApiUsage(userId=user_id, endpoint=endpoint, duration=duration_ms, statusCode=status, tokensUsed=tokens)
            )
    except Exception as exc:
        log.warning("usage not recorded: %s", getattr(exc, "code", type(exc).__name__))
