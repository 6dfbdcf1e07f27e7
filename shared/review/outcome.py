"""What the engine takes (source files) and gives back (the review, its findings, token usage)."""

from __future__ import annotations

from typing import NamedTuple

from coderevai_core.findings import Finding
from pydantic import BaseModel, Field


class SourceFile(NamedTuple):
    """A file as the engine reads it; a record passed between our own modules, never validated from
    outside (a pydantic model cost every review function's start ~0.3 ms for nothing)."""

    path: str  # "" for an unnamed snippet
    content: str


class Usage(BaseModel):
    promptTokens: int = 0
    outputTokens: int = 0
    totalTokens: int = 0

    def __add__(self, other: Usage) -> Usage:
        return Usage(
            promptTokens=self.promptTokens + other.promptTokens,
            outputTokens=self.outputTokens + other.outputTokens,
            totalTokens=self.totalTokens + other.totalTokens,
        )


class ReviewOutcome(BaseModel):
    feedback: str  # markdown, ending with the findings rendered as a list
    findings: list[Finding]
    model: str  # the model that answered, or "static" when no model is configured
    usage: Usage
    cached: bool = False
    dismissed: list[Finding] = []  # static findings the model judged false positives, each with its reason
    # False when the model's answer could not be read and the review is the static pass's: not
    # cached, and a repository review lists the batch as not reviewed. Not part of the answer.
    complete: bool = Field(default=True, exclude=True)
