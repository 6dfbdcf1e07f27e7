"""Language names as the web app sends them: its values (`typescript`, `csharp`) to review-code and
its labels (`TypeScript`, `C#`) to generate-diff, plus common aliases. Each becomes one canonical
value, so the analysers, the prompt and the review cache see one name per language."""

from __future__ import annotations

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
