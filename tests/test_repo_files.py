"""Which files of a repository are reviewed, in what order, in which call."""

from __future__ import annotations

import pytest
from coderevai_core.selection import fetch_skip_reason, skip_reason

from shared.repo.files import estimate_tokens, plan_batches, select


@pytest.mark.parametrize(
    ("path", "reason"),
    [
        ("web/node_modules/react/index.js", "vendored or generated (node_modules/)"),
        ("vendor/lib/x.go", "vendored or generated (vendor/)"),
        ("dist/bundle.js", "vendored or generated (dist/)"),
        ("build/out.py", "vendored or generated (build/)"),
        ("site/build/x.js", "vendored or generated (build/)"),
        (".git/config", "vendored or generated (.git/)"),
        ("static/app.min.js", "minified or generated"),
        ("package-lock.json", "lock file"),
        ("poetry.lock", "lock file"),
        ("logo.png", "binary"),
        ("data.bin.txt", "binary"),  # by content: NUL bytes
        ("latin1.py", "binary"),  # by content: not UTF-8
        ("blank.py", "empty"),
    ],
)
def test_each_skip_has_its_reason(path, reason):
    content = {"data.bin.txt": b"abc\x00def", "latin1.py": "caf\xe9 = 1".encode("latin-1"), "blank.py": b"\n\n"}
    selection = select([(path, content.get(path, b"SECRET=abc\n")), ("app.py", b"print(1)\n")])
    assert [(s.path, s.reason) for s in selection.skipped] == [(path, reason)]
    assert [f.path for f in selection.files] == ["app.py"]


def test_a_nul_anywhere_makes_a_file_binary_fetched_or_sent():
    late = b"x = 1\n" * 2000 + b"\x00\n"  # past the first 8 KiB
    selection = select([("fetched.py", late), ("sent.py", late.decode()), ("ok.py", b"x = 1\n")])
    assert [(s.path, s.reason) for s in selection.skipped] == [("fetched.py", "binary"), ("sent.py", "binary")]
    assert [f.path for f in selection.files] == ["ok.py"]


@pytest.mark.parametrize(
    ("path", "holds"),
    [
        (".env", "environment file"),
        ("config/.env.production", "environment file"),
        ("deploy/server.pem", "key, certificate or credentials"),
        ("certs/tls.key", "key, certificate or credentials"),
        ("certs/ca.crt", "key, certificate or credentials"),
        ("home/.ssh/id_rsa", "key, certificate or credentials"),
        ("gcp-service-account.json", "key, certificate or credentials"),
        ("aws/credentials", "key, certificate or credentials"),
        ("deploy/.npmrc", "key, certificate or credentials"),
        ("ops/.kube/config", "kube config"),
        ("signing/release.p12", "key, certificate or credentials"),
    ],
)
def test_secret_bearing_files_are_kept_from_the_model_but_read_for_the_scan(path, holds):
    assert skip_reason(path) == f"may hold secrets ({holds})"  # what the client skips: never uploaded by it
    assert fetch_skip_reason(path) is None  # a fetched archive's copy is read, to be scanned
    content = b"\x30\x82\x00\x01" if path.endswith(".p12") else b"SECRET=abc\n"
    selection = select([(path, content), ("app.py", b"print(1)\n")])
    assert [(s.path, s.reason) for s in selection.skipped] == [
        (path, f"holds secrets ({holds}): scanned here, never sent to the model")
    ]
    assert [f.path for f in selection.files] == ["app.py"]
    expected = None if path.endswith(".p12") else "SECRET=abc\n"
    assert [(f.path, f.content) for f in selection.secret_files] == [(path, expected)]


def test_documentation_sources_under_doc_build_are_not_vendored():
    selection = select([("doc/build/tutorial.rst", b"Tutorial\n========\n"), ("docs/out/guide.md", b"# Guide\n")])
    assert [f.path for f in selection.files] == ["doc/build/tutorial.rst", "docs/out/guide.md"]
    assert selection.skipped == []


def test_ordinary_files_are_kept_and_ordered_by_importance():
    paths = [
        "README.md",
        "tests/test_app.py",
        "src/pkg/deep/helpers.py",
        "src/util.ts",
        "pyproject.toml",
        "src/main.py",
        "docs/guide.md",
        "web/src/index.tsx",
        "src/app.test.ts",
        "app.py",
        ".env.example",
    ]
    selection = select([(path, b"x = 1\n") for path in paths])
    assert [f.path for f in selection.files] == [
        "app.py",  # entry points, shallow first
        "src/main.py",
        "web/src/index.tsx",
        "src/util.ts",  # other source
        "src/pkg/deep/helpers.py",
        "pyproject.toml",  # configuration
        "src/app.test.ts",  # tests
        "tests/test_app.py",
        "README.md",  # docs
        "docs/guide.md",
    ]
    assert [s.path for s in selection.skipped] == [".env.example"]
    assert selection.files[0].language == "python"
    assert selection.files[2].language == "typescript"


def test_client_text_with_nul_is_binary():
    selection = select([("a.py", "x = '\x00'")])
    assert selection.skipped[0].reason == "binary"


def _files(count: int, lines: int):
    return select(
        [(f"src/m{i:03}.py", "".join(f"value_{n} = {n}\n" for n in range(lines))) for i in range(count)]
    ).files


def test_files_are_packed_under_the_per_call_budget_in_order():
    files = _files(10, 40)  # ~150 tokens each
    plan = plan_batches(files, batch_tokens=400, max_batches=10)
    assert len(plan.batches) == 5
    assert all(sum(part.tokens for part in batch) <= 400 for batch in plan.batches)
    assert [part.file.path for batch in plan.batches for part in batch] == [f.path for f in files]
    assert plan.not_reviewed == []


def test_a_file_larger_than_the_budget_is_split_into_line_ranges():
    big = _files(1, 400)[0]
    assert big.tokens > 1000
    plan = plan_batches([big], batch_tokens=1000, max_batches=10)
    parts = [part for batch in plan.batches for part in batch]
    assert len(parts) > 1
    assert all(part.tokens <= 1000 for part in parts)
    assert "".join(part.content for part in parts) == big.content
    assert parts[0].label.startswith("src/m000.py#L1-L")
    assert [(p.first_line, p.last_line) for p in parts][-1][1] == 400
    for before, after in zip(parts, parts[1:], strict=False):
        assert after.first_line == before.last_line + 1


def test_split_line_numbers_count_newlines_only():
    # Form feeds, vertical tabs, \x1c-\x1e, \x85, \u2028 and a lone \r are not line ends for the
    # prompt's line numbers; the parts must agree with them.
    text = "".join(f"value_{n} = {n}  # {chr(0x0C)}{chr(0x85)}{chr(0x2028)}\r.\n" for n in range(400))
    [big] = select([("src/feed.py", text)]).files
    parts = [part for batch in plan_batches([big], batch_tokens=1000, max_batches=10).batches for part in batch]
    assert len(parts) > 1 and "".join(part.content for part in parts) == text
    lines = text.split("\n")
    for part in parts:
        assert part.content.split("\n")[0] == lines[part.first_line - 1]
        assert part.content.count("\n") == part.last_line - part.first_line + 1
    assert parts[-1].last_line == 400


def test_a_file_with_one_line_over_the_budget_is_listed_not_reviewed():
    files = select([("long.py", "x = '" + "a" * 20_000 + "'\n"), ("ok.py", "y = 1\n")]).files
    plan = plan_batches(files, batch_tokens=1000, max_batches=5)
    assert [p.file.path for batch in plan.batches for p in batch] == ["ok.py"]
    assert [(s.path, s.reason) for s in plan.not_reviewed] == [
        ("long.py", "has a line longer than one call's budget of 1000 tokens")
    ]


def test_what_does_not_fit_the_repository_budget_is_listed_never_dropped():
    files = _files(10, 40)
    plan = plan_batches(files, batch_tokens=400, max_batches=2)
    reviewed = [p.file.path for batch in plan.batches for p in batch]
    assert reviewed == [f.path for f in files[:4]]
    assert [s.path for s in plan.not_reviewed] == [f.path for f in files[4:]]
    assert plan.not_reviewed[0].reason == "beyond the review budget of 2 model calls of 400 tokens"


def test_token_estimate_grows_with_length():
    assert estimate_tokens("") < estimate_tokens("x" * 400) < estimate_tokens("x" * 4000)
    assert estimate_tokens("x" * 4000) == 1000 + estimate_tokens("")
