"""A fake of GitHub's archive download: `GET /repos/{owner}/{repo}/tarball[/{ref}]` answers 302 to a
codeload-style path on the same fake (as api.github.com redirects to codeload.github.com), which
serves a gzipped tarball built in the test with GitHub's `<owner>-<repo>-<sha>/` top folder.
`GET /repos/{owner}/{repo}` answers the repository's metadata: public unless served as private.
FakePullRequests: the pull-request review endpoints (files, reviews, review and issue comments, edits)."""

from __future__ import annotations

import difflib
import io
import tarfile
import threading
import time
import uuid
from urllib.parse import parse_qs, unquote

import jwt

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


# --- the GitHub App's side of the API ------------------------------------------------------------


class FakeRepository:
    """A repository as commits (sha -> {path: content}, with parents), branches and pull requests."""

    def __init__(self, full_name: str, repo_id: int, installation_id: int) -> None:
        self.full_name, self.id, self.installation_id = full_name, repo_id, installation_id
        self.commits: dict[str, tuple[dict[str, str], str | None]] = {}  # sha -> (tree, parent)
        self.branches: dict[str, str] = {}
        self.pulls: dict[int, dict] = {}
        self.permissions: dict[str, str] = {}  # login -> admin/maintain/write/triage/read
        self.check_runs: list[dict] = []
        self._count = 0

    def commit(self, files: dict[str, str | None], *, parent: str | None = None, branch: str | None = None) -> str:
        """A new commit: `files` over the parent's tree (None removes a file); moves `branch` to it."""
        tree = dict(self.commits[parent][0]) if parent else {}
        for path, content in files.items():
            if content is None:
                tree.pop(path, None)
            else:
                tree[path] = content
        self._count += 1
        sha = (f"{self._count:04x}" + uuid.uuid4().hex + uuid.uuid4().hex)[:40]
        self.commits[sha] = (tree, parent)
        if branch:
            self.branches[branch] = sha
        return sha

    def tree(self, ref: str) -> dict[str, str] | None:
        sha = self.branches.get(ref, ref)
        return self.commits[sha][0] if sha in self.commits else None

    def open_pull_request(
        self,
        number: int,
        head: str,
        *,
        base: str = "main",
        draft: bool = False,
        user: str = "octocat",
        user_type: str = "User",
    ) -> dict:
        self.pulls[number] = {
            "number": number,
            "state": "open",
            "draft": draft,
            "head": {"sha": head, "ref": f"topic-{number}"},
            "base": {"ref": base, "sha": self.branches[base]},
            "user": {"login": user, "type": user_type},
            "reviews": [],
            "review_comments": [],
            "issue_comments": [],
            "edits": [],
            "refused": [],
        }
        return self.pulls[number]

    def push(self, number: int, files: dict[str, str | None]) -> str:
        pull = self.pulls[number]
        pull["head"]["sha"] = self.commit(files, parent=pull["head"]["sha"])
        return pull["head"]["sha"]

    def ancestors(self, sha: str) -> list[str]:
        seen = []
        while sha:
            seen.append(sha)
            sha = self.commits[sha][1]
        return seen


def diff_files(old: dict[str, str], new: dict[str, str]) -> list[dict]:
    """GitHub's file list of a diff: filename, status and the unified `patch` (hunks only)."""
    files = []
    for path in sorted(set(old) | set(new)):
        before, after = old.get(path), new.get(path)
        if before == after:
            continue
        status = "added" if before is None else "removed" if after is None else "modified"
        lines = difflib.unified_diff((before or "").splitlines(), (after or "").splitlines(), lineterm="", n=3)
        patch = "\n".join(list(lines)[2:])
        files.append({"filename": path, "status": status, "patch": patch, "additions": patch.count("\n+")})
    return files


class FakeGitHubApp(FakeServer):
    """GitHub's REST API as the app meets it. The app JWT is checked against the app's public key
    (RS256, `iss` = the app id, at most ten minutes); installation tokens are issued for one
    installation and checked on every repository call; the pull requests' files carry their
    `patch`; contents are served at any commit or branch; reviews, review comments, issue comments
    (with edits), check runs and collaborator permissions are kept. OAuth: the setup redirect's
    `code` exchanged at /login/oauth/access_token, and GET /user/installations with the user's token."""

    def __init__(self, app_id: str, public_pem: str, *, slug: str = "coderevai-test") -> None:
        super().__init__()
        self.app_id, self.public_pem, self.slug = app_id, public_pem, slug
        self.repos: dict[str, FakeRepository] = {}
        self.tokens: dict[str, tuple[int, float]] = {}  # token -> (installation, expires)
        self.token_calls: list[int] = []
        self.oauth_codes: dict[str, str] = {}  # code -> user login
        self.user_installations: dict[str, list[int]] = {}  # login -> installations they may administer
        self.client_id, self.client_secret = "Iv1.testclient", "test-client-secret"
        self._ids = 5000
        self._lock2 = threading.Lock()
        self.route("*", "/", self._serve)

    def repository(self, full_name: str, *, installation_id: int = 42, repo_id: int | None = None) -> FakeRepository:
        repo = FakeRepository(full_name, repo_id or 100 + len(self.repos), installation_id)
        self.repos[full_name] = repo
        return repo

    def next_id(self) -> int:
        with self._lock2:
            self._ids += 1
            return self._ids

    def _serve(self, seen: Seen) -> Reply:
        path = seen.path
        if path == "/login/oauth/access_token" and seen.method == "POST":
            return self._oauth(seen)
        if path == "/user/installations" and seen.method == "GET":
            return self._user_installations(seen)
        if path.startswith("/app"):
            problem = self._app_jwt_problem(seen)
            if problem:
                return Reply(401, {"message": problem})
            if path == "/app":
                return Reply(200, {"id": int(self.app_id), "slug": self.slug})
            parts = path.strip("/").split("/")
            if (
                len(parts) == 4
                and parts[1] == "installations"
                and parts[3] == "access_tokens"
                and seen.method == "POST"
            ):
                installation = int(parts[2])
                token = "ghs_" + uuid.uuid4().hex
                expires = time.time() + 3600
                self.tokens[token] = (installation, expires)
                self.token_calls.append(installation)
                stamp = time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime(expires))
                return Reply(201, {"token": token, "expires_at": stamp})
            return Reply(404, {"message": "Not Found"})
        if path.startswith("/repos/"):
            return self._repos(seen)
        return Reply(404, {"message": "Not Found"})

    def _app_jwt_problem(self, seen: Seen) -> str | None:
        scheme, _, token = seen.headers.get("Authorization", "").partition(" ")
        if scheme != "Bearer":
            return "A JSON web token could not be decoded"
        try:
            claims = jwt.decode(
                token, self.public_pem, algorithms=["RS256"], options={"require": ["iat", "exp", "iss"]}
            )
        except jwt.PyJWTError as exc:
            return f"A JSON web token could not be decoded ({type(exc).__name__})"
        if str(claims["iss"]) != self.app_id:
            return "'Issuer' claim ('iss') must be an Integer"
        if claims["exp"] - claims["iat"] > 660:
            return "'Expiration time' claim ('exp') is too far in the future"
        return None

    def _repos(self, seen: Seen) -> Reply:
        parts = seen.path.strip("/").split("/")
        full_name = "/".join(parts[1:3])
        repo = self.repos.get(full_name)
        scheme, _, token = seen.headers.get("Authorization", "").partition(" ")
        issued = self.tokens.get(token) if scheme == "Bearer" else None
        if issued is None or issued[1] < time.time():
            return Reply(401, {"message": "Bad credentials"})
        if repo is None or repo.installation_id != issued[0]:
            return Reply(404, {"message": "Not Found"})
        rest = parts[3:]
        match rest, seen.method:
            case ["pulls", number], "GET":
                return self._pull(repo, int(number))
            case ["pulls", number, "files"], "GET":
                pull = repo.pulls[int(number)]
                return self._page(seen, diff_files(repo.tree(pull["base"]["sha"]), repo.tree(pull["head"]["sha"])))
            case ["pulls", number, "comments"], "GET":
                return self._page(seen, repo.pulls[int(number)]["review_comments"])
            case ["pulls", number, "reviews"], "POST":
                return self._review(repo, repo.pulls[int(number)], seen.json())
            case ["pulls", "comments", comment_id], "PATCH":
                return self._edit(repo, "review_comments", int(comment_id), seen.json()["body"])
            case ["issues", number, "comments"], "GET":
                return self._page(seen, repo.pulls[int(number)]["issue_comments"])
            case ["issues", number, "comments"], "POST":
                comment = {
                    "id": self.next_id(),
                    "body": seen.json()["body"],
                    "user": {"login": f"{self.slug}[bot]", "type": "Bot"},
                }
                repo.pulls[int(number)]["issue_comments"].append(comment)
                return Reply(201, comment)
            case ["issues", "comments", comment_id], "PATCH":
                return self._edit(repo, "issue_comments", int(comment_id), seen.json()["body"])
            case ["compare", spec], "GET":
                return self._compare(repo, spec)
            case ["contents", *path], "GET":
                tree = repo.tree(seen.query.get("ref", ["main"])[0])
                name = unquote("/".join(path))
                if tree is None or name not in tree:
                    return Reply(404, {"message": "Not Found"})
                return Reply(200, tree[name].encode(), {"Content-Type": "application/vnd.github.raw+json"})
            case ["collaborators", login, "permission"], "GET":
                permission = repo.permissions.get(login, "none")
                return Reply(200, {"permission": permission, "role_name": permission, "user": {"login": login}})
            case ["check-runs"], "POST":
                run = {**seen.json(), "id": self.next_id()}
                repo.check_runs.append(run)
                return Reply(201, run)
        return Reply(404, {"message": "Not Found"})

    def _pull(self, repo: FakeRepository, number: int) -> Reply:
        pull = repo.pulls.get(number)
        if pull is None:
            return Reply(404, {"message": "Not Found"})
        shown = {k: pull[k] for k in ("number", "state", "draft", "head", "base", "user")}
        return Reply(200, shown)

    def _compare(self, repo: FakeRepository, spec: str) -> Reply:
        base, _, head = spec.partition("...")
        if base not in repo.commits or head not in repo.commits:
            return Reply(404, {"message": "Not Found"})
        ahead = base in repo.ancestors(head)
        status = "identical" if base == head else "ahead" if ahead else "diverged"
        return Reply(200, {"status": status, "files": diff_files(repo.tree(base), repo.tree(head))})

    def _page(self, seen: Seen, items: list[dict]) -> Reply:
        size = int(seen.query.get("per_page", ["30"])[0])
        page = int(seen.query.get("page", ["1"])[0])
        headers = {}
        if page * size < len(items):
            headers["Link"] = f'<{self.url}{seen.path}?per_page={size}&page={page + 1}>; rel="next"'
        return Reply(200, items[(page - 1) * size : page * size], headers)

    def _review(self, repo: FakeRepository, pull: dict, body: dict) -> Reply:
        patches = {
            f["filename"]: f["patch"]
            for f in diff_files(repo.tree(pull["base"]["sha"]), repo.tree(pull["head"]["sha"]))
        }
        for comment in body.get("comments", []):
            lines = _new_side_lines(patches.get(comment["path"], ""))
            placed = {comment["line"], comment.get("start_line", comment["line"])}
            if comment.get("side", "RIGHT") != "RIGHT" or not placed <= lines:
                pull["refused"].append(body)
                return Reply(422, {"message": "Unprocessable Entity", "errors": ["Line could not be resolved"]})
        review = {
            "id": self.next_id(),
            "body": body.get("body", ""),
            "commit_id": body.get("commit_id"),
            "event": body.get("event"),
        }
        pull["reviews"].append({**review, "comments": body.get("comments", [])})
        for comment in body.get("comments", []):
            pull["review_comments"].append({**comment, "id": self.next_id(), "pull_request_review_id": review["id"]})
        return Reply(200, review)

    def _edit(self, repo: FakeRepository, kind: str, comment_id: int, body: str) -> Reply:
        for pull in repo.pulls.values():
            for comment in pull[kind]:
                if comment["id"] == comment_id:
                    comment["body"] = body
                    pull["edits"].append((kind, comment_id, body))
                    return Reply(200, comment)
        return Reply(404, {"message": "Not Found"})

    def _oauth(self, seen: Seen) -> Reply:
        form = {k: v[0] for k, v in parse_qs(seen.body.decode()).items()} if seen.body else {}
        if not form and seen.headers.get("Content-Type", "").startswith("application/json"):
            form = seen.json()
        if (form.get("client_id"), form.get("client_secret")) != (self.client_id, self.client_secret):
            return Reply(200, {"error": "incorrect_client_credentials"})
        login = self.oauth_codes.pop(form.get("code", ""), None)  # a code is good once
        if login is None:
            return Reply(
                200, {"error": "bad_verification_code", "error_description": "The code passed is incorrect or expired."}
            )
        token = "ghu_" + uuid.uuid4().hex
        self.tokens[token] = (-1, time.time() + 3600)
        self._user_tokens = getattr(self, "_user_tokens", {})
        self._user_tokens[token] = login
        return Reply(200, {"access_token": token, "token_type": "bearer", "scope": ""})

    def _user_installations(self, seen: Seen) -> Reply:
        token = seen.headers.get("Authorization", "").partition(" ")[2]
        login = getattr(self, "_user_tokens", {}).get(token)
        if login is None:
            return Reply(401, {"message": "Bad credentials"})
        ids = self.user_installations.get(login, [])
        return Reply(
            200,
            {
                "total_count": len(ids),
                "installations": [{"id": i, "account": {"login": login, "type": "User"}} for i in ids],
            },
        )
