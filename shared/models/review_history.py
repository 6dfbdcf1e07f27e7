from datetime import datetime

import sqlalchemy as sa
from sqlmodel import Field

from shared.models import TableModel, TextArray, created_field, id_field, text


class ReviewHistory(TableModel, table=True):
    __tablename__ = "ReviewHistory"
    __table_args__ = (
        sa.Index("ReviewHistory_userId_timestamp_idx", "userId", "timestamp"),
        sa.Index("ReviewHistory_userId_idx", "userId"),
    )

    id: str = id_field()
    userId: str = text()
    type: str = text()
    language: str | None = text(default=None)
    reviewModes: list[str] | None = Field(default=None, sa_type=TextArray)
    timestamp: datetime = created_field()
    codeSnippet: str | None = text(default=None)
    feedback: str = text()
    repoUrl: str | None = text(default=None)
    fileName: str | None = text(default=None)
