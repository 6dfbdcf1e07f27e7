"""The history function's bodies: a review as listed, a review to add, the list and delete queries.

Two item shapes are served and taken: the web app's (`app/types/index.ts` HistoryItem: `fileName`,
`code`, `mode`, `reviewType`) and the database's (`type`, `reviewModes`, `codeSnippet`, `repoUrl`),
which the original setup guide's version of the app read. A listed item carries both."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any, Literal

from pydantic import Field, model_validator
from pydantic_core import to_json

from shared.history.service import MAX_FEEDBACK_CHARS
from shared.schemas import MAX_MODES, Body, ModeName, epoch_ms

MAX_TIMESTAMP_MS = 253_402_300_799_999  # 9999-12-31T23:59:59.999Z, the last moment a datetime holds


def history_item(row: Sequence[Any]) -> dict[str, Any]:
    """One listed review, from a row of list_reviews' PAGE_COLUMNS, unpacked by position: reading a
    Core row's columns by name cost 4 us a row, 0.2 ms a page, as much as the rest of the answer.
    A plain dict, not a model: every value comes from a typed column, and building 50 models cost
    twice what the SELECT did."""
    review_id, moment, feedback, language, file_name, repo_url, snippet, kind, modes = row
    modes = list(modes or [])
    repository = kind == "repository"
    return {
        "id": review_id,
        "timestamp": epoch_ms(moment),
        "feedback": feedback,
        # As the web app's own server mapped its rows (historyServiceDB.ts).
        "language": language or "text",
        "fileName": file_name or repo_url or "Unknown",
        "code": "" if repository else snippet or "",  # a repository review lists its files there
        "mode": modes,
        "reviewType": "repo" if repository else "file",
        "type": kind,
        "reviewModes": modes,
        "codeSnippet": snippet,
        "repoUrl": repo_url,
    }


def history_page_json(rows: list[Any], next_cursor: str | None) -> bytes:
    """The GET's answer, `{history, nextCursor}`, serialised by pydantic-core in one call."""
    return to_json({"history": [history_item(row) for row in rows], "nextCursor": next_cursor})


class NewHistoryItem(Body):
    """Either shape; `type` or `reviewType` says which. An `id` is ignored: the server assigns ids."""

    feedback: str = Field(min_length=1, max_length=MAX_FEEDBACK_CHARS)
    language: str | None = Field(default=None, max_length=64)
    fileName: str | None = Field(default=None, max_length=2048)
    timestamp: int | None = Field(
        default=None, ge=0, le=MAX_TIMESTAMP_MS, description="ms since the epoch; now when absent"
    )
    id: str | None = Field(default=None, max_length=64)
    # the database's shape
    type: Literal["code", "repository", "file"] | None = None
    reviewModes: list[ModeName] | None = Field(default=None, max_length=MAX_MODES)
    codeSnippet: str | None = None  # cut to the first 500 characters when stored
    repoUrl: str | None = Field(default=None, max_length=2048)
    # the web app's shape (older copies kept `mode` as one string)
    reviewType: Literal["file", "repo"] | None = None
    mode: list[ModeName] | ModeName | None = None
    code: str | None = None

    @model_validator(mode="after")
    def _one_shape(self) -> NewHistoryItem:
        if self.type is None and self.reviewType is None:
            raise ValueError("name the kind of review: type (code|repository) or reviewType (file|repo)")
        modes = [self.mode] if isinstance(self.mode, str) else self.mode
        if modes is not None and len(modes) > MAX_MODES:
            raise ValueError(f"mode: at most {MAX_MODES} modes")
        return self

    @property
    def from_web_app(self) -> bool:
        """Sent by the web app after each review, which our review functions have already saved."""
        return self.type is None

    def columns(self) -> dict[str, Any]:
        """The row's columns, keyword names as shared.history.service.add_review takes them."""
        repository = self.type == "repository" or (self.type is None and self.reviewType == "repo")
        modes = self.reviewModes if self.reviewModes is not None else self.mode
        location = self.repoUrl or (self.fileName if repository else None)
        return {
            "type": "repository" if repository else (self.type or "code"),
            "language": self.language,
            "reviewModes": [modes] if isinstance(modes, str) else list(modes or []),
            "codeSnippet": self.codeSnippet if self.codeSnippet is not None else (self.code or None),
            "feedback": self.feedback,
            "repoUrl": location,
            "fileName": None if repository and self.type is None else self.fileName,
            "timestamp": self.timestamp,
        }


class HistoryQuery(Body):
    limit: int = Field(default=50, ge=1, le=100)
    cursor: str | None = Field(default=None, max_length=200)


class DeleteQuery(Body):
    id: str | None = Field(default=None, min_length=1, max_length=64)
