"""The client's requests fit the server's caps (coderevai_core.selection, the server's own), and
folders are walked with their .gitignore files as git reads them."""

from __future__ import annotations

from coderevai.batches import pack
from coderevai.files import collect
from coderevai_core import selection


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
