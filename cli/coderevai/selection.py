"""Which files the client sends, by the server's own rules, so that nothing is uploaded that the
server would skip (above all secret-bearing files, which never leave the machine) and every request
fits the server's caps.

These mirror shared/repo/files.py (`skip_reason`, text or binary, empty) and the caps of
shared/repo/review.py in CodeRevAI Functions. The client installs alone, so it cannot import them;
tests/test_cli_selection.py checks that both agree on a set of sample paths and on the caps."""

from __future__ import annotations

import re
from pathlib import PurePosixPath

# The caps of one review-repo request (shared/repo/review.py).
MAX_FILES = 1000
MAX_FILE_BYTES = 1024 * 1024
MAX_TOTAL_BYTES = 30 * 1024 * 1024
MAX_REQUEST_BYTES = 32 * 1024 * 1024

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


def skip_reason(path: str) -> str | None:
    """Why a file is not reviewed, judged by its path alone; None when it may be."""
    parts = PurePosixPath(path).parts
    name = parts[-1] if parts else path
    lower = name.lower()
    suffix = PurePosixPath(lower).suffix
    if lower == ".env" or lower.startswith(".env.") or lower.endswith(".env"):
        return "may hold secrets (environment file)"
    if lower in SECRET_NAMES or suffix in SECRET_SUFFIXES or _SECRET_PATTERN.search(lower):
        return "may hold secrets (key, certificate or credentials)"
    if vendored := next((part for part in parts[:-1] if part in VENDORED_DIRS), None):
        return f"vendored or generated ({vendored}/)"
    if name in LOCK_FILES:
        return "lock file"
    if lower.endswith(GENERATED_SUFFIXES):
        return "minified or generated"
    if suffix in BINARY_SUFFIXES:
        return "binary"
    return None


def skipped_directory(name: str) -> str | None:
    """A folder not walked at all, with the reason every file under it would get."""
    return f"vendored or generated ({name}/)" if name in VENDORED_DIRS else None


def as_text(raw: bytes) -> tuple[str | None, str | None]:
    """(text, None) for a file worth sending, else (None, why not): binary or empty, as the server judges."""
    if b"\x00" in raw:
        return None, "binary"
    try:
        text = raw.decode("utf-8")
    except UnicodeDecodeError:
        return None, "binary"
    if not text.strip():
        return None, "empty"
    return text, None
