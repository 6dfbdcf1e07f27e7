"""Fetching public repositories: URL rules, redirects, and caps while streaming and unpacking,
against a local fake of GitHub's archive endpoint serving tarballs built here."""

from __future__ import annotations

import io
import os
import tarfile
import time
import zlib

import pytest

from shared.errors import ApiError
from shared.repo.github import ArchiveLimits, RepoRef, fetch_repository, label_repo_url, parse_repo_url
from tests.fakes.github import FakeGitHub, build_tarball
from tests.fakes.server import FakeServer, Reply

# Every form the service must refuse before any network call (the endpoint test reuses this list).
REJECTED_URLS = [
    "http://github.com/octo/demo",
    "ftp://github.com/octo/demo",
    "git@github.com:octo/demo.git",
    "ssh://git@github.com/octo/demo",
    "file:///etc/passwd",
    "https://gitlab.com/octo/demo",
    "https://www.github.com/octo/demo",
    "https://api.github.com/repos/octo/demo",
    "https://github.com.evil.example/octo/demo",
    "https://evilgithub.com/octo/demo",
    "https://140.82.112.3/octo/demo",
    "https://[::1]/octo/demo",
    "https://2130706433/octo/demo",
    "https://github.com@evil.example/octo/demo",
    "https://user@github.com/octo/demo",
    "https://user:pass@github.com/octo/demo",
    "https://github.com\\@evil.example/octo/demo",
    "https://github.com:443/octo/demo",
    "https://github.com:8080/octo/demo",
    "https://github.com/octo",
    "https://github.com//octo/demo",
    "https://github.com/octo/demo//",
    "https://github.com/octo/demo/blob/main/app.py",
    "https://github.com/octo/demo/tree/",
    "https://github.com/octo/demo/tree/../../../etc",
    "https://github.com/octo/demo/tree/main//x",
    "https://github.com/octo/demo.git/tree/main",
    "https://github.com/octo/..",
    "https://github.com/-octo/demo",
    "https://github.com/octo/demo?tab=readme",
    "https://github.com/octo/demo#readme",
    "https://github.com/octo/%2e%2e",
    "https://github.com/octo/demo\n",
    " https://github.com/octo/demo",
    "https://github.com/octo/de\tmo",
    "",
    "https://github.com/octo/" + "d" * 3000,
]


@pytest.mark.parametrize(
    ("url", "expected"),
    [
        ("https://github.com/octo/demo", RepoRef("octo", "demo")),
        ("https://github.com/octo/demo/", RepoRef("octo", "demo")),
        ("https://github.com/octo/demo.git", RepoRef("octo", "demo")),
        ("HTTPS://GitHub.com/Octo-Cat/my.repo_2", RepoRef("Octo-Cat", "my.repo_2")),
        ("https://github.com/octo/demo/tree/main", RepoRef("octo", "demo", "main")),
        ("https://github.com/octo/demo/tree/feature/login-v2/", RepoRef("octo", "demo", "feature/login-v2")),
        ("https://github.com/octo/demo/tree/v1.2.3", RepoRef("octo", "demo", "v1.2.3")),
    ],
)
def test_accepted_repository_addresses(url, expected):
    assert parse_repo_url(url) == expected


@pytest.mark.parametrize("url", REJECTED_URLS)
def test_rejected_repository_addresses(url):
    with pytest.raises(ApiError) as raised:
        parse_repo_url(url)
    assert (raised.value.status, raised.value.code) == (400, "INVALID_REPO_URL")


# Letters that fold to ASCII under Unicode case-insensitive matching, homoglyphs, and the IDNA forms
# they would take on the wire: none of them is github.com.
LOOK_ALIKE_URLS = [
    "https://g\u0131thub.com/octo/demo",  # dotless i
    "https://g\u0130thub.com/octo/demo",  # dotted capital I
    "https://GİTHUB.COM/octo/demo",
    "http\u017f://github.com/octo/demo",  # long s
    "https://github.com/octo/\u017fecret",
    "https://github.com/\u212aelvin/demo",  # Kelvin sign, folds to k
    "https://g\u0456thub.com/octo/demo",  # Cyrillic i
    "https://github.\u0441om/octo/demo",  # Cyrillic es
    "https://githu\u03b2.com/octo/demo",  # Greek beta
    "https://\u0261ithub.com/octo/demo",  # Latin script g
    "https://xn--gthub-n4a.com/octo/demo",  # punycode of gıthub.com
    "https://xn--gthub-n2e.com/octo/demo",  # punycode of gіthub.com (Cyrillic i)
    "https://ｇｉｔｈｕｂ.com/octo/demo",  # fullwidth
]


@pytest.mark.parametrize("url", LOOK_ALIKE_URLS)
@pytest.mark.parametrize("check", [parse_repo_url, label_repo_url], ids=["fetched", "label"])
def test_look_alike_letters_are_not_github(url, check):
    with pytest.raises(ApiError) as raised:
        check(url)
    assert (raised.value.status, raised.value.code) == (400, "INVALID_REPO_URL")


@pytest.fixture
def github(settings_env):
    with FakeGitHub() as fake:
        settings_env(GITHUB_API_URL=fake.url, GITHUB_TOKEN="ghp_test_token", GITHUB_TIMEOUT_SECONDS="2")
        yield fake


def test_fetch_follows_the_codeload_redirect_and_unpacks_safely(github):
    tarball = build_tarball(
        {"app.py": "print('hi')\n", "src/util.py": "X = 1\n", "big.txt": "x" * 2000},
        symlinks={"escape": "/etc/passwd"},
        raw_names={"../outside.py": b"evil = 1\n"},
    )
    github.serve_repo("octo", "demo", tarball, ref="feature/x")
    archive = fetch_repository(RepoRef("octo", "demo", "feature/x"), ArchiveLimits(file_bytes=1000))
    assert dict(archive.files) == {"app.py": b"print('hi')\n", "src/util.py": b"X = 1\n"}
    assert dict(archive.skipped) == {
        "big.txt": "larger than the per-file limit of 1000 bytes",
        "escape": "link",
        "../outside.py": "unsafe path in the archive",
    }
    metadata, api_call, download = github.requests
    assert metadata.path == "/repos/octo/demo"  # a token may read private repositories: checked first
    assert metadata.headers["Authorization"] == "Bearer ghp_test_token"
    assert api_call.path == "/repos/octo/demo/tarball/feature/x"
    assert api_call.headers["Authorization"] == "Bearer ghp_test_token"
    assert api_call.headers["X-GitHub-Api-Version"] == "2022-11-28"
    assert download.path == "/codeload/octo/demo/legacy.tar.gz/feature/x"
    assert "Authorization" not in download.headers  # the token never leaves the API host


def test_redirect_to_a_foreign_host_is_refused_and_nothing_is_fetched_there(github):
    with FakeServer() as foreign:
        foreign.route("GET", "/", Reply(200, build_tarball({"app.py": "x = 1\n"})))
        github.route("GET", "/repos/octo/demo/tarball", Reply(302, headers={"Location": foreign.url + "/a.tgz"}))
        with pytest.raises(ApiError) as raised:
            fetch_repository(RepoRef("octo", "demo"))
        assert foreign.requests == []
    assert (raised.value.status, raised.value.code) == (400, "INVALID_REPO_URL")
    assert "away from GitHub" in raised.value.message


def test_redirect_with_user_info_is_refused(github):
    target = github.url.replace("http://", "http://someone@") + "/codeload/x"
    github.route("GET", "/repos/octo/demo/tarball", Reply(302, headers={"Location": target}))
    with pytest.raises(ApiError) as raised:
        fetch_repository(RepoRef("octo", "demo"))
    assert raised.value.code == "INVALID_REPO_URL"
    assert [seen.path for seen in github.requests] == ["/repos/octo/demo", "/repos/octo/demo/tarball"]


def test_a_private_repository_the_token_can_read_is_not_found_and_never_downloaded(github):
    github.serve_repo("octo", "secret", build_tarball({"app.py": "x = 1\n"}), private=True)
    with pytest.raises(ApiError) as raised:
        fetch_repository(RepoRef("octo", "secret"))
    missing = pytest.raises(ApiError, fetch_repository, RepoRef("octo", "nothing")).value
    assert (raised.value.status, raised.value.code) == (404, "REPO_NOT_FOUND") == (missing.status, missing.code)
    assert raised.value.message == "https://github.com/octo/secret was not found, or it is private."
    assert [seen.path for seen in github.requests][:1] == ["/repos/octo/secret"]  # its archive: never asked for


def test_without_a_token_the_archive_is_the_only_request(github, settings_env):
    settings_env(GITHUB_TOKEN=None)
    github.serve_repo("octo", "demo", build_tarball({"app.py": "x = 1\n"}))
    assert dict(fetch_repository(RepoRef("octo", "demo")).files) == {"app.py": b"x = 1\n"}
    assert [seen.path for seen in github.requests] == [
        "/repos/octo/demo/tarball",
        "/codeload/octo/demo/legacy.tar.gz/HEAD",
    ]
    assert all("Authorization" not in seen.headers for seen in github.requests)


def test_an_endless_stream_is_cut_off_at_the_cap(github):
    sent = []

    def endless(_seen):
        def chunks():
            gzip = zlib.compressobj(wbits=31)
            for index in range(16 * 1024):  # a valid archive of 1 GiB of incompressible files
                info = tarfile.TarInfo(f"octo-huge-1/f{index}.bin")
                info.size = 64 * 1024
                chunk = gzip.compress(info.tobuf() + os.urandom(info.size))
                sent.append(len(chunk))
                yield chunk

        return Reply(200, chunks())

    github.route("GET", "/repos/octo/huge/tarball", endless)
    started = time.perf_counter()
    with pytest.raises(ApiError) as raised:
        fetch_repository(RepoRef("octo", "huge"), ArchiveLimits(archive_bytes=1024 * 1024))
    assert (raised.value.status, raised.value.code) == (413, "PAYLOAD_TOO_LARGE")
    assert "limit of 1048576 bytes" in raised.value.message
    assert time.perf_counter() - started < 5
    time.sleep(0.2)
    assert sum(sent) < 8 * 1024 * 1024  # the server was cut off long before the end


def test_an_archive_declared_too_large_is_refused_before_reading(github):
    github.serve_repo("octo", "demo", build_tarball({"a.py": "a = 1\n" * 5000}))
    with pytest.raises(ApiError) as raised:
        fetch_repository(RepoRef("octo", "demo"), ArchiveLimits(archive_bytes=100))
    assert raised.value.status == 413
    assert "limit of 100 bytes" in raised.value.message


def test_a_gzip_bomb_stops_at_the_unpacked_cap(github):
    bomb = build_tarball({f"zeros{i}.txt": b"\0" * 2_000_000 for i in range(5)})
    assert len(bomb) < 100_000
    github.serve_repo("octo", "bomb", bomb)
    with pytest.raises(ApiError) as raised:
        fetch_repository(RepoRef("octo", "bomb"), ArchiveLimits(total_bytes=5_000_000))
    assert raised.value.status == 413
    assert "unpacks to more than the limit of 5000000 bytes" in raised.value.message


def test_too_many_files_is_413(github):
    github.serve_repo("octo", "many", build_tarball({f"f{i}.py": "x = 1\n" for i in range(30)}))
    with pytest.raises(ApiError) as raised:
        fetch_repository(RepoRef("octo", "many"), ArchiveLimits(files=20))
    assert raised.value.status == 413
    assert "more than 20 files" in raised.value.message


@pytest.mark.parametrize(
    ("reply", "status", "code", "retryable"),
    [
        (Reply(404, {"message": "Not Found"}), 404, "REPO_NOT_FOUND", False),
        (
            Reply(403, {"message": "rate"}, {"x-ratelimit-remaining": "0", "retry-after": "60"}),
            503,
            "GITHUB_RATE_LIMITED",
            True,
        ),
        (Reply(429, {"message": "slow down"}), 503, "GITHUB_RATE_LIMITED", True),
        (Reply(502, "bad gateway"), 502, "GITHUB_UNAVAILABLE", True),
        (Reply(200, b"this is not a tarball"), 502, "GITHUB_ERROR", False),
    ],
)
def test_github_failures_map_to_clear_errors(github, reply, status, code, retryable):
    github.route("GET", "/repos/octo/demo/tarball", reply)
    with pytest.raises(ApiError) as raised:
        fetch_repository(RepoRef("octo", "demo"))
    assert (raised.value.status, raised.value.code, raised.value.retryable) == (status, code, retryable)
    if code == "GITHUB_RATE_LIMITED" and reply.status == 403:
        assert raised.value.headers == {"Retry-After": "60"}


def test_a_slow_github_times_out_as_retryable(github, settings_env):
    settings_env(GITHUB_TIMEOUT_SECONDS="0.3")

    def slow(_seen):
        time.sleep(1.0)
        return Reply(200, build_tarball({"a.py": "a = 1\n"}))

    github.route("GET", "/repos/octo/slow/tarball", slow)
    with pytest.raises(ApiError) as raised:
        fetch_repository(RepoRef("octo", "slow"))
    assert (raised.value.status, raised.value.code, raised.value.retryable) == (502, "GITHUB_UNAVAILABLE", True)


def test_build_tarball_has_githubs_layout():
    with tarfile.open(fileobj=io.BytesIO(build_tarball({"a/b.py": "x"})), mode="r:gz") as tar:
        assert tar.getnames() == ["octo-demo-0123abc", "octo-demo-0123abc/a/b.py"]


def test_files_skipped_by_path_are_never_read(github):
    from coderevai_core.selection import skip_reason

    github.serve_repo("octo", "demo", build_tarball({"app.py": "x = 1\n", "node_modules/a/index.js": "y" * 5000}))
    archive = fetch_repository(RepoRef("octo", "demo"), ArchiveLimits(file_bytes=1000), skip=skip_reason)
    assert dict(archive.files) == {"app.py": b"x = 1\n"}
    assert archive.skipped == [("node_modules/a/index.js", "vendored or generated (node_modules/)")]


def test_header_payloads_count_against_the_unpacked_cap(github):
    long_name = "octo-names-1/" + "a" * (4 * 1024 * 1024) + ".py"  # carried in a PAX header block
    tarball = build_tarball({"app.py": "x = 1\n"}, top="octo-names-1", raw_names={long_name: b"y = 2\n"})
    assert len(tarball) < 100_000
    github.serve_repo("octo", "names", tarball)
    with pytest.raises(ApiError) as raised:
        fetch_repository(RepoRef("octo", "names"), ArchiveLimits(total_bytes=1_000_000))
    assert raised.value.status == 413
    assert "unpacks to more than the limit of 1000000 bytes" in raised.value.message


def test_skipped_paths_are_cut_to_1024_characters(github):
    names = {
        "../" + "a" * 5000 + ".py": b"x = 1\n",
        "octo-demo-0123abc/" + "b" * 5000 + ".min.js": b"y\n",
        "octo-demo-0123abc/" + "c" * 5000 + ".py": b"z = 3\n",
    }
    github.serve_repo("octo", "demo", build_tarball({"app.py": "x = 1\n"}, raw_names=names))
    from coderevai_core.selection import skip_reason

    archive = fetch_repository(RepoRef("octo", "demo"), skip=skip_reason)
    assert [(len(path), reason) for path, reason in archive.skipped] == [
        (1024, "unsafe path in the archive"),
        (1024, "minified or generated"),
        (1024, "path longer than 1024 characters"),
    ]


def test_a_renamed_repository_is_checked_where_github_points(github):
    github.route("GET", "/repos/octo/old", Reply(301, headers={"Location": github.url + "/repositories/42"}))
    github.route("GET", "/repositories/42", Reply(200, {"full_name": "octo/new", "private": False}))
    github.serve_repo("octo", "old", build_tarball({"app.py": "x = 1\n"}))
    assert dict(fetch_repository(RepoRef("octo", "old")).files) == {"app.py": b"x = 1\n"}
    github.route("GET", "/repos/octo/gone", Reply(301, headers={"Location": "https://evil.example/repositories/1"}))
    with pytest.raises(ApiError) as raised:
        fetch_repository(RepoRef("octo", "gone"))
    assert raised.value.code == "INVALID_REPO_URL"
