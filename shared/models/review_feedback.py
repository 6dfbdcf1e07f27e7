from datetime import datetime

import sqlalchemy as sa

from shared.models import TableModel, created_field, id_field, text


class ReviewFeedback(TableModel, table=True):
    __tablename__ = "ReviewFeedback"
    __table_args__ = (
        sa.Index("ReviewFeedback_userId_idx", "userId"),
        sa.Index("ReviewFeedback_reviewId_idx", "reviewId"),
        # Ours (migration 0004), under the name Prisma gives @@unique([userId, reviewId]): one rating
        # per user and review, so simultaneous first ratings cannot each insert a row.
        sa.Index("ReviewFeedback_userId_reviewId_key", "userId", "reviewId", unique=True),
    )

    id: str = id_field()
    userId: str = text()
    reviewId: str | None = text(default=None)
    rating: int
    comment: str | None = text(default=None)
    reviewType: str = text()
    timestamp: datetime = created_field()
