"""The client's copy of the server's selection rules (cli/coderevai/selection.py mirrors
shared/repo/files.py and the caps of shared/repo/review.py) agrees with the server's, and folders
are walked with their .gitignore files as git reads them."""

from __future__ import annotations

import pytest
from coderevai import selection
from coderevai.batches import pack
from coderevai.files import collect
from coderevai_core import selection as repo_files
from coderevai_core import selection as repo_review

from shared.repo import files as repo_select

SAMPLE_PATHS = [
    "app.py", "src/main.ts", "README.md", "Dockerfile", "LICENSE", ".gitignore",
    ".env", ".env.local", "config/prod.env", "deploy/server.key", "certs/ca.pem", "id_rsa", ".npmrc",
    "gcp-service-account.json", "my_credentials.json", "client_secret_123.json", "infra/terraform.tfvars",
    "node_modules/pad/index.js", "web/dist/app.js", "a/b/vendor/lib.go", "x/.venv/lib/site.py", "target/out.rs",
    "package-lock.json", "sub/yarn.lock", "go.sum", "Cargo.lock",
    "static/app.min.js", "static/app.js.map", "proto/api_pb2.py", "api.pb.go",
    "logo.png", "docs/manual.PDF", "lib.so", "data.sqlite3", "model.pkl",
    "VENDOR/readme.txt", "builder/main.py", "distance.py", "tests/test_app.py", "src/.env.example",
]  # fmt: skip


@pytest.mark.parametrize("path", SAMPLE_PATHS)
def test_client_and_server_skip_the_same_paths_for_the_same_reasons(path):
    assert selection.skip_reason(path) == repo_files.skip_reason(path)


@pytest.mark.parametrize(
    "raw", [b"print(1)\n", b"  \n\t\n", b"", b"\x89PNG\x00\x01", "caf\u00e9 = 1\n".encode(), b"\xff\xfe bad utf-8"]
)
def test_client_and_server_agree_on_text_binary_and_empty(raw):
    text, reason = selection.as_text(raw)
    server = repo_select.select([("file.txt", text if text is not None else raw)])
    if reason is None:
        assert [f.content for f in server.files] == [text]
    else:
        assert [s.reason for s in server.skipped] == [reason]


def test_client_caps_are_the_servers():
    assert selection.MAX_FILES == repo_review.MAX_FILES
    assert selection.MAX_FILE_BYTES == repo_review.MAX_FILE_BYTES
    assert selection.MAX_TOTAL_BYTES == repo_review.MAX_TOTAL_BYTES
    assert selection.MAX_REQUEST_BYTES == repo_review.MAX_REQUEST_BYTES


def test_requests_are_packed_within_every_cap():
    entries = [{"path": f"f{n}.txt", "content": "x" * 300_000} for n in range(150)]  # 45 MB
    batches = pack(entries)
    assert [e for batch in batches for e in batch] == entries
    assert all(sum(len(e["content"]) for e in batch) <= selection.MAX_TOTAL_BYTES for batch in batches)
    assert len(batches) == 2  # 104 + 46 files of 300 kB under 30 MiB
    quoted = [{"path": f"q{n}.txt", "content": '"' * 900_000} for n in range(30)]  # 27 MB of content, 54 MB as JSON
    assert all(len(batch) <= 18 for batch in pack(quoted))  # the JSON body's 32 MiB cap binds first
    many = [{"path": f"n{n}.txt", "content": "x"} for n in range(2500)]
    assert [len(batch) for batch in pack(many)] == [1000, 1000, 500]


def test_nested_gitignore_files_apply_below_their_folder_deepest_last(tmp_path):
    root = tmp_path / "repo"
    (root / ".git").mkdir(parents=True)
    (root / ".gitignore").write_text("*.log\nbuild/\nsecret_notes.md\n")
    (root / "pkg" / "sub").mkdir(parents=True)
    (root / "pkg" / ".gitignore").write_text("!keep.log\nlocal.py\n")
    for name in ("a.py", "a.log", "secret_notes.md", "pkg/keep.log", "pkg/other.log", "pkg/local.py", "pkg/sub/local.py", "pkg/sub/b.py", "local.py"):  # fmt: skip
        (root / name).write_text("x = 1\n")
    (root / "build").mkdir()
    (root / "build" / "gen.py").write_text("x = 1\n")
    found = collect(["."], root)
    assert sorted(f.path for f in found.files) == [".gitignore", "a.py", "local.py", "pkg/.gitignore", "pkg/keep.log", "pkg/sub/b.py"]  # fmt: skip
    # Walking a subfolder still honours the .gitignore files above it, up to the repository's root.
    below = collect(["pkg"], root)
    assert sorted(f.path for f in below.files) == ["pkg/.gitignore", "pkg/keep.log", "pkg/sub/b.py"]
