"""The repository's `.coderevai.yml`, read with the GitHub App's own model (coderevai_core.repo_config)
from the root of the repository the command runs in: for `--diff REF` as REF has it (as the App reads
it from the base branch: a change cannot rewrite the rules it is reviewed by), otherwise from the
working tree. The command line's flags override it; an invalid file is a warning and the defaults."""

from __future__ import annotations

import argparse
import subprocess
from pathlib import Path
from typing import NamedTuple

from coderevai_core.repo_config import FILE_NAMES, Loaded, ReviewConfig, read
from coderevai_core.selection import MAX_CUSTOM_PROMPT_CHARS

from coderevai.files import UsageError

DEFAULT_MAX_COMMENTS = 30


class Rules(NamedTuple):
    loaded: Loaded
    source: str | None  # where the file was read: "origin/main:.coderevai.yml", ".coderevai.yml"; None: no file
    prefix: str  # the working directory within the repository ("src/", or "" at its root): the globs are the root's

    @property
    def config(self) -> ReviewConfig:
        return self.loaded.config

    def wants(self, path: str) -> bool:
        """`path` as sent (relative to the working directory)."""
        return self.config.wants(self.prefix + path)

    def prompt_for(self, paths: list[str], custom_prompt: str | None) -> str | None:
        """One request's notes: the caller's --custom-prompt, then the file's instructions for its files."""
        instructions = self.config.instructions_for([self.prefix + path for path in paths])
        prompt = "\n\n".join(part for part in (custom_prompt, instructions) if part) or None
        if prompt and len(prompt) > MAX_CUSTOM_PROMPT_CHARS:
            raise UsageError(
                f"--custom-prompt and the instructions of {self.source} for these files come to {len(prompt)} "
                f"characters, over the {MAX_CUSTOM_PROMPT_CHARS} a request takes: shorten --custom-prompt"
            )
        return prompt


def load(cwd: Path, ref: str | None) -> Rules:
    root, prefix = _repository(cwd)
    for name in FILE_NAMES:
        if ref is not None:
            raw = _at_ref(cwd, ref, name) if root is not None else None
            where = f"{ref}:{name}"
        else:
            file = (root or cwd) / name
            raw = file.read_bytes() if file.is_file() else None
            where = name
        if raw is not None:
            return Rules(read(raw), where, prefix)
    return Rules(read(None), None, prefix)


def apply(rules: Rules, args: argparse.Namespace) -> None:
    """Fill in what the command line left unsaid from the file; a flag always wins."""
    config, said = rules.config, rules.config.model_fields_set
    if args.modes is None:
        args.modes = list(config.modes)
    if args.review_language is None:
        args.review_language = config.language
    if args.fail_on is None:
        args.fail_on = config.fail_on if "fail_on" in said else args.fail_on_default
    if args.max_comments is None:
        args.max_comments = config.max_comments if "max_comments" in said else DEFAULT_MAX_COMMENTS


def _repository(cwd: Path) -> tuple[Path | None, str]:
    """The repository's root and the working directory's path within it; (None, "") outside one."""
    out = _git(cwd, "rev-parse", "--show-toplevel", "--show-prefix")
    if out is None:
        return None, ""
    top, _, prefix = out.decode("utf-8", "surrogateescape").partition("\n")
    return Path(top), prefix.strip("\n")


def _at_ref(cwd: Path, ref: str, name: str) -> bytes | None:
    """The file at the root of `ref`'s tree, or None (not there; or no such ref: the diff says so)."""
    if _git(cwd, "rev-parse", "--verify", "--quiet", "--end-of-options", f"{ref}^{{commit}}") is None:
        return None
    return _git(cwd, "cat-file", "blob", f"{ref}:{name}")


def _git(cwd: Path, *args: str) -> bytes | None:
    try:
        # git from PATH, as the user runs it; the ref is one argument, never a shell string.
        done = subprocess.run(["git", *args], cwd=cwd, capture_output=True, check=False)  # noqa: S603, S607
    except FileNotFoundError:
        return None
    return done.stdout if done.returncode == 0 else None
