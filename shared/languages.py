"""The languages we know, in one table: the names the web app sends (its values, `typescript`,
`csharp`, to review-code and its labels, `TypeScript`, `C#`, to generate-diff) and common aliases,
each file suffix, and the ast-grep grammar our structural rules read the language with. Each name
becomes one canonical value, so the analysers, the prompt and the review cache see one name per
language; repository selection, the rules and the coverage report read the same suffixes."""

from __future__ import annotations

from pathlib import PurePosixPath
from typing import NamedTuple


class Language(NamedTuple):
    name: str  # the canonical value
    aliases: tuple[str, ...] = ()  # other names for it, from the web app or a user
    suffixes: tuple[str, ...] = ()  # its files
    grammar: str | None = None  # the ast-grep grammar our rules parse it with (None: no rules)


LANGUAGES = (
    Language("typescript", ("ts", "tsx"), (".ts", ".tsx"), "typescript"),
    Language("javascript", ("js", "jsx", "node", "nodejs", "node.js"), (".js", ".mjs", ".cjs", ".jsx"), "javascript"),
    Language("python", ("py", "python3"), (".py", ".pyi"), "python"),
    Language("java", (), (".java",), "java"),
    Language("go", ("golang",), (".go",), "go"),
    Language("csharp", ("c#", "cs", "c-sharp", ".net"), (".cs",), "csharp"),
    Language("rust", ("rs",), (".rs",), "rust"),
    Language("sql", (), (".sql",)),
    Language("php", (), (".php", ".phtml"), "php"),
    Language("ruby", ("rb",), (".rb", ".rake"), "ruby"),
    Language("kotlin", ("kt",), (".kt", ".kts"), "kotlin"),
    Language("swift", (), (".swift",)),
    Language("cpp", ("c++", "cxx"), (".cc", ".cpp", ".hpp")),
    Language("c", (), (".c", ".h")),
    Language("html", ("htm",), (".html",), "html"),
    Language("shell", ("bash", "sh", "zsh"), (".sh", ".bash")),
    Language("yaml", ("yml",)),
    # templates: an ERB template is read as the Ruby it runs, a Razor view as the C# (rules/)
    Language("erb", (), (".erb",), "erb"),
    Language("razor", (), (".cshtml", ".razor"), "razor"),
    # files we name but have no rules for
    *(Language(name, (), suffixes) for name, suffixes in (
        ("scala", (".scala",)), ("objective-c", (".m",)), ("dart", (".dart",)), ("elixir", (".ex", ".exs")),
        ("erlang", (".erl",)), ("haskell", (".hs",)), ("lua", (".lua",)), ("r", (".r",)), ("julia", (".jl",)),
        ("powershell", (".ps1",)), ("vue", (".vue",)), ("svelte", (".svelte",)), ("css", (".css",)),
        ("scss", (".scss",)), ("terraform", (".tf",)), ("solidity", (".sol",)),
    )),
)  # fmt: skip

# Files and snippet names a grammar reads though the table gives them no language of that grammar:
# HTML-like templates (read as HTML), TypeScript's module suffixes, a .tsx file's JSX (the tsx grammar).
OTHER_GRAMMAR_SUFFIXES = {
    ".tsx": "tsx", ".mts": "typescript", ".cts": "typescript", ".htm": "html", ".jinja": "html",
    ".jinja2": "html", ".j2": "html", ".vue": "html", ".ejs": "html", ".hbs": "html", ".handlebars": "html",
}  # fmt: skip
OTHER_GRAMMAR_NAMES = {
    "tsx": "tsx", "jinja": "html", "jinja2": "html", "django": "html", "vue": "html", "rails": "ruby",
    "cshtml": "razor", "blazor": "razor",
}  # fmt: skip

_CANONICAL = {alias: row.name for row in LANGUAGES for alias in (row.name, *row.aliases)}
# A file's language from its suffix (repository files, a pasted file's name), in the same names.
SUFFIX_LANGUAGES = {suffix: row.name for row in LANGUAGES for suffix in row.suffixes}
# What ruff and bandit read (static/python_tools.py).
PYTHON_SUFFIXES = frozenset(suffix for suffix, name in SUFFIX_LANGUAGES.items() if name == "python")
_GRAMMAR_OF = {row.name: row.grammar for row in LANGUAGES if row.grammar}
# File suffix -> the ast-grep grammar that parses it.
SUFFIX_GRAMMARS = {
    **{suffix: _GRAMMAR_OF[name] for suffix, name in SUFFIX_LANGUAGES.items() if name in _GRAMMAR_OF},
    **OTHER_GRAMMAR_SUFFIXES,
}


def canonical_language(value: str) -> str:
    """`C#` -> `csharp`, `TypeScript` -> `typescript`; a name we do not know is kept, lower-cased."""
    name = value.strip().lower()
    return _CANONICAL.get(name, name)


def language_of(path: str) -> str | None:
    return SUFFIX_LANGUAGES.get(PurePosixPath(path.lower()).suffix)


def grammar_of(path: str, language: str) -> str | None:
    """The grammar that parses a file: by its suffix, or for a snippet without one by its language's name."""
    suffix = PurePosixPath(path).suffix.lower()
    if suffix:
        return SUFFIX_GRAMMARS.get(suffix)
    name = language.strip().lower()
    return OTHER_GRAMMAR_NAMES.get(name) or _GRAMMAR_OF.get(canonical_language(name))
