"""Finished reviews shared by every instance (the ReviewCache table), for a bounded time. The key
covers everything that shapes a review: the files, language, modes, custom prompt, model and prompt
version. Best effort both ways: a cache that cannot be read or written never fails a review."""

from __future__ import annotations

import hashlib
import json
import logging
from datetime import timedelta

import sqlalchemy as sa
from sqlalchemy.exc import SQLAlchemyError
from sqlmodel import col

from shared import db
from shared.config import get_settings
from shared.errors import ApiError
from shared.models import utcnow
from shared.models.review_cache import ReviewCache
from shared.review.outcome import ReviewOutcome, SourceFile, Usage
from shared.review.prompts import PROMPT_VERSION

log = logging.getLogger("coderevai.review.cache")


def cache_key(
    files: list[SourceFile],
    language: str,
    modes: tuple[str, ...],
    custom_prompt: str | None,
    model: str,
    **more: object,
) -> str:
    """`more`: whatever else shapes the answer (a repository review adds its budget, for one)."""
    request = {
        "files": [[file.path, hashlib.sha256(file.content.encode()).hexdigest()] for file in files],
        "language": language.strip().lower(),
        "modes": list(modes),
        "customPrompt": custom_prompt or "",
        "model": model,
        "promptVersion": PROMPT_VERSION,
        **more,
    }
    return hashlib.sha256(json.dumps(request, sort_keys=True).encode()).hexdigest()


def lookup(key: str) -> ReviewOutcome | None:
    """The cached review, marked cached and costing 0 tokens; None when absent or expired."""
    if get_settings().review_cache_ttl_seconds == 0:
        return None
    table = ReviewCache.__table__
    try:
        with db.statement(own=True) as session:  # one indexed read, outside any request transaction
            response = session.execute(
                sa.select(table.c.response).where(table.c.key == key, table.c.expiresAt > utcnow())
            ).scalar()
        if response is None:
            return None
        stored = ReviewOutcome.model_validate_json(response)
    except (ApiError, SQLAlchemyError, ValueError) as exc:
        log.warning("review cache unreadable: %s", type(exc).__name__)
        return None
    return stored.model_copy(update={"cached": True, "usage": Usage()})


def store(key: str, outcome: ReviewOutcome) -> None:
    ttl = get_settings().review_cache_ttl_seconds
    if ttl == 0:
        return
    now = utcnow()
    try:
        with db.session(own=True) as session:
            # Expired rows are dead weight; the expiresAt index keeps this sweep cheap.
            session.execute(sa.delete(ReviewCache).where(col(ReviewCache.expiresAt) <= now))
            session.merge(
                ReviewCache(
                    key=key,
                    response=outcome.model_copy(update={"cached": False}).model_dump_json(),
                    createdAt=now,
                    expiresAt=now + timedelta(seconds=ttl),
                )
            )
    except (ApiError, SQLAlchemyError) as exc:  # e.g. another instance stored the same key first
        log.warning("review not cached: %s", type(exc).__name__)
