"""What a review may be asked for, whoever asks (a request body, `.coderevai.yml`, the command line):
its modes, and the language its prose is written in."""

from __future__ import annotations

import re
from typing import Annotated, Any, Literal

from pydantic import BeforeValidator

ReviewMode = Literal[
    "comprehensive",
    "security",
    "bug_fixes",
    "performance",
    "best_practices",
    "test_generation",
    "production_ready",
]
MAX_MODES = 5


def _mode_name(value: Any) -> Any:
    """The web app's names, and the hyphenated or spaced spellings people type: `bug-fixes`."""
    return value.strip().lower().replace("-", "_").replace(" ", "_") if isinstance(value, str) else value


# A review mode as a request names it.
ModeName = Annotated[ReviewMode, BeforeValidator(_mode_name)]

# A review language is a name such as "German", "Brazilian Portuguese" or "pt-BR": letters, spaces and
# hyphens only, since it reaches the model's prompt.
_LANGUAGE_NAME = re.compile(r"[^\W\d_]+(?:[ -][^\W\d_]+){0,3}")
MAX_LANGUAGE_NAME_CHARS = 40


def review_language_name(value: str) -> str:
    value = " ".join(value.split())
    if len(value) > MAX_LANGUAGE_NAME_CHARS or not _LANGUAGE_NAME.fullmatch(value):
        raise ValueError(
            f"a language name of letters, spaces and hyphens (at most {MAX_LANGUAGE_NAME_CHARS} characters), "
            "such as German or pt-BR"
        )
    return value
