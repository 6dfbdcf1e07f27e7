"""Language names as the web app sends them: its values (`typescript`, `csharp`) to review-code and
its labels (`TypeScript`, `C#`) to generate-diff, plus common aliases. Each becomes one canonical
value, so the analysers, the prompt and the review cache see one name per language."""

from __future__ import annotations

from pathlib import PurePosixPath

_ALIASES = {
    "typescript": ("ts", "tsx"),
    "javascript": ("js", "jsx", "node", "nodejs", "node.js"),
    "python": ("py", "python3"),
    "java": (),
    "go": ("golang",),
    "csharp": ("c#", "cs", "c-sharp", ".net"),
    "rust": ("rs",),
    "sql": (),
    "php": (),
    "ruby": ("rb",),
    "kotlin": ("kt",),
    "swift": (),
    "cpp": ("c++", "cxx"),
    "c": (),
    "html": ("htm",),
    "shell": ("bash", "sh", "zsh"),
    "yaml": ("yml",),
}
_CANONICAL = {alias: name for name, aliases in _ALIASES.items() for alias in (name, *aliases)}


def canonical_language(value: str) -> str:
    """`C#` -> `csharp`, `TypeScript` -> `typescript`; a name we do not know is kept, lower-cased."""
    name = value.strip().lower()
    return _CANONICAL.get(name, name)


# A file's language from its suffix (repository files, a pasted file's name), in the same names.
SUFFIX_LANGUAGES = {
    ".py": "python", ".pyi": "python", ".js": "javascript", ".mjs": "javascript", ".cjs": "javascript",
    ".jsx": "javascript", ".ts": "typescript", ".tsx": "typescript", ".go": "go", ".rs": "rust",
    ".java": "java", ".kt": "kotlin", ".kts": "kotlin", ".scala": "scala", ".rb": "ruby", ".php": "php",
    ".cs": "csharp", ".c": "c", ".h": "c", ".cc": "cpp", ".cpp": "cpp", ".hpp": "cpp", ".swift": "swift",
    ".m": "objective-c", ".dart": "dart", ".ex": "elixir", ".exs": "elixir", ".erl": "erlang", ".hs": "haskell",
    ".lua": "lua", ".r": "r", ".jl": "julia", ".sh": "shell", ".bash": "shell", ".ps1": "powershell",
    ".sql": "sql", ".vue": "vue", ".svelte": "svelte", ".html": "html", ".css": "css", ".scss": "scss",
    ".tf": "terraform", ".sol": "solidity", ".rake": "ruby", ".erb": "erb", ".phtml": "php",
    ".cshtml": "razor", ".razor": "razor",
}  # fmt: skip


def language_of(path: str) -> str | None:
    return SUFFIX_LANGUAGES.get(PurePosixPath(path.lower()).suffix)
