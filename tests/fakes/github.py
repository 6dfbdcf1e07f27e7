"""A fake of GitHub's archive download: `GET /repos/{owner}/{repo}/tarball[/{ref}]` answers 302 to a
codeload-style path on the same fake (as api.github.com redirects to codeload.github.com), which
serves a gzipped tarball built in the test with GitHub's `<owner>-<repo>-<sha>/` top folder.
`GET /repos/{owner}/{repo}` answers the repository's metadata: public unless served as private.
FakePullRequests: the pull-request review endpoints (files, reviews, review and issue comments, edits)."""

from __future__ import annotations

import io
import tarfile
import time

from tests.fakes.server import FakeServer, Reply, Seen


def build_tarball(
    files: dict[str, str | bytes],
    *,
    top: str = "octo-demo-0123abc",
    symlinks: dict[str, str] | None = None,
    raw_names: dict[str, bytes] | None = None,
) -> bytes:
    """`files` go under `top/`; `symlinks` are link -> target; `raw_names` are members named as given."""
    buffer = io.BytesIO()
    with tarfile.open(fileobj=buffer, mode="w:gz") as tar:
        folder = tarfile.TarInfo(top)
        folder.type = tarfile.DIRTYPE
        tar.addfile(folder)
        for path, content in files.items():
            _add(tar, f"{top}/{path}", content)
        for link, target in (symlinks or {}).items():
            info = tarfile.TarInfo(f"{top}/{link}")
            info.type = tarfile.SYMTYPE
            info.linkname = target
            tar.addfile(info)
        for name, content in (raw_names or {}).items():
            _add(tar, name, content)
    return buffer.getvalue()


def _add(tar: tarfile.TarFile, name: str, content: str | bytes) -> None:
    data = content.encode() if isinstance(content, str) else content
    info = tarfile.TarInfo(name)
    info.size = len(data)
    tar.addfile(info, io.BytesIO(data))


class FakeGitHub(FakeServer):
    def __init__(self) -> None:
        super().__init__()
        self.private: set[str] = set()  # "owner/repo" of repositories the token may read but are private
        self.route("GET", "/repos/", self._metadata)  # registered first: every later route wins over it

    def _metadata(self, seen: Seen) -> Reply:
        parts = seen.path.strip("/").split("/")
        if len(parts) != 3:
            return Reply(404, {"message": "Not Found"})
        full_name = f"{parts[1]}/{parts[2]}"
        return Reply(200, {"full_name": full_name, "private": full_name in self.private})

    def serve_repo(
        self, owner: str, repo: str, tarball: bytes, *, ref: str | None = None, private: bool = False
    ) -> None:
        if private:
            self.private.add(f"{owner}/{repo}")
        api_path = f"/repos/{owner}/{repo}/tarball" + (f"/{ref}" if ref else "")
        download = f"/codeload/{owner}/{repo}/legacy.tar.gz/{ref or 'HEAD'}"

        def redirect(seen: Seen) -> Reply:
            if seen.path.rstrip("/") != api_path:
                return Reply(404, {"message": "Not Found"})
            return Reply(302, headers={"Location": self.url + download})

        self.route("GET", api_path, redirect)
        self.route("GET", download, Reply(200, tarball, {"Content-Type": "application/x-gzip"}))


class PullRequest:
    """One pull request's state in the fake: its diff as GitHub holds it (path -> unified patch), the
    review comments, the reviews and the issue comments made on it, and every edit."""

    def __init__(self, patches: dict[str, str]) -> None:
        self.patches = patches
        self.reviews: list[dict] = []
        self.review_comments: list[dict] = []
        self.issue_comments: list[dict] = []
        self.edits: list[tuple[str, int, str]] = []  # (kind, id, new body)
        self.refused: list[dict] = []  # review bodies answered 422


class FakePullRequests(FakeServer):
    """GitHub's REST API for pull-request reviews, as `coderevai review --github-review` uses it:
    list the files (with patches), review comments and issue comments (paged with Link headers);
    create a review (422 when a comment's line is not on the new side of the diff, or is in
    `refuse`); edit a review comment or an issue comment. `read_only` answers writes 403 as a fork's
    token gets; `rate_limited` answers the next N calls 403 with the rate-limit headers spent."""

    def __init__(self, owner: str = "octo", repo: str = "demo") -> None:
        super().__init__()
        self.base = f"/repos/{owner}/{repo}/"
        self.pulls: dict[int, PullRequest] = {}
        self.read_only = False
        self.rate_limited = 0
        self.refuse: set[tuple[str, int]] = set()
        self._ids = 1000
        self.route("*", self.base, self._serve_api)

    def open_pull_request(self, number: int, patches: dict[str, str]) -> PullRequest:
        self.pulls[number] = PullRequest(patches)
        return self.pulls[number]

    def _next_id(self) -> int:
        self._ids += 1
        return self._ids

    def _serve_api(self, seen: Seen) -> Reply:
        if seen.headers.get("Authorization", "") != "Bearer ghs_fake_token":
            return Reply(401, {"message": "Bad credentials"})
        if self.rate_limited:
            self.rate_limited -= 1
            reset = str(int(time.time()) + 1)
            return Reply(
                403, {"message": "API rate limit exceeded"}, {"X-RateLimit-Remaining": "0", "X-RateLimit-Reset": reset}
            )
        parts = seen.path[len(self.base) :].strip("/").split("/")
        writes = seen.method in ("POST", "PATCH", "PUT", "DELETE")
        if writes and self.read_only:
            return Reply(403, {"message": "Resource not accessible by integration"})
        match parts, seen.method:
            case ["pulls", number, "files"], "GET":
                pull = self.pulls[int(number)]
                return self._page(
                    seen, [{"filename": p, "status": "modified", "patch": t} for p, t in pull.patches.items()]
                )
            case ["pulls", number, "comments"], "GET":
                return self._page(seen, self.pulls[int(number)].review_comments)
            case ["pulls", number, "reviews"], "POST":
                return self._review(self.pulls[int(number)], seen.json())
            case ["pulls", "comments", comment_id], "PATCH":
                return self._edit("review", int(comment_id), seen.json()["body"])
            case ["issues", number, "comments"], "GET":
                return self._page(seen, self.pulls[int(number)].issue_comments)
            case ["issues", number, "comments"], "POST":
                comment = {"id": self._next_id(), "body": seen.json()["body"], "user": {"login": "github-actions[bot]"}}
                self.pulls[int(number)].issue_comments.append(comment)
                return Reply(201, comment)
            case ["issues", "comments", comment_id], "PATCH":
                return self._edit("issue", int(comment_id), seen.json()["body"])
        return Reply(404, {"message": "Not Found"})

    def _page(self, seen: Seen, items: list[dict]) -> Reply:
        size = int(seen.query.get("per_page", ["30"])[0])
        page = int(seen.query.get("page", ["1"])[0])
        chunk = items[(page - 1) * size : page * size]
        headers = {}
        if page * size < len(items):
            headers["Link"] = f'<{self.url}{seen.path}?per_page={size}&page={page + 1}>; rel="next"'
        return Reply(200, chunk, headers)

    def _review(self, pull: PullRequest, body: dict) -> Reply:
        for comment in body.get("comments", []):
            lines = _new_side_lines(pull.patches.get(comment["path"], ""))
            placed = {comment["line"], comment.get("start_line", comment["line"])}
            if (
                comment.get("side", "RIGHT") != "RIGHT"
                or not placed <= lines
                or (comment["path"], comment["line"]) in self.refuse
            ):
                pull.refused.append(body)
                return Reply(422, {"message": "Unprocessable Entity", "errors": ["Line could not be resolved"]})
        review = {
            "id": self._next_id(),
            "body": body.get("body", ""),
            "commit_id": body.get("commit_id"),
            "event": body.get("event"),
        }
        pull.reviews.append({**review, "comments": body.get("comments", [])})
        for comment in body.get("comments", []):
            pull.review_comments.append({**comment, "id": self._next_id(), "pull_request_review_id": review["id"]})
        return Reply(200, review)

    def _edit(self, kind: str, comment_id: int, body: str) -> Reply:
        for pull in self.pulls.values():
            for comment in pull.review_comments if kind == "review" else pull.issue_comments:
                if comment["id"] == comment_id:
                    comment["body"] = body
                    pull.edits.append((kind, comment_id, body))
                    return Reply(200, comment)
        return Reply(404, {"message": "Not Found"})


def _new_side_lines(patch: str) -> set[int]:
    """The new-side lines a unified patch shows (added and context): where GitHub places a comment."""
    lines, line = set(), 0
    for text in patch.split("\n"):
        if text.startswith("@@"):
            line = int(text.split("+", 1)[1].split(",")[0].split(" ")[0])
        elif text.startswith(("+", " ")):
            lines.add(line)
            line += 1
    return lines
