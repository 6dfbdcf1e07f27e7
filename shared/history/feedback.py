"""Ratings of reviews (ReviewFeedback): one per user and review, for one of the caller's own
reviews; rating again replaces the earlier rating (a unique index and an upsert keep it one row
even when ratings arrive at the same moment)."""

from __future__ import annotations

from pydantic import Field
from sqlmodel import Session, select

from shared import db
from shared.errors import not_found
from shared.ids import cuid
from shared.models import utcnow
from shared.models.review_feedback import ReviewFeedback
from shared.models.review_history import ReviewHistory
from shared.schemas import Body


class NewFeedback(Body):
    reviewId: str = Field(min_length=1, max_length=64)
    rating: int = Field(ge=0, le=5, description="1-5 stars, or a thumb: 0 down, 1 up")
    comment: str | None = Field(default=None, max_length=2000)


def rate_review(session: Session, user_id: str, item: NewFeedback) -> tuple[str, bool]:
    """The feedback id and whether it is new. Another user's review is simply not found."""
    review = session.exec(
        select(ReviewHistory).where(ReviewHistory.id == item.reviewId, ReviewHistory.userId == user_id)
    ).first()
    if review is None:
        raise not_found(f"No review {item.reviewId} in your history.")
    # One statement: simultaneous first ratings meet at the unique (userId, reviewId) index and the
    # later ones update the row the first inserted, instead of each inserting its own.
    fresh_id = cuid()
    table = ReviewFeedback.__table__
    values = {"rating": item.rating, "comment": item.comment, "timestamp": utcnow()}
    insert = db.upsert_into(session, table).values(
        id=fresh_id, userId=user_id, reviewId=item.reviewId, reviewType=review.type, **values
    )
    upsert = insert.on_conflict_do_update(index_elements=[table.c.userId, table.c.reviewId], set_=values)
    feedback_id = session.execute(upsert.returning(table.c.id)).scalar_one()
    return feedback_id, feedback_id == fresh_id
