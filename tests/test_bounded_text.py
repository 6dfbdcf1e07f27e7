"""Text of any length is reported, never fatal (issue 28, item 1): a finding's bounded fields cut what
an analyser, the model or the user wrote to their limits with a marker, where findings are made
(core/coderevai_core/findings.py), and a log line is bounded where it is formatted (shared/logs.py). The
line reference always stays."""

from __future__ import annotations

import json
import logging
import uuid

import pytest
from coderevai_core.bounded import MARKER, cut
from coderevai_core.findings import TEXT_LIMITS, Finding

from shared.history.service import MAX_FEEDBACK_CHARS
from shared.logs import MAX_EXCEPTION_CHARS, MAX_FIELD_CHARS, MAX_MESSAGE_CHARS
from tests.conftest import function_client
from tests.fakes.gemini import generation
from tests.fakes.server import Seen

WIDE = "😀"  # four bytes in UTF-8, one code point (what pydantic's max_length counts)


def finding(**fields) -> Finding:
    base = {"severity": "high", "category": "bugs", "title": "t", "detail": "d", "line": 7, "source": "ruff"}
    return Finding(**{**base, **fields})


def review_code(**body):
    headers = {"X-Dev-User": f"bounded_{uuid.uuid4().hex[:8]}"}
    return function_client("review_code").post("/", json={"language": "python", **body}, headers=headers)


# --- the cut itself ----------------------------------------------------------------------------


def test_a_text_within_its_limit_is_kept_and_a_longer_one_ends_with_the_marker():
    assert cut("short", 10) == "short"
    assert cut("exactly10!", 10) == "exactly10!"
    assert cut("eleven char", 10) == "eleven ch" + MARKER
    assert cut("abc", 1) == MARKER  # even a limit below the marker's length holds


def test_a_cut_never_splits_a_multibyte_character():
    text = cut(("é" + WIDE) * 400, 301)
    assert len(text) == 301 and text.endswith(MARKER)
    assert text[:-1] == ("é" + WIDE) * 150  # whole characters, each as it was
    assert text.encode("utf-8").decode("utf-8") == text


# --- where findings are made ----------------------------------------------------------------------


@pytest.mark.parametrize("field", sorted(TEXT_LIMITS))
def test_each_bounded_field_is_cut_to_its_limit_with_the_marker_and_the_line_kept(field):
    limit = TEXT_LIMITS[field]
    made = finding(**{field: WIDE * (limit * 3)})
    value = getattr(made, field)
    assert len(value) == limit and value.endswith(MARKER)
    assert value[:-1] == WIDE * (limit - 1)
    assert made.line == 7  # where the rest of the text is
    untouched = {"category": "bugs", "title": "t", "detail": "d"}
    assert {name: getattr(made, name) for name in untouched if name != field} == {
        name: text for name, text in untouched.items() if name != field
    }


@pytest.mark.parametrize("field", sorted(TEXT_LIMITS))
def test_an_update_by_model_copy_is_cut_as_a_new_finding_is(field):
    limit = TEXT_LIMITS[field]
    copied = finding().model_copy(update={field: "x" * (limit + 1), "line": 9})
    assert getattr(copied, field) == "x" * (limit - 1) + MARKER
    assert copied.line == 9


def test_a_cut_finding_reads_back_the_same_from_the_cache():
    made = finding(title="t" * 10_000, detail=WIDE * 10_000, suggestion="s" * 10_000)
    assert Finding.model_validate_json(made.model_dump_json()) == made


# --- the two 500s of the issue, through review-code -----------------------------------------------


def test_a_150000_character_name_is_reported_on_its_line(db_env):
    response = review_code(code="x" * 150_000)
    assert response.status_code == 200, response.json
    [undefined] = [f for f in response.json["findings"] if f["rule"] == "F821"]
    assert undefined["line"] == 1 and undefined["severity"] == "high"
    assert len(undefined["title"]) == TEXT_LIMITS["title"] and undefined["title"].endswith(MARKER)
    assert undefined["title"].startswith("Undefined name `xxx")
    assert len(undefined["detail"]) == TEXT_LIMITS["detail"] and undefined["detail"].endswith(MARKER)


def test_an_import_of_a_50000_character_module_is_reported_on_its_line(db_env):
    response = review_code(code="from " + "m" * 50_000 + " import x\n", reviewModes=["best_practices"])
    assert response.status_code == 200, response.json
    [unused] = [f for f in response.json["findings"] if f["rule"] == "F401"]
    assert unused["line"] == 1
    assert unused["suggestion"].startswith("Remove unused import") and unused["suggestion"].endswith(MARKER)
    assert len(unused["suggestion"]) == TEXT_LIMITS["suggestion"]


# --- the model's answers ------------------------------------------------------------------------------


def test_the_models_findings_verdict_reasons_and_feedback_of_any_length_are_cut(gemini):
    def answer(seen: Seen):
        ids = [f"s{n}" for n in range(1, 6)]
        return generation(
            {
                "feedback": "## Review\n\n" + "word " * 150_000,  # 750,000 characters
                "findings": [
                    {
                        "severity": "medium",
                        "category": "c" * 1000,
                        "title": WIDE * 5000,
                        "detail": "d" * 100_000,
                        "line": 2,
                        "file": None,
                        "suggestion": "s" * 100_000,
                    }
                ],
                "verdicts": [{"id": key, "verdict": "false_positive", "reason": "r" * 10_000} for key in ids],
            }
        )

    gemini.server.route("POST", "/", answer)
    code = f"# {uuid.uuid4().hex}\nimport subprocess\n\n\ndef run(text):\n    return eval(text), subprocess\n"
    response = review_code(code=code, reviewModes=["security"])
    assert response.status_code == 200, response.json
    body = response.json
    [model] = [f for f in body["findings"] if f["source"] == "model"]
    assert model["line"] == 2
    for field in ("category", "title", "detail", "suggestion"):
        assert len(model[field]) == TEXT_LIMITS[field] and model[field].endswith(MARKER), field
    assert body["dismissed"] and all(
        len(f["verdictReason"]) == TEXT_LIMITS["verdictReason"] and f["verdictReason"].endswith(MARKER)
        for f in body["dismissed"]
    )
    # the web app saves the feedback to the history, which keeps MAX_FEEDBACK_CHARS of it
    assert len(body["feedback"]) == MAX_FEEDBACK_CHARS
    assert body["feedback"].endswith("every finding is in `findings`.)")


def test_a_repository_synthesis_of_any_length_is_cut(gemini, db_env):
    db_env(REVIEW_REPO_BATCH_TOKENS="1000", GEMINI_MAX_ATTEMPTS="1", REVIEW_CACHE_TTL_SECONDS="0")

    def answer(seen: Seen):
        if "<source_file" in json.dumps(seen.json()["contents"]):
            return generation({"feedback": "A batch.", "findings": []})
        huge = {"severity": "high", "category": "a" * 500, "title": "t" * 5000, "detail": WIDE * 50_000,
                "line": 1, "file": "src/m000.py", "suggestion": "s" * 50_000}  # fmt: skip
        return generation({"feedback": "## Whole\n\n" + "x" * 700_000, "crossFileFindings": [huge]})

    gemini.server.route("POST", "/", answer)
    body = "".join(f"value_{n} = {n}\n" for n in range(80))
    files = [{"path": f"src/m{i:03}.py", "content": f"# {uuid.uuid4().hex}\n{body}"} for i in range(6)]
    response = function_client("review_repo").post("/", json={"files": files}, headers={"X-Dev-User": "synth"})
    assert response.status_code == 200, response.json
    [cross] = [f for f in response.json["findings"] if f["source"] == "model"]
    assert (cross["file"], cross["line"]) == ("src/m000.py", 1)
    for field in ("category", "title", "detail", "suggestion"):
        assert len(cross[field]) == TEXT_LIMITS[field] and cross[field].endswith(MARKER), field
    assert len(response.json["feedback"]) <= MAX_FEEDBACK_CHARS


# --- log lines ------------------------------------------------------------------------------------


def test_a_log_line_carrying_text_of_any_length_is_bounded(app_logs):
    log = logging.getLogger("coderevai.test_bounded")
    try:
        raise ValueError("bad line: " + "y" * 200_000)
    except ValueError:
        log.warning("analyser said %s", "z" * 200_000, exc_info=True, extra={"fields": {"path": "/" + "p" * 50_000}})
    [line] = [json.loads(text) for text in app_logs if "analyser said" in text]
    assert len(line["message"]) == MAX_MESSAGE_CHARS and line["message"].endswith(MARKER)
    assert len(line["exception"]) == MAX_EXCEPTION_CHARS and line["exception"].startswith("Traceback")
    assert len(line["path"]) == MAX_FIELD_CHARS
