"""What the engine takes (source files) and gives back (the review, its findings, token usage)."""

from __future__ import annotations

from coderevai_core.findings import Finding
from pydantic import BaseModel


class SourceFile(BaseModel):
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
    model: str  # the Gemini model, or "static" when no model is configured
    usage: Usage
    cached: bool = False
    dismissed: list[Finding] = []  # static findings the model judged false positives, each with its reason
