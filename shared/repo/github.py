"""Public GitHub repositories as files: the URL rules, and the archive of one ref fetched through the
GitHub API with every size cap enforced while the stream is read and unpacked (nothing touches disk)."""

from __future__ import annotations

import io
import re
import zlib
from collections.abc import Callable, Iterator
from typing import TYPE_CHECKING, NamedTuple
from urllib.parse import quote, urljoin, urlsplit

import httpx

from shared.config import get_settings
from shared.errors import ApiError

if TYPE_CHECKING:
    import tarfile

CODELOAD_ORIGIN = "https://codeload.github.com"
MAX_REDIRECTS = 3
MAX_URL_CHARS = 2048
MAX_PATH_CHARS = 1024  # as for files sent by the client

# Hand-written as one regex over the raw string rather than urlsplit + checks: parsers disagree on
# user-info, backslashes, tabs and percent-escapes, and a whole-string match leaves nothing to argue
# about. Names follow GitHub's own rules (owner: letters, digits, single hyphens; repo: [\w.-]).
# Case folds in ASCII only (`a`): a Unicode-aware (?i) matches "ı", "İ" and "ſ" as i and s, so
# https://gıthub.com would pass; parse_repo_url also refuses any non-ASCII address outright.
_REPO_URL = re.compile(
    r"(?ai:https://github\.com)"
    r"/(?P<owner>[A-Za-z0-9](?:[A-Za-z0-9]|-(?=[A-Za-z0-9])){0,38})"
    r"/(?P<name>[A-Za-z0-9._-]{1,100})"
    r"(?:/tree/(?P<ref>[A-Za-z0-9._/-]{1,255}))?"
    r"/?"
)


class RepoRef(NamedTuple):
    owner: str
    name: str
    ref: str | None = None

    @property
    def url(self) -> str:
        base = f"https://github.com/{self.owner}/{self.name}"
        return f"{base}/tree/{self.ref}" if self.ref else base


def invalid_repo_url(why: str) -> ApiError:
    return ApiError(
        400,
        "INVALID_REPO_URL",
        f"repoUrl: {why}. Use a public repository as https://github.com/<owner>/<repo> (optionally /tree/<ref>).",
    )


def parse_repo_url(url: str) -> RepoRef:
    """Accept only https://github.com/<owner>/<repo>[.git][/][/tree/<ref>]; anything else is a 400."""
    if len(url) > MAX_URL_CHARS:
        raise invalid_repo_url(f"longer than {MAX_URL_CHARS} characters")
    if not url.isascii():
        raise invalid_repo_url("not a github.com repository address (only ASCII letters are allowed)")
    match = _REPO_URL.fullmatch(url)
    if not match:
        raise invalid_repo_url("not a github.com repository address")
    owner, name, ref = match["owner"], match["name"], match["ref"]
    if ref is not None and name.lower().endswith(".git"):
        raise invalid_repo_url("a .git address has no /tree/ part")
    name = name[:-4] if name.lower().endswith(".git") else name
    if name in ("", ".", ".."):
        raise invalid_repo_url("not a repository name")
    if ref is not None:
        ref = ref.rstrip("/")
        if not ref or ref.startswith("/") or "//" in ref or ".." in ref or ref.endswith((".lock", ".")):
            raise invalid_repo_url("not a branch, tag or commit name")
    return RepoRef(owner, name, ref)


_OWNER = re.compile(r"[A-Za-z0-9](?:[A-Za-z0-9]|-(?=[A-Za-z0-9])){0,38}")
_NAME = re.compile(r"[A-Za-z0-9._-]{1,100}")


def label_repo_url(url: str) -> str:
    """The repository a client-sent review came from, as `https://github.com/<owner>/<repo>`, from
    any address the web app's form takes: http, a trailing .git, /tree/<ref>, /blob/<ref>/<path>,
    ?tab=..., #readme. Only a label for the history; nothing is fetched, so parse_repo_url stays
    the strict gate for a review the server fetches. ASCII only, so no look-alike host passes."""
    if len(url) > MAX_URL_CHARS or not url.isascii():
        raise invalid_repo_url("not a github.com repository address")
    try:
        parts = urlsplit(url.strip())
        host = parts.hostname or ""
    except ValueError:  # a malformed IPv6 literal
        raise invalid_repo_url("not a github.com repository address") from None
    if parts.scheme.lower() not in ("http", "https") or host != "github.com":
        raise invalid_repo_url("not a github.com repository address")
    owner, _, rest = parts.path.strip("/").partition("/")
    name = rest.split("/", 1)[0]
    name = name[:-4] if name.lower().endswith(".git") else name
    if not _OWNER.fullmatch(owner) or not _NAME.fullmatch(name) or name in (".", ".."):
        raise invalid_repo_url("no <owner>/<repo> in the address")
    return f"https://github.com/{owner}/{name}"


class ArchiveLimits(NamedTuple):
    archive_bytes: int = 25 * 1024 * 1024  # the gzipped tarball as it arrives
    total_bytes: int = 100 * 1024 * 1024  # every member unpacked, kept or not: a gzip bomb stops here
    files: int = 20_000  # members in the archive
    file_bytes: int = 1024 * 1024  # one file; larger ones are listed as skipped, not read


class Archive(NamedTuple):
    files: list[tuple[str, bytes]]
    skipped: list[tuple[str, str]]

    def skip(self, path: str, reason: str) -> None:
        self.skipped.append((path[:MAX_PATH_CHARS], reason))  # a name can be megabytes long


def fetch_repository(
    repo: RepoRef, limits: ArchiveLimits | None = None, *, skip: Callable[[str], str | None] | None = None
) -> Archive:
    """The files of one ref of a public repository (the default branch when no ref is given).
    `skip(path)` gives a reason to leave a file unread (e.g. node_modules/), None to read it."""
    settings = get_settings()
    limits = limits or ArchiveLimits(archive_bytes=settings.repo_archive_max_bytes)
    api = settings.github_api_url.rstrip("/")
    path = f"/repos/{quote(repo.owner)}/{quote(repo.name)}/tarball"
    if repo.ref:
        path += "/" + quote(repo.ref, safe="/")
    allowed = {_origin(api), CODELOAD_ORIGIN}
    auth = {"Authorization": f"Bearer {settings.github_token}"} if settings.github_token else {}
    headers = {
        "Accept": "application/vnd.github+json",
        "X-GitHub-Api-Version": "2022-11-28",
        "User-Agent": "coderevai-functions",
    }
    timeout = httpx.Timeout(settings.github_timeout_seconds, connect=10.0)
    try:
        with httpx.Client(timeout=timeout, follow_redirects=False) as client:
            if auth:
                _require_public(client, api, repo, {**headers, **auth})
            url = api + path
            for hop in range(MAX_REDIRECTS + 1):
                # The token goes to the API call only: the redirect URL GitHub answers carries its own grant.
                sent = {**headers, **(auth if hop == 0 else {})}
                with client.stream("GET", url, headers=sent) as response:
                    if response.is_redirect:
                        url = _redirect_target(url, response, allowed)
                        continue
                    _raise_for_status(response, repo)
                    return _unpack(response, limits, skip)
            raise ApiError(502, "GITHUB_ERROR", "GitHub redirected the archive download too many times.")
    except httpx.TimeoutException:
        raise ApiError(
            502, "GITHUB_UNAVAILABLE", "GitHub did not answer in time; try again shortly.", retryable=True
        ) from None
    except httpx.TransportError as exc:
        raise ApiError(
            502, "GITHUB_UNAVAILABLE", f"GitHub could not be reached ({type(exc).__name__}).", retryable=True
        ) from None


def _require_public(client: httpx.Client, api: str, repo: RepoRef, headers: dict[str, str]) -> None:
    """The token may read private repositories, and any user may ask for any repository: only a
    public one is fetched. A private one is not found, so its existence is not revealed."""
    url = f"{api}/repos/{quote(repo.owner)}/{quote(repo.name)}"
    for _ in range(MAX_REDIRECTS + 1):
        response = client.get(url, headers=headers)
        if not response.is_redirect:
            break
        url = _redirect_target(url, response, {_origin(api)})  # a renamed repository; the token stays on the API
    else:
        raise ApiError(502, "GITHUB_ERROR", "GitHub redirected the repository details too many times.")
    _raise_for_status(response, repo)
    try:
        private = response.json().get("private")
    except (ValueError, AttributeError):
        raise ApiError(502, "GITHUB_ERROR", "GitHub sent repository details that could not be read.") from None
    if private is not False:
        raise repo_not_found(repo)


def repo_not_found(repo: RepoRef) -> ApiError:
    return ApiError(404, "REPO_NOT_FOUND", f"{repo.url} was not found, or it is private.")


def _origin(url: str) -> str:
    parts = urlsplit(url)
    return f"{parts.scheme}://{parts.netloc}".lower()


def _redirect_target(current: str, response: httpx.Response, allowed: set[str]) -> str:
    location = response.headers.get("Location", "")
    target = urljoin(current, location)
    parts = urlsplit(target)
    if not location or parts.username or parts.password or _origin(target) not in allowed:
        raise ApiError(
            400,
            "INVALID_REPO_URL",
            "GitHub redirected the archive download away from GitHub; nothing was fetched from there.",
        )
    return target


def _raise_for_status(response: httpx.Response, repo: RepoRef) -> None:
    status = response.status_code
    if status == 200:
        return
    if status == 404:
        raise repo_not_found(repo)
    rate_limited = status == 429 or (status == 403 and response.headers.get("x-ratelimit-remaining") == "0")
    if rate_limited:
        retry_after = response.headers.get("retry-after")
        raise ApiError(
            503,
            "GITHUB_RATE_LIMITED",
            "GitHub's rate limit for repository downloads is used up; try again later.",
            retryable=True,
            headers={"Retry-After": retry_after} if retry_after and retry_after.isdigit() else None,
        )
    if status >= 500:
        raise ApiError(502, "GITHUB_UNAVAILABLE", f"GitHub answered {status}; try again shortly.", retryable=True)
    raise ApiError(502, "GITHUB_ERROR", f"GitHub refused the request for the repository ({status}).")


def _unpack(response: httpx.Response, limits: ArchiveLimits, skip: Callable[[str], str | None] | None) -> Archive:
    declared = response.headers.get("Content-Length")
    if declared and declared.isdigit() and int(declared) > limits.archive_bytes:
        raise archive_too_large(limits.archive_bytes)
    stream = io.BufferedReader(_CappedStream(response.iter_bytes(), limits.archive_bytes), buffer_size=64 * 1024)
    import tarfile  # here, not at start: only a repoUrl review unpacks an archive

    archive = Archive(files=[], skipped=[])
    members = unpacked = 0
    try:
        # "r|gz": a forward-only stream, so the archive is never held whole in memory or on disk.
        with tarfile.open(fileobj=stream, mode="r|gz") as tar:
            for member in tar:
                members += 1
                if members > limits.files:
                    raise ApiError(413, "PAYLOAD_TOO_LARGE", f"The repository has more than {limits.files} files.")
                # Header blocks too: a GNU long name or PAX header can be megabytes with a tiny size.
                unpacked += max(member.size, 0) + member.offset_data - member.offset
                if unpacked > limits.total_bytes:
                    raise ApiError(
                        413,
                        "PAYLOAD_TOO_LARGE",
                        f"The repository unpacks to more than the limit of {limits.total_bytes} bytes.",
                    )
                _take(tar, member, limits, archive, skip)
    except (tarfile.TarError, zlib.error, EOFError, OSError) as exc:
        raise ApiError(
            502, "GITHUB_ERROR", f"GitHub sent an archive that could not be read ({type(exc).__name__})."
        ) from None
    return archive


def archive_too_large(limit: int) -> ApiError:
    return ApiError(413, "PAYLOAD_TOO_LARGE", f"The repository archive is larger than the limit of {limit} bytes.")


def _take(
    tar: tarfile.TarFile,
    member: tarfile.TarInfo,
    limits: ArchiveLimits,
    archive: Archive,
    skip: Callable[[str], str | None] | None,
) -> None:
    if member.isdir() or member.type in (b"g", b"x"):  # tarfile.XGLTYPE, XHDTYPE: PAX headers
        return
    if not _is_utf8(member.name):
        # tarfile keeps undecodable bytes as surrogates, which neither JSON nor PostgreSQL accept.
        shown = member.name.encode("utf-8", "surrogateescape").decode("utf-8", "replace")
        archive.skip(_inner_path(shown) or shown, "file name is not valid UTF-8")
        return
    path = _inner_path(member.name)
    if path is None:
        archive.skip(member.name, "unsafe path in the archive")
    elif member.issym() or member.islnk():
        archive.skip(path, "link")
    elif not member.isfile():
        archive.skip(path, "not a regular file")
    elif skip is not None and (reason := skip(path)) is not None:
        archive.skip(path, reason)
    elif member.size > limits.file_bytes:
        archive.skip(path, f"larger than the per-file limit of {limits.file_bytes} bytes")
    elif len(path) > MAX_PATH_CHARS:
        archive.skip(path, f"path longer than {MAX_PATH_CHARS} characters")
    else:
        handle = tar.extractfile(member)
        archive.files.append((path, handle.read() if handle else b""))


def _is_utf8(name: str) -> bool:
    try:
        name.encode("utf-8")
    except UnicodeEncodeError:
        return False
    return True


def _inner_path(name: str) -> str | None:
    """GitHub puts everything under one `<owner>-<repo>-<sha>/` folder: drop it. None if unsafe."""
    if name.startswith("/") or "\\" in name or "\x00" in name:
        return None
    parts = [part for part in name.split("/") if part not in ("", ".")]
    if any(part == ".." for part in parts) or len(parts) < 2:
        return None
    return "/".join(parts[1:])


class _CappedStream(io.RawIOBase):
    """The response body as a file for tarfile, stopping with a 413 the moment it passes the cap."""

    def __init__(self, chunks: Iterator[bytes], limit: int) -> None:
        self._chunks = iter(chunks)
        self._pending = b""
        self._limit = limit
        self._read = 0

    def readable(self) -> bool:
        return True

    def readinto(self, buffer) -> int:
        while not self._pending:
            chunk = next(self._chunks, None)
            if chunk is None:
                return 0
            self._read += len(chunk)
            if self._read > self._limit:
                raise archive_too_large(self._limit)
            self._pending = chunk
        size = min(len(buffer), len(self._pending))
        buffer[:size] = self._pending[:size]
        self._pending = self._pending[size:]
        return size
