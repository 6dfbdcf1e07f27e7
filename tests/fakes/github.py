"""A fake of GitHub's archive download: `GET /repos/{owner}/{repo}/tarball[/{ref}]` answers 302 to a
codeload-style path on the same fake (as api.github.com redirects to codeload.github.com), which
serves a gzipped tarball built in the test with GitHub's `<owner>-<repo>-<sha>/` top folder.
`GET /repos/{owner}/{repo}` answers the repository's metadata: public unless served as private."""

from __future__ import annotations

import io
import tarfile

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
