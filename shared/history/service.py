"""The caller's review history: newest first with keyset paging, add one, clear all or one.
Rows in and out; the history function's wire bodies are in shared/history/schemas.py."""

from __future__ import annotations

import base64
from collections.abc import Sequence
from datetime import UTC, datetime, timedelta
from typing import Any

import sqlalchemy as sa
from sqlalchemy import Connection
from sqlmodel import Session, col

from shared import db
from shared.errors import invalid_input, not_found
from shared.ids import cuid
from shared.models import utcnow
from shared.models.review_history import ReviewHistory

SNIPPET_CHARS = 500  # a history row keeps the start of the code, as the original app did
MAX_FEEDBACK_CHARS = 500_000
# The web app POSTs each review to its history after our review function has already saved it;
# an item with the same feedback saved this recently is that review, not another one.
SAME_REVIEW_WINDOW = timedelta(minutes=10)


# The columns a listed review shows, in the order shared/history/schemas.py's history_item unpacks them.
PAGE_COLUMNS = ("id", "timestamp", "feedback", "language", "fileName", "repoUrl", "codeSnippet", "type", "reviewModes")


def _page_queries() -> tuple[sa.Select, sa.Select]:
    table = ReviewHistory.__table__
    newest_first = (table.c.timestamp.desc(), table.c.id.desc())
    first = (
        sa.select(*(table.c[name] for name in PAGE_COLUMNS))
        .where(table.c.userId == sa.bindparam("user_id"))
        .order_by(*newest_first)
        .limit(sa.bindparam("rows"))
    )
    # (timestamp, id) is unique, so the order is total and a page never repeats or skips a row
    # that shares its timestamp with the previous page's last one.
    after = first.where(
        sa.tuple_(table.c.timestamp, table.c.id) < sa.tuple_(sa.bindparam("after_time"), sa.bindparam("after_id"))
    )
    return first, after


# Built once: building a statement and its cache key costs more than running it on a warm connection.
_FIRST_PAGE, _PAGE_AFTER = _page_queries()


def list_reviews(
    session: Session | Connection, user_id: str, limit: int, cursor: str | None
) -> tuple[Sequence[Any], str | None]:
    """A page of plain rows of PAGE_COLUMNS, read by position (row[0] is the id), not ORM entities:
    building them for a list that is only serialised costs more than the query (db.select_rows).
    One statement, so `db.statement()` serves it."""
    params: dict = {"user_id": user_id, "rows": limit + 1}
    if cursor:
        params["after_time"], params["after_id"] = _decode_cursor(cursor)
    rows = db.select_rows(session, _PAGE_AFTER if cursor else _FIRST_PAGE, params)
    page, more = rows[:limit], len(rows) > limit
    next_cursor = _encode_cursor(page[-1]) if more else None
    return page, next_cursor


def add_review(
    session: Session | Connection,
    user_id: str,
    *,
    type: str,
    feedback: str,
    language: str | None = None,
    reviewModes: Sequence[str] = (),
    codeSnippet: str | None = None,
    repoUrl: str | None = None,
    fileName: str | None = None,
    timestamp: int | None = None,
) -> str:
    """Keyword names are the columns' (and the wire's); `timestamp` is ms since the epoch. One
    INSERT (Core: the ORM's unit of work costs more than the statement)."""
    review_id = cuid()
    session.execute(
        sa.insert(ReviewHistory.__table__).values(
            id=review_id,
            userId=user_id,
            type=type,
            language=language,
            reviewModes=list(reviewModes),
            codeSnippet=codeSnippet[:SNIPPET_CHARS] if codeSnippet is not None else None,
            feedback=feedback,
            repoUrl=repoUrl,
            fileName=fileName,
            timestamp=utcnow()
            if timestamp is None
            else datetime.fromtimestamp(timestamp / 1000, UTC).replace(tzinfo=None),
        )
    )
    return review_id


def find_saved_review(
    session: Session, user_id: str, *, feedback: str, language: str | None, fileName: str | None, repoUrl: str | None
) -> str | None:
    """The caller's review saved in the last minutes with this feedback, if any, completed with
    what the web app knows and the review function did not (the file's path, the language's label,
    the repository's address as typed)."""
    since = datetime.now(UTC).replace(tzinfo=None) - SAME_REVIEW_WINDOW
    table = ReviewHistory.__table__
    newest = (
        sa.select(table.c.id)
        .where(table.c.userId == user_id, table.c.timestamp >= since, table.c.feedback == feedback)
        .order_by(table.c.timestamp.desc())
        .limit(1)
        .scalar_subquery()
    )
    # One statement: a row the caller deletes meanwhile is simply not found (reading it, then
    # updating what was read, raised StaleDataError, a 500, when the delete came in between).
    completed = (
        sa.update(table)
        .where(table.c.id == newest)
        .values(
            language=sa.func.coalesce(sa.func.nullif(sa.literal(language, sa.String), ""), table.c.language),
            fileName=sa.func.coalesce(sa.func.nullif(table.c.fileName, ""), sa.literal(fileName, sa.String)),
            repoUrl=sa.func.coalesce(sa.func.nullif(table.c.repoUrl, ""), sa.literal(repoUrl, sa.String)),
        )
        .returning(table.c.id)
    )
    return session.execute(completed).scalar_one_or_none()


def delete_reviews(session: Session, user_id: str, review_id: str | None) -> int:
    """Delete one of the caller's reviews, or all of them. Another user's id is simply not found."""
    query = sa.delete(ReviewHistory).where(col(ReviewHistory.userId) == user_id)
    if review_id is not None:
        query = query.where(col(ReviewHistory.id) == review_id)
    deleted = session.execute(query).rowcount
    if review_id is not None and deleted == 0:
        raise not_found(f"No review {review_id} in your history.")
    return deleted


def _encode_cursor(row: Any) -> str:
    review_id, moment = row[0], row[1]  # PAGE_COLUMNS' order
    raw = f"{moment.isoformat()}|{review_id}".encode()
    return base64.urlsafe_b64encode(raw).decode().rstrip("=")


def _decode_cursor(cursor: str) -> tuple[datetime, str]:
    try:
        raw = base64.urlsafe_b64decode(cursor + "=" * (-len(cursor) % 4)).decode()
        if "\x00" in raw:
            raise ValueError("NUL in cursor")
        moment, review_id = raw.split("|", 1)
        return datetime.fromisoformat(moment), review_id
    except ValueError:
        raise invalid_input("cursor: not a cursor this API returned.") from None
