"""Request bodies of review_code and generate_diff (camelCase, as the front end sends them), and
their size limits. Sizes are counted in UTF-8 bytes and never silently cut."""

from __future__ import annotations

from typing import Annotated

from pydantic import AfterValidator, Field

from shared.errors import invalid_input, too_large
from shared.languages import canonical_language
from shared.review.review_language import ReviewLanguage
from shared.schemas import MAX_MODES, Body, ModeName

MIN_CODE_BYTES = 5
# review-code takes what the platform takes (the web app lets users paste far more than one model
# call reads): shared/review/parts.py reviews it in parts. generate-diff's model writes the whole
# file back in one answer of at most 65,536 tokens (~256 KB of code, shared/review/fix.py), so its
# code is capped below that.
MAX_CODE_BYTES = 32 * 1024 * 1024
MAX_DIFF_CODE_BYTES = 200 * 1024
MAX_CUSTOM_PROMPT_BYTES = 5 * 1024
MAX_DIFF_FEEDBACK_BYTES = 200 * 1024

# The web app sends its language values to review-code and its labels to generate-diff.
Language = Annotated[str, Field(min_length=1, max_length=64), AfterValidator(canonical_language)]


class ReviewCodeRequest(Body):
    code: str
    language: Language
    reviewModes: list[ModeName] = Field(default=[], max_length=MAX_MODES)
    customPrompt: str | None = None
    fileName: str | None = Field(default=None, max_length=1024)
    reviewLanguage: ReviewLanguage | None = None  # the review's prose; unset, REVIEW_LANGUAGE

    def check_sizes(self) -> ReviewCodeRequest:
        require_size("code", self.code, MIN_CODE_BYTES, MAX_CODE_BYTES)
        if self.customPrompt is not None:
            require_size("customPrompt", self.customPrompt, 0, MAX_CUSTOM_PROMPT_BYTES)
        return self


class GenerateDiffRequest(Body):
    originalCode: str
    language: Language
    feedback: str

    def check_sizes(self) -> GenerateDiffRequest:
        require_size("originalCode", self.originalCode, 1, MAX_DIFF_CODE_BYTES)
        require_size("feedback", self.feedback, 1, MAX_DIFF_FEEDBACK_BYTES)
        return self


def require_size(field: str, text: str, minimum: int, maximum: int) -> None:
    size = len(text.encode("utf-8", errors="surrogatepass"))
    if size > maximum:
        raise too_large(f"{field} ({size} bytes)", maximum)
    if size < minimum:
        raise invalid_input(f"{field}: must be at least {minimum} bytes (got {size}).")
