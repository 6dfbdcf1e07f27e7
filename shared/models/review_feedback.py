from datetime import datetime

import sqlalchemy as sa

from shared.models import TableModel, created_field, id_field, text


class ReviewFeedback(TableModel, table=True):
    __tablename__ = "ReviewFeedback"
    __table_args__ = (
        sa.Index("ReviewFeedback_userId_idx", "userId"),
        sa.Index("ReviewFeedback_reviewId_idx", "reviewId"),
    )

    id: str = id_field()
    userId: str = text()
    reviewId: str | None = text(default=None)
    rating: int
    comment: str | None = text(default=None)
    reviewType: str = text()
    timestamp: datetime = created_field()
