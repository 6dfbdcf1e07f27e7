"""Repository review's wire bodies: the files a client sends, or a public GitHub address."""

from __future__ import annotations

from coderevai_core.selection import MAX_CUSTOM_PROMPT_CHARS
from pydantic import Field

from shared.repo.changed_lines import MAX_RANGES_PER_FILE, LineRange
from shared.review.review_language import ReviewLanguage
from shared.schemas import MAX_MODES, Body, ModeName


class RepoFileIn(Body):
    binary_fields = frozenset({"content"})  # a binary file is listed as skipped, not refused

    path: str = Field(min_length=1, max_length=1024)
    content: str  # size caps are checked by the service, to answer 413 naming the cap
    # A change's review: the file's changed lines (from a diff); absent, the whole file is reviewed.
    changedLines: list[LineRange] | None = Field(default=None, max_length=MAX_RANGES_PER_FILE)


class ReviewRepoRequest(Body):
    """Files sent by the client, or a public GitHub `repoUrl` alone for the server to fetch. With
    files, `repoUrl` only labels the review in the history (as the original front end sends it)."""

    files: list[RepoFileIn] = Field(default=[])
    repoUrl: str | None = Field(default=None, max_length=4096)
    reviewModes: list[ModeName] = Field(default=[], max_length=MAX_MODES)
    customPrompt: str | None = Field(default=None, max_length=MAX_CUSTOM_PROMPT_CHARS)
    reviewLanguage: ReviewLanguage | None = None  # the review's prose; unset, REVIEW_LANGUAGE
