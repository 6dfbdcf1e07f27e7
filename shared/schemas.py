"""Request and response bodies on the wire: camelCase keys, as the TypeScript front end uses them."""

from __future__ import annotations

from datetime import datetime
from typing import Any, ClassVar, Literal

from pydantic import BaseModel, ConfigDict, Field, ValidationInfo, field_validator

ReviewMode = Literal[
    "comprehensive",
    "security",
    "bug_fixes",
    "performance",
    "best_practices",
    "test_generation",
    "production_ready",
]
ReviewType = Literal["code", "repository", "file"]
MAX_MODES = 5
SNIPPET_CHARS = 500
MAX_FEEDBACK_CHARS = 500_000
MAX_TIMESTAMP_MS = 253_402_300_799_999  # 9999-12-31T23:59:59.999Z, the last moment a datetime holds


class Body(BaseModel):
    """A request body or query: unknown keys are refused, and no text may hold a NUL character
    (PostgreSQL cannot store one, and it has no place in these fields). A field that may carry
    binary content, to be recognised and skipped downstream, is named in `binary_fields`."""

    model_config = ConfigDict(extra="forbid", str_strip_whitespace=False)
    binary_fields: ClassVar[frozenset[str]] = frozenset()

    @field_validator("*", mode="after")
    @classmethod
    def _no_nul(cls, value: Any, info: ValidationInfo) -> Any:
        if info.field_name not in cls.binary_fields and _holds_nul(value):
            raise ValueError("must not contain NUL (\\u0000) characters")
        return value


def _holds_nul(value: Any) -> bool:
    if isinstance(value, str):
        return "\x00" in value
    if isinstance(value, (list, tuple)):
        return any(_holds_nul(item) for item in value)
    return False


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
    def from_row(cls, row) -> HistoryItem:
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
    type: ReviewType
    language: str | None = Field(default=None, max_length=64)
    reviewModes: list[ReviewMode] = Field(default_factory=list, max_length=MAX_MODES)
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


class SubscriptionOut(BaseModel):
    id: str | None  # Stripe's sub_... id
    status: str
    plan: str
    currentPeriodEnd: int | None  # ms since the epoch
    cancelAtPeriodEnd: bool

    @classmethod
    def from_row(cls, row) -> SubscriptionOut:
        return cls(
            id=row.stripeSubscriptionId,
            status=row.status,
            plan=row.plan,
            currentPeriodEnd=epoch_ms(row.currentPeriodEnd) if row.currentPeriodEnd else None,
            cancelAtPeriodEnd=row.cancelAtPeriodEnd,
        )


class CheckoutRequest(Body):
    plan: Literal["pro"]
    priceId: str | None = Field(default=None, description="ignored: the server picks the price for the plan")


def epoch_ms(moment: datetime) -> int:
    from datetime import UTC

    return int(moment.replace(tzinfo=UTC).timestamp() * 1000)


class RepoFileIn(Body):
    binary_fields = frozenset({"content"})  # a binary file is listed as skipped, not refused

    path: str = Field(min_length=1, max_length=1024)
    content: str  # size caps are checked by the service, to answer 413 naming the cap


class ReviewRepoRequest(Body):
    """Files sent by the client, or a public GitHub `repoUrl` alone for the server to fetch. With
    files, `repoUrl` only labels the review in the history (as the original front end sends it)."""

    files: list[RepoFileIn] = Field(default_factory=list)
    repoUrl: str | None = Field(default=None, max_length=4096)
    reviewModes: list[ReviewMode] = Field(default_factory=list, max_length=MAX_MODES)
    customPrompt: str | None = Field(default=None, max_length=5000)


class SkippedFile(BaseModel):
    path: str
    reason: str
