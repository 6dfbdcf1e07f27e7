"""What every body on the wire shares: camelCase keys, as the TypeScript front end uses them, the
`Body` rules for requests, the review modes (coderevai_core.options: the command line and
`.coderevai.yml` name them too). Each area's own bodies sit with it (history.schemas,
billing.service, repo.review, history.feedback, review.schemas), so a function builds only the models it serves."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any, ClassVar

from coderevai_core.options import MAX_MODES as MAX_MODES
from coderevai_core.options import ModeName as ModeName
from coderevai_core.options import ReviewMode as ReviewMode
from pydantic import BaseModel, ConfigDict, ValidationInfo, field_validator


class Body(BaseModel):
    """A request body or query: unknown keys are refused, and no text may hold a NUL character
    (PostgreSQL cannot store one, and it has no place in these fields). A field that may carry
    binary content, to be recognised and skipped downstream, is named in `binary_fields`.
    An empty-list default is written `default=[]` (pydantic copies it per instance): with
    `default_factory=list` pydantic inspects the builtin's signature, ~3 ms of tokenize at start."""

    # A function serves several bodies (history: four) and a request validates one of them, so each
    # validator is built on its first use rather than at start.
    model_config = ConfigDict(extra="forbid", str_strip_whitespace=False, defer_build=True)
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


_EPOCH = datetime(1970, 1, 1)
_MILLISECOND = timedelta(milliseconds=1)


def epoch_ms(moment: datetime) -> int:
    """Naive UTC (as stored) to milliseconds since the epoch, as the front end's Date.now(); exact
    integer arithmetic (a float timestamp costs more and can round a millisecond away)."""
    return (moment.replace(tzinfo=None) - _EPOCH) // _MILLISECOND


def epoch_seconds(moment: datetime) -> int:
    """Naive UTC (as stored) to whole seconds since the epoch, as Stripe's timestamps are."""
    return epoch_ms(moment) // 1000


def iso(moment: datetime) -> str:
    """Naive UTC (as stored) as JSON.stringify writes a Date, which the front end parses back."""
    return moment.replace(tzinfo=UTC).isoformat(timespec="milliseconds").replace("+00:00", "Z")
