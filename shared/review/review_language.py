"""The review's language: the request's `reviewLanguage`, else REVIEW_LANGUAGE (English). The model
writes the review's prose in it (titles, details, feedback, verdict reasons); code, rule ids and the
answer's keys stay as they are (shared/review/prompts.py). A name of letters, spaces and hyphens
only, so it cannot carry instructions into the prompt."""

from __future__ import annotations

from typing import Annotated

from coderevai_core.options import MAX_LANGUAGE_NAME_CHARS, review_language_name
from pydantic import AfterValidator, Field

from shared.config import get_settings

# A request body's field.
ReviewLanguage = Annotated[str, Field(max_length=MAX_LANGUAGE_NAME_CHARS * 2), AfterValidator(review_language_name)]


def prose_language(requested: str | None) -> str:
    return requested or get_settings().review_language
