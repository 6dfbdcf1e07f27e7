"""The model's token budget: its context window and output limit (MODEL_CONTEXT_TOKENS,
MODEL_OUTPUT_TOKENS, else the provider's defaults), and what follows from them for one call: how
much code it can read (repository batches, large-code parts), how many static candidates it is asked
to judge, how long its answer may be. A local 8k-token model gets small calls, not errors."""

from __future__ import annotations

from typing import NamedTuple

from shared.config import get_settings

# Gemini counts about 4 characters per token (Google's rule of thumb); counting exactly would cost a
# network call per file, and the budget keeps a margin for the prompt around the files anyway.
CHARS_PER_TOKEN = 4
# (context window, output limit) when unset: Gemini 2.5's; for OpenAI-compatible servers what
# hosted models such as gpt-4o offer (a local model's is usually smaller: set it).
DEFAULTS = {"gemini": (1_048_576, 65_536), "openai": (128_000, 16_384)}
REVIEW_ANSWER_TOKENS = 16_384  # a review's answer: feedback, findings and verdicts
PROMPT_TOKENS = 1_500  # our instructions (~920 tokens with five modes), the schema when sent as text, tags
MAX_CANDIDATES = 80
CANDIDATE_TOKENS = 150  # code tokens per static candidate asked about (~45 tokens of JSON each, with margin)


class Budget(NamedTuple):
    context: int
    output: int

    @property
    def review_answer(self) -> int:
        return min(REVIEW_ANSWER_TOKENS, self.output)

    @property
    def code_tokens(self) -> int:
        """Code one review call may carry: half of what the window leaves beside our instructions
        and the answer; the other half covers line numbers (~20% on typical code) and the candidates."""
        return max(256, (self.context - self.review_answer - PROMPT_TOKENS) // 2)

    @property
    def code_chars(self) -> int:
        return self.code_tokens * CHARS_PER_TOKEN

    @property
    def candidates(self) -> int:
        """Static findings one call asks the model to judge; those past it keep no verdict."""
        return max(5, min(MAX_CANDIDATES, self.code_tokens // CANDIDATE_TOKENS))


def current() -> Budget:
    settings = get_settings()
    context, output = DEFAULTS[settings.model_provider]
    if settings.model_context_tokens:
        context = settings.model_context_tokens
        output = min(output, context // 4)  # a small window keeps three quarters for the prompt
    return Budget(context=context, output=settings.model_output_tokens or output)
