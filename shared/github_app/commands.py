"""Commands left in a pull request's comments: `/coderevai review` (what changed since the last
review), `/coderevai full review`, `/coderevai pause`, `/coderevai resume`, `/coderevai help`;
`@<app slug> review` and the rest work the same. A command is the first word pair of a line, so
quoting a command in prose further along a line does nothing."""

from __future__ import annotations

import re

from shared.github_app.tasks import Kind

COMMANDS: dict[str, Kind] = {
    "review": "incremental",
    "full review": "full",
    "pause": "pause",
    "resume": "resume",
    "help": "help",
}
HELP = """**CodeRevAI commands** (in a comment on the pull request, by someone with write access):

| command | what it does |
|---|---|
| `/coderevai review` | review what changed since the last review |
| `/coderevai full review` | review the whole pull request again |
| `/coderevai pause` | stop reviewing new pushes to this pull request |
| `/coderevai resume` | review new pushes again |
| `/coderevai help` | this list |

`@{slug} review` (and the others) work the same. Rules come from `.coderevai.yml` on the base branch."""
_LINE = re.compile(
    r"^\s*(?:/coderevai|@(?P<slug>[A-Za-z0-9][A-Za-z0-9-]*)(?:\[bot\])?)(?=\s|$)[ \t]*(?P<rest>[^\n]*)$", re.M
)


def parse(body: str, slug: str | None) -> Kind | None:
    """The command a comment gives, or None. An unknown word after our name asks for help."""
    for match in _LINE.finditer(body or ""):
        if match["slug"] is not None and (not slug or match["slug"].lower() != slug.lower()):
            continue
        words = match["rest"].lower().split()
        return COMMANDS.get(" ".join(words[:2])) or COMMANDS.get(words[0] if words else "") or "help"
    return None


def mentions_someone(body: str) -> bool:
    """Whether a comment could hold an `@slug` command (the slug is looked up only then)."""
    return "@" in (body or "")
