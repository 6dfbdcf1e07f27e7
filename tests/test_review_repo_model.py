"""review_repo with the model: the real google-genai client against the fake Gemini (tests/fakes/gemini.py),
answering each batch from what the prompt holds, so merging, line mapping, bounded parallelism and
partial failures are checked on real HTTP calls."""

from __future__ import annotations

import re
import time
import uuid

import psycopg
import pytest

from shared import usage
from tests.conftest import function_client
from tests.fakes.gemini import FakeGemini, failure, generation
from tests.fakes.server import Seen

SOURCE_FILE = re.compile(r'<source_file path="([^"]+)">')


def user() -> str:
    return f"repo_model_{uuid.uuid4().hex[:10]}"


class Reviewer:
    """Answers a batch with one finding on line 2 of each file it was sent, and the synthesis call
    with a cross-file finding; batches holding a path in `failing` get a 500."""

    def __init__(self, gemini: FakeGemini, failing: tuple[str, ...] = ()) -> None:
        self.gemini = gemini
        self.failing = failing
        self.batches: list[list[str]] = []
        self.syntheses = 0

    def __call__(self, seen: Seen):
        time.sleep(self.gemini.latency)
        text = "".join(part["text"] for content in seen.json()["contents"] for part in content["parts"])
        paths = SOURCE_FILE.findall(text)
        if not paths:
            self.syntheses += 1
            return generation(
                {
                    "feedback": "## Cross-file view\n\nThe modules agree on little.",
                    "crossFileFindings": [
                        {
                            "severity": "high",
                            "category": "architecture",
                            "title": "Two config loaders",
                            "detail": "src/m000.py and src/m001.py read settings differently.",
                            "line": 1,
                            "file": "src/m000.py",
                            "suggestion": None,
                        }
                    ],
                },
                prompt_tokens=500,
                output_tokens=50,
            )
        self.batches.append(paths)
        if any(path in self.failing for path in paths):
            return failure(500)
        findings = [
            {
                "severity": "medium",
                "category": "bugs",
                "title": f"issue in {path}",
                "detail": "Line 2 of what was sent.",
                "line": 2,
                "file": path,
                "suggestion": None,
            }
            for path in paths
        ]
        return generation({"feedback": f"Batch of {len(paths)} files.", "findings": findings})


@pytest.fixture
def gemini(db_env):
    with FakeGemini() as fake:
        db_env(
            GEMINI_API_KEY="test-key",
            GEMINI_BASE_URL=fake.url,
            GEMINI_MAX_ATTEMPTS="1",
            GEMINI_RETRY_DELAY_SECONDS="0",
            REVIEW_CACHE_TTL_SECONDS="0",
            REVIEW_REPO_BATCH_TOKENS="1000",
        )
        yield fake


def reviewer(gemini: FakeGemini, **kwargs) -> Reviewer:
    handler = Reviewer(gemini, **kwargs)
    gemini.server.route("POST", "/", handler)
    return handler


def repository(count: int, lines: int = 80, salt: str = "") -> list[dict]:
    """`count` Python files of about `lines * 4` tokens each, distinct per `salt` (no cache sharing)."""
    body = "".join(f"value_{n} = {n}\n" for n in range(lines))
    return [{"path": f"src/m{i:03}.py", "content": f"# {salt}\n{body}"} for i in range(count)]


def post(body: dict, who: str):
    return function_client("review_repo").post("/", json=body, headers={"X-Dev-User": who})


def test_a_repository_over_one_calls_budget_is_split_and_merged(gemini, pg_url):
    handler = reviewer(gemini)
    files = repository(12, salt=uuid.uuid4().hex)  # ~12 x 300 tokens against a 1000-token budget
    who = user()
    response = post({"files": files, "reviewModes": ["bug_fixes"]}, who)
    assert response.status_code == 200, response.json
    body = response.json
    assert len(handler.batches) >= 3
    assert sorted(path for batch in handler.batches for path in batch) == [f["path"] for f in files]
    assert handler.syntheses == 1
    assert len(gemini.calls) == len(handler.batches) + 1
    assert body["reviewedFiles"] == [f["path"] for f in files]
    assert body["skippedFiles"] == []
    model = [f for f in body["findings"] if f["source"] == "model"]
    assert {(f["file"], f["line"]) for f in model if f["category"] == "bugs"} == {(f["path"], 2) for f in files}
    assert any(f["title"] == "Two config loaders" and f["file"] == "src/m000.py" for f in model)
    assert body["findings"][0]["severity"] == "high"  # merged list, most severe first
    calls = len(handler.batches)
    assert body["usage"] == {
        "promptTokens": 120 * calls + 500,
        "outputTokens": 30 * calls + 50,
        "totalTokens": 150 * calls + 550,
    }
    assert body["feedback"].startswith("## Repository review")
    assert "The modules agree on little." in body["feedback"]
    usage.flush()  # rows are written in batches, off the request's path
    with psycopg.connect(pg_url) as conn:
        tokens = conn.execute('SELECT "tokensUsed" FROM "ApiUsage" WHERE "userId" = %s', (who,)).fetchone()[0]
    assert tokens == body["usage"]["totalTokens"]


def test_a_file_bigger_than_one_call_is_split_and_its_lines_mapped_back(gemini):
    handler = reviewer(gemini)
    big = {"path": "big.py", "content": "".join(f"line_{n} = {n}  # {'x' * 40}\n" for n in range(400))}
    response = post({"files": [big], "reviewModes": ["bug_fixes"]}, user())
    assert response.status_code == 200, response.json
    labels = [path for batch in handler.batches for path in batch]
    assert len(labels) > 1 and all(label.startswith("big.py#L") for label in labels)
    starts = sorted(int(re.match(r"big\.py#L(\d+)-", label)[1]) for label in labels)
    lines = sorted(f["line"] for f in response.json["findings"] if f["category"] == "bugs")
    assert lines == [start + 1 for start in starts]  # line 2 of each part, on the file's own lines
    assert {f["file"] for f in response.json["findings"] if f["category"] == "bugs"} == {"big.py"}
    [cross] = [f for f in response.json["findings"] if f["category"] == "architecture"]
    assert (cross["file"], cross["line"]) == (None, None)  # it named a file this review never saw
    assert response.json["reviewedFiles"] == ["big.py"]


def test_parallel_calls_are_bounded(gemini, db_env):
    db_env(REVIEW_REPO_PARALLELISM="2")
    gemini.latency = 0.2
    handler = reviewer(gemini)
    response = post({"files": repository(20, salt=uuid.uuid4().hex), "reviewModes": []}, user())
    assert response.status_code == 200, response.json
    assert len(handler.batches) >= 5
    assert gemini.server.max_in_flight == 2


def test_a_failing_batch_leaves_a_partial_review_naming_its_files(gemini, pg_url):
    handler = reviewer(gemini, failing=("src/m005.py",))
    files = repository(12, salt=uuid.uuid4().hex)
    who = user()
    response = post({"files": files, "reviewModes": ["security"]}, who)
    assert response.status_code == 200, response.json
    body = response.json
    [failed] = [batch for batch in handler.batches if "src/m005.py" in batch]
    assert len(failed) > 1
    reason = "not reviewed: the model call for its batch failed (UPSTREAM_ERROR)"
    assert [s for s in body["skippedFiles"]] == [{"path": path, "reason": reason} for path in failed]
    assert body["reviewedFiles"] == [f["path"] for f in files if f["path"] not in failed]
    assert "Not reviewed by the model" in body["feedback"] and "src/m005.py" in body["feedback"]
    assert not any(f["file"] in failed and f["source"] == "model" and f["line"] == 2 for f in body["findings"])
    with psycopg.connect(pg_url) as conn:
        assert conn.execute('SELECT count(*) FROM "ReviewHistory" WHERE "userId" = %s', (who,)).fetchone()[0] == 1


def test_when_every_batch_fails_the_request_fails_retryably(gemini, pg_url):
    reviewer(gemini, failing=tuple(f"src/m{i:03}.py" for i in range(3)))
    who = user()
    response = post({"files": repository(3, salt=uuid.uuid4().hex), "reviewModes": []}, who)
    assert response.status_code == 502
    assert response.json["retryable"] is True
    with psycopg.connect(pg_url) as conn:
        assert conn.execute('SELECT count(*) FROM "ReviewHistory" WHERE "userId" = %s', (who,)).fetchone()[0] == 0


def test_an_identical_request_is_served_from_the_cache(gemini, db_env):
    db_env(REVIEW_CACHE_TTL_SECONDS="600")
    reviewer(gemini)
    body = {"files": repository(8, salt=uuid.uuid4().hex), "reviewModes": ["performance"], "customPrompt": "hot paths"}
    first = post(body, user())
    assert first.status_code == 200 and first.json["cached"] is False
    calls = len(gemini.calls)
    second = post(body, user())
    assert second.status_code == 200
    assert second.json["cached"] is True
    assert second.json["usage"]["totalTokens"] == 0
    assert len(gemini.calls) == calls
    same = ("feedback", "findings", "reviewedFiles", "skippedFiles", "model")
    assert {k: second.json[k] for k in same} == {k: first.json[k] for k in same}
    other = post({**body, "reviewModes": ["security"]}, user())
    assert other.json["cached"] is False


def test_when_no_file_fits_one_call_the_answer_is_413_naming_them(gemini, pg_url):
    reviewer(gemini)
    who = user()
    files = [{"path": "data.py", "content": "BLOB = '" + "a" * 500_000 + "'\n"}, {"path": "logo.png", "content": "x"}]
    response = post({"files": files, "reviewModes": []}, who)
    assert response.status_code == 413, response.json
    assert response.json["reason"] == "PAYLOAD_TOO_LARGE"
    assert "no file fits one model call" in response.json["error"]
    assert response.json["skippedFiles"] == [
        {"path": "logo.png", "reason": "binary"},
        {"path": "data.py", "reason": "has a line longer than one call's budget of 1000 tokens"},
    ]
    assert gemini.calls == []
    with psycopg.connect(pg_url) as conn:
        assert conn.execute('SELECT count(*) FROM "ReviewHistory" WHERE "userId" = %s', (who,)).fetchone()[0] == 0


def test_a_long_not_reviewed_list_is_cut_and_the_feedback_fits_the_history(gemini, db_env, pg_url):
    db_env(REVIEW_REPO_MAX_BATCHES="1")
    handler = reviewer(gemini)
    salt = uuid.uuid4().hex
    files = [{"path": f"src/{'d' * 1000}/{i:03}.js", "content": f"// {salt}\n"} for i in range(600)]
    who = user()
    response = post({"files": files, "reviewModes": []}, who)
    assert response.status_code == 200, response.json
    body = response.json
    [batch] = handler.batches
    not_reviewed = len(files) - len(batch)
    assert len(body["skippedFiles"]) == not_reviewed and not_reviewed > 500  # 1,000+ characters each
    listed = [line for line in body["feedback"].splitlines() if line.startswith("- `src/")]
    assert len(listed) == 100
    assert f"- ...and {not_reviewed - 100} more (see skippedFiles)" in body["feedback"]
    with psycopg.connect(pg_url) as conn:
        [(stored,)] = conn.execute('SELECT feedback FROM "ReviewHistory" WHERE "userId" = %s', (who,)).fetchall()
    assert stored == body["feedback"]


def test_feedback_longer_than_the_history_keeps_is_cut_saying_so(gemini, pg_url):
    gemini.then(generation({"feedback": "word " * 120_000, "findings": []}))
    who = user()
    response = post({"files": repository(1, lines=5, salt=uuid.uuid4().hex), "reviewModes": []}, who)
    assert response.status_code == 200, response.json
    feedback = response.json["feedback"]
    assert len(feedback) == 500_000
    assert feedback.endswith("every finding is in `findings`.)")
    with psycopg.connect(pg_url) as conn:
        [(stored,)] = conn.execute('SELECT feedback FROM "ReviewHistory" WHERE "userId" = %s', (who,)).fetchall()
    assert stored == feedback
