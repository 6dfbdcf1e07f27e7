"""Ratings of reviews (ReviewFeedback): one per user and review, for one of the caller's own
reviews; rating again replaces the earlier rating."""

from __future__ import annotations

from pydantic import Field
from sqlmodel import Session, select

from shared.errors import not_found
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
    existing = session.exec(
        select(ReviewFeedback).where(ReviewFeedback.userId == user_id, ReviewFeedback.reviewId == item.reviewId)
    ).first()
    if existing is not None:
        existing.rating, existing.comment, existing.timestamp = item.rating, item.comment, utcnow()
        session.add(existing)
        return existing.id, False
    row = ReviewFeedback(
        userId=user_id, reviewId=item.reviewId, rating=item.rating, comment=item.comment, reviewType=review.type
    )
    session.add(row)
    session.flush()
    return row.id, True
