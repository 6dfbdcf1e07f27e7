"""`.coderevai.yml`: a repository's review rules, one model for the GitHub App (shared/github_app,
which reads the file from the pull request's BASE branch: a pull request cannot rewrite the rules it
is reviewed by) and the command line (cli/coderevai/rules.py: from `--diff REF`'s tree, for the same
reason). Its JSON Schema is docs/coderevai.schema.json
(`python -m coderevai_core.repo_config > docs/coderevai.schema.json` writes it). A file that does not
parse or does not fit the schema leaves the defaults in force, and the review says what was wrong.

    modes: [security, bug_fixes]      # review modes, at most 5 (default: comprehensive)
    include: ["src/**"]               # only these paths (gitignore-style globs; default: all)
    exclude: ["**/*.snap", "docs/**"] # never these
    instructions:                     # extra instructions for the files a glob matches
      - path: "src/api/**"
        text: "Every handler must validate its input."
    fail_on: high                     # the check run fails on a finding this severe (never: it never fails)
    max_comments: 30                  # inline comments per review at most
    language: English                 # the language of the review's prose (a language's name)
    auto_review: true                 # false: only `/coderevai review` asks for one
"""

from __future__ import annotations

import functools
import json
from typing import Annotated, Literal

from pydantic import AfterValidator, BaseModel, ConfigDict, Field, ValidationError, field_validator

from coderevai_core.options import MAX_LANGUAGE_NAME_CHARS, MAX_MODES, ModeName, review_language_name

FILE_NAMES = (".coderevai.yml", ".coderevai.yaml")
MAX_FILE_BYTES = 64 * 1024
FailOn = Literal["critical", "high", "medium", "low", "never"]
EXCLUDED = "excluded by .coderevai.yml"  # why a file the rules leave out was not reviewed
# The instructions go with each review request as its notes (review-repo takes 5,000 characters of
# customPrompt: coderevai_core.selection), so they leave room for the caller's own.
MAX_INSTRUCTIONS_CHARS = 4000


class PathInstruction(BaseModel):
    model_config = ConfigDict(extra="forbid")

    path: str = Field(min_length=1, max_length=500, description="a gitignore-style glob")
    text: str = Field(min_length=1, max_length=2000)


class ReviewConfig(BaseModel):
    """The rules of one repository's reviews; every key is optional."""

    model_config = ConfigDict(extra="forbid", title="CodeRevAI repository configuration (.coderevai.yml)")

    modes: list[ModeName] = Field(default=[], max_length=MAX_MODES, description="review modes; none: comprehensive")
    include: list[str] = Field(default=[], max_length=200, description="review only paths these globs match")
    exclude: list[str] = Field(default=[], max_length=200, description="never review paths these globs match")
    instructions: list[PathInstruction] = Field(
        default=[],
        max_length=100,
        description=f"instructions for the files a glob matches: at most {MAX_INSTRUCTIONS_CHARS} characters of globs and text in all",
    )
    fail_on: FailOn = Field(default="high", description="the check run fails on a finding at least this severe")
    max_comments: int = Field(default=30, ge=0, le=100, description="inline comments per review at most")
    # A language's name, as the review engine takes it (REVIEW_LANGUAGE): letters, spaces and hyphens
    # only, so it cannot carry instructions into the prompt.
    language: Annotated[str, AfterValidator(review_language_name)] | None = Field(
        default=None,
        max_length=MAX_LANGUAGE_NAME_CHARS * 2,
        description="the language of the review's prose: a name such as German, Brazilian Portuguese or pt-BR",
    )
    auto_review: bool = Field(default=True, description="review each push; false: only on `/coderevai review`")

    @field_validator("instructions")
    @classmethod
    def _instructions_fit_a_request(cls, instructions: list[PathInstruction]) -> list[PathInstruction]:
        size = sum(len(i.path) + len(i.text) for i in instructions)
        if size > MAX_INSTRUCTIONS_CHARS:
            raise ValueError(f"{size} characters of globs and text; at most {MAX_INSTRUCTIONS_CHARS} in all")
        return instructions

    def wants(self, path: str) -> bool:
        """Whether `path` (relative to the repository's root) is reviewed: include, then exclude."""
        if self.include and not _spec(tuple(self.include)).match_file(path):
            return False
        return not (self.exclude and _spec(tuple(self.exclude)).match_file(path))

    def instructions_for(self, paths: list[str]) -> str | None:
        """The instructions whose glob matches one of `paths`, each with the glob it came with."""
        chosen = [i for i in self.instructions if any(_spec((i.path,)).match_file(p) for p in paths)]
        if not chosen:
            return None
        return "The repository's instructions for these files:\n" + "\n".join(f"- {i.path}: {i.text}" for i in chosen)


class Loaded(BaseModel):
    config: ReviewConfig
    problem: str | None = None  # why the file's rules were not applied, for the summary


def read(raw: bytes | None) -> Loaded:
    """The file's bytes as a repository holds them (None: no file)."""
    if raw is None:
        return parse(None)
    try:
        return parse(raw.decode("utf-8"))
    except UnicodeDecodeError:
        return Loaded(config=ReviewConfig(), problem="it is not UTF-8 text")


def parse(text: str | None) -> Loaded:
    if text is None:
        return Loaded(config=ReviewConfig())
    import yaml

    if len(text.encode()) > MAX_FILE_BYTES:
        return Loaded(config=ReviewConfig(), problem=f"it is larger than {MAX_FILE_BYTES} bytes")
    try:
        data = yaml.safe_load(text)
    except yaml.YAMLError as exc:
        mark = getattr(exc, "problem_mark", None)
        where = f" (line {mark.line + 1})" if mark is not None else ""
        return Loaded(config=ReviewConfig(), problem=f"it is not valid YAML{where}")
    if data is None:
        return Loaded(config=ReviewConfig())
    try:
        return Loaded(config=ReviewConfig.model_validate(data))
    except ValidationError as exc:
        problems = [
            f"`{'.'.join(str(p) for p in e['loc']) or '(top)'}`: {e['msg']}"
            for e in exc.errors(include_url=False, include_input=False)
        ]
        return Loaded(config=ReviewConfig(), problem="; ".join(problems[:5]))


def json_schema() -> dict:
    schema = ReviewConfig.model_json_schema()
    return {"$schema": "https://json-schema.org/draft/2020-12/schema", **schema}


@functools.lru_cache(maxsize=256)
def _spec(patterns: tuple[str, ...]):
    import pathspec

    return pathspec.PathSpec.from_lines("gitignore", patterns)


if __name__ == "__main__":
    print(json.dumps(json_schema(), indent=2))
