"""The history function's bodies: a review as listed, a review to add, the list and delete queries."""

from __future__ import annotations

from typing import Literal

from pydantic import BaseModel, Field

from shared.history import MAX_FEEDBACK_CHARS
from shared.models.review_history import ReviewHistory
from shared.schemas import MAX_MODES, Body, ReviewMode, epoch_ms

MAX_TIMESTAMP_MS = 253_402_300_799_999  # 9999-12-31T23:59:59.999Z, the last moment a datetime holds


class HistoryItem(BaseModel):
    id: str
    type: str
    language: str | None
    reviewModes: list[str]
    timestamp: int  # milliseconds since the epoch, as the front end's Date.now()
    codeSnippet: str | None
    feedback: str
    repoUrl: str | None
    fileName: str | None

    @classmethod
    def from_row(cls, row: ReviewHistory) -> HistoryItem:
        return cls(
            id=row.id,
            type=row.type,
            language=row.language,
            reviewModes=list(row.reviewModes or []),
            timestamp=epoch_ms(row.timestamp),
            codeSnippet=row.codeSnippet,
            feedback=row.feedback,
            repoUrl=row.repoUrl,
            fileName=row.fileName,
        )


class NewHistoryItem(Body):
    type: Literal["code", "repository", "file"]
    language: str | None = Field(default=None, max_length=64)
    reviewModes: list[ReviewMode] = Field(default=[], max_length=MAX_MODES)
    codeSnippet: str | None = None  # cut to the first 500 characters when stored
    feedback: str = Field(min_length=1, max_length=MAX_FEEDBACK_CHARS)
    repoUrl: str | None = Field(default=None, max_length=2048)
    fileName: str | None = Field(default=None, max_length=1024)
    timestamp: int | None = Field(
        default=None, ge=0, le=MAX_TIMESTAMP_MS, description="ms since the epoch; now when absent"
    )
    id: str | None = Field(default=None, description="ignored: the server assigns ids")


class HistoryQuery(Body):
    limit: int = Field(default=50, ge=1, le=100)
    cursor: str | None = Field(default=None, max_length=200)


class DeleteQuery(Body):
    id: str | None = Field(default=None, min_length=1, max_length=64)
