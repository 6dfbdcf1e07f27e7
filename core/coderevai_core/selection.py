"""Which files a review takes, judged by their path: secret-bearing files (never sent to the model;
the command line keeps them on the machine and checks them there), vendored and generated trees,
lock, minified and binary files, each with its reason; and the caps of one review-repo request.
The server (shared/repo/files.py, shared/repo/review.py) and the command line judge by these."""

from __future__ import annotations

import re
from pathlib import PurePosixPath

# The caps of one review-repo request.
MAX_FILES = 1000
MAX_FILE_BYTES = 1024 * 1024
MAX_REQUEST_BYTES = 32 * 1024 * 1024  # the JSON body, as the platform takes it (shared.http.PLATFORM_MAX_BODY_BYTES)
MAX_TOTAL_BYTES = 30 * 1024 * 1024  # the files' own bytes, leaving the body room for JSON escaping and keys
MAX_CUSTOM_PROMPT_CHARS = 5000  # the request's notes (customPrompt), in characters

VENDORED_DIRS = frozenset(
    {
        "node_modules", "vendor", "vendors", "bower_components", "third_party", "dist", "build", "out",
        ".git", ".hg", ".svn", "__pycache__", ".venv", "venv", ".tox", ".mypy_cache", ".pytest_cache",
        ".ruff_cache", ".next", ".nuxt", ".gradle", ".idea", "coverage", "htmlcov", "target", "site-packages",
    }
)  # fmt: skip
LOCK_FILES = frozenset(
    {
        "package-lock.json", "npm-shrinkwrap.json", "yarn.lock", "pnpm-lock.yaml", "bun.lockb", "poetry.lock",
        "Pipfile.lock", "uv.lock", "pdm.lock", "Cargo.lock", "composer.lock", "Gemfile.lock", "go.sum",
        "mix.lock", "pubspec.lock", "Podfile.lock", "flake.lock",
    }
)  # fmt: skip
SECRET_NAMES = frozenset(
    {
        "id_rsa", "id_dsa", "id_ecdsa", "id_ed25519", ".netrc", ".npmrc", ".pypirc", ".htpasswd", ".pgpass",
        "credentials", "credentials.json", "client_secret.json", "service-account.json", "secrets.json",
        "secrets.yml", "secrets.yaml", "terraform.tfstate", ".git-credentials", ".dockercfg",
    }
)  # fmt: skip
SECRET_SUFFIXES = frozenset(
    {".pem", ".key", ".p12", ".pfx", ".crt", ".cer", ".der", ".csr", ".jks", ".keystore", ".kdbx", ".ppk", ".tfvars"}
)
KUBE_CONFIGS = frozenset({"kubeconfig", "kube.config", "kubeconfig.yaml", "kubeconfig.yml"})
_SECRET_PATTERN = re.compile(r"(^|[-_.])(service[-_]?account|credentials?|client[-_]secret)([-_.].*)?\.json$", re.I)
BINARY_SUFFIXES = frozenset(
    {
        ".png", ".jpg", ".jpeg", ".gif", ".bmp", ".ico", ".webp", ".tiff", ".psd", ".pdf", ".zip", ".gz", ".tgz",
        ".bz2", ".xz", ".7z", ".rar", ".jar", ".war", ".class", ".pyc", ".pyo", ".so", ".dll", ".dylib", ".exe",
        ".bin", ".o", ".a", ".wasm", ".woff", ".woff2", ".ttf", ".otf", ".eot", ".mp3", ".mp4", ".wav", ".ogg",
        ".mov", ".avi", ".sqlite", ".sqlite3", ".db", ".parquet", ".pkl", ".npy", ".h5",
    }
)  # fmt: skip
GENERATED_SUFFIXES = (".min.js", ".min.css", ".min.mjs", ".js.map", ".css.map", ".map", "_pb2.py", ".pb.go")


def secret_kind(path: str) -> str | None:
    """What kind of secret-bearing file the path names, or None."""
    parts = PurePosixPath(path).parts
    lower = (parts[-1] if parts else path).lower()
    suffix = PurePosixPath(lower).suffix
    if lower == ".env" or lower.startswith(".env.") or lower.endswith(".env"):
        return "environment file"
    if lower in KUBE_CONFIGS or (lower == "config" and len(parts) > 1 and parts[-2] == ".kube"):
        return "kube config"
    if lower in SECRET_NAMES or suffix in SECRET_SUFFIXES or _SECRET_PATTERN.search(lower):
        return "key, certificate or credentials"
    return None


def skip_reason(path: str) -> str | None:
    """Why a file is not reviewed by the model, judged by its path alone; None when it may be.
    (The command line keeps the secret-bearing ones on the machine.)"""
    parts = PurePosixPath(path).parts
    name = parts[-1] if parts else path
    lower = name.lower()
    suffix = PurePosixPath(lower).suffix
    if holds := secret_kind(path):
        return f"may hold secrets ({holds})"
    if vendored := _vendored_dir(parts[:-1]):
        return f"vendored or generated ({vendored}/)"
    if name in LOCK_FILES:
        return "lock file"
    if lower.endswith(GENERATED_SUFFIXES):
        return "minified or generated"
    if suffix in BINARY_SUFFIXES:
        return "binary"
    return None


def fetch_skip_reason(path: str) -> str | None:
    """`skip_reason` for a fetched archive: secret-bearing files are read too, to be scanned
    (`select` keeps them from the model)."""
    return None if secret_kind(path) else skip_reason(path)


def skipped_directory(path: str) -> str | None:
    """A folder not walked at all, with the reason every file under it would get (`path`: the
    folder's, as its files would be sent)."""
    vendored = _vendored_dir(PurePosixPath(path).parts)
    return f"vendored or generated ({vendored}/)" if vendored else None


def _vendored_dir(dirs: tuple[str, ...]) -> str | None:
    """The first vendored or generated directory on the path; a doc/build/ (or docs/out/) holds
    documentation sources in many projects, not output, so it does not count."""
    for index, part in enumerate(dirs):
        if part in VENDORED_DIRS and not (index and dirs[index - 1].lower() in ("doc", "docs", "documentation")):
            return part
    return None


def as_text(raw: str | bytes) -> tuple[str | None, str | None]:
    """(text, None) for a file worth reviewing, else (None, why not): binary or empty."""
    text = decoded(raw)
    if text is None:
        return None, "binary"
    if not text.strip():
        return None, "empty"
    return text, None


def decoded(raw: str | bytes) -> str | None:
    """The file's text; None for a binary one: a NUL anywhere (a request's text may hold none), or not UTF-8."""
    if isinstance(raw, str):
        return None if "\x00" in raw else raw
    if b"\x00" in raw:
        return None
    try:
        return raw.decode("utf-8")
    except UnicodeDecodeError:
        return None
