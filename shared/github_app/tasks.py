"""One unit of queued work: review a pull request at a head commit, or act on a command left in
its comments. Its name is made from the repository, the pull request and the head (or the
comment), so the queue itself refuses a second task for the same work."""

from __future__ import annotations

import re
from typing import Literal

from pydantic import BaseModel, ConfigDict, Field

# auto: a pull_request event (incremental when an earlier review's marker says what it saw);
# incremental, full: `/coderevai review` and `/coderevai full review`; the rest: the other commands.
Kind = Literal["auto", "incremental", "full", "pause", "resume", "help"]
_UNSAFE = re.compile(r"[^A-Za-z0-9_-]")


class ReviewTask(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)

    installationId: int
    repository: str = Field(min_length=3, max_length=200)  # owner/name
    repositoryId: int
    pullNumber: int = Field(ge=1)
    kind: Kind = "auto"
    headSha: str | None = Field(default=None, max_length=64)  # None: a command, for whatever the head is then
    commentId: int | None = None  # the command's comment
    requestedBy: str | None = None  # the commenter's login
    deliveryId: str = Field(max_length=100)

    @property
    def name(self) -> str:
        """A Cloud Tasks task id ([A-Za-z0-9_-], at most 500 characters)."""
        what = f"c{self.commentId}" if self.commentId is not None else f"{self.headSha}-{self.kind}"
        return _UNSAFE.sub("_", f"pr-{self.repositoryId}-{self.pullNumber}-{what}")[:500]
