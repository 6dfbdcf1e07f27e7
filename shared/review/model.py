"""The review model, whichever provider runs it (MODEL_PROVIDER: gemini or openai, the interface in
shared/review/provider.py): one `generate` for every prompt (reviews, triage, synthesis, fixes) that
returns the answer read into its pydantic schema, with the token usage and the model that answered.

An answer that cannot be read (no JSON, or JSON the schema refuses) gets one repair request; when
that fails too, `generate` raises UnreadableAnswer, a 502 for callers that have nothing else to
give, and the review engine answers with its static findings instead (engine.py)."""

from __future__ import annotations

import logging
from typing import Generic, NamedTuple, TypeVar

from pydantic import BaseModel

from shared.config import get_settings
from shared.errors import ApiError
from shared.review import budget
from shared.review.outcome import Usage
from shared.review.provider import Provider

log = logging.getLogger("coderevai.review.model")

S = TypeVar("S", bound=BaseModel)


class Generation(NamedTuple, Generic[S]):
    parsed: S
    usage: Usage
    model: str


class UnreadableAnswer(ApiError):
    """The model answered twice, and neither answer could be read into the schema."""

    def __init__(self, model: str, usage: Usage) -> None:
        super().__init__(
            502, "UPSTREAM_ERROR", "The review model's answer could not be read; try again.", retryable=True
        )
        self.model = model
        self.usage = usage


def provider() -> Provider:
    """The configured provider; each is imported on first use, so is its SDK."""
    if get_settings().model_provider == "openai":
        from shared.review import openai_chat as chosen
    else:
        from shared.review import gemini as chosen
    return chosen


def configured() -> bool:
    return provider().configured()


def model_name() -> str:
    return provider().model_name()


def identity() -> str:
    """What the review cache keys on: the provider and its model."""
    chosen = provider()
    return f"{chosen.name}:{chosen.model_name()}"


def generate(*, system: str, contents: str, schema: type[S], max_output_tokens: int | None = None) -> Generation[S]:
    """Ask the model for one `schema` object (at most `max_output_tokens`; unset, a review's answer)."""
    from shared.review import answers  # with the first answer: a static review never reads one

    chosen, limits = provider(), budget.current()
    tokens = min(max_output_tokens or limits.review_answer, limits.output)
    first = chosen.complete(system=system, contents=contents, schema=schema, max_output_tokens=tokens)
    try:
        return Generation(answers.read(first.text, schema), first.usage, first.model)
    except answers.Unreadable as problem:
        log.warning("model answer unreadable (%s), asking once more: %s", first.model, problem)
        repair_system, repair_contents = answers.repair_prompt(first.text, problem, schema, limits.code_chars)
    second = chosen.complete(system=repair_system, contents=repair_contents, schema=schema, max_output_tokens=tokens)
    usage = first.usage + second.usage
    try:
        return Generation(answers.read(second.text, schema), usage, second.model)
    except answers.Unreadable as problem:
        log.warning("model answer unreadable after the repair request (%s): %s", second.model, problem)
        raise UnreadableAnswer(second.model, usage) from None
