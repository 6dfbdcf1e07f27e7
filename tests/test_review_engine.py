"""The engine's batch contract (review_repo builds on it): one model call per batch, findings
carrying their file, caller-supplied static findings, and the Gemini layer reused with another schema."""

from __future__ import annotations

import uuid

import pytest
from pydantic import BaseModel

from shared.errors import ApiError
from shared.review import model as model_layer
from shared.review.engine import Finding, SourceFile, review_files
from tests.fakes.gemini import generation


def batch() -> list[SourceFile]:
    tag = uuid.uuid4().hex
    return [
        SourceFile(path="pkg/app.py", content=f"# {tag}\nimport os\nprint(eval(input()))\n"),
        SourceFile(path="web/index.js", content=f"// {tag}\nconst a = 1;\nconst b = 2;\n"),
    ]


def model_finding(**fields) -> dict:
    return {"severity": "medium", "category": "bugs", "title": "t", "detail": "d", "suggestion": None, **fields}


def test_a_batch_is_one_model_call_and_findings_carry_their_file(gemini):
    gemini.then(
        generation(
            {
                "feedback": "batch review",
                "findings": [
                    model_finding(title="js", file="web/index.js", line=3),
                    model_finding(title="by name", file="app.py", line=2),
                    model_finding(title="unknown file", file="nope.py", line=2),
                    model_finding(title="past the end", file="web/index.js", line=40),
                ],
            }
        )
    )
    outcome = review_files(batch(), language="mixed", modes=["bug_fixes"])
    assert len(gemini.calls) == 1
    sent = gemini.user_text()
    assert '<source_file path="pkg/app.py">' in sent and '<source_file path="web/index.js">' in sent
    model = {f.title: (f.file, f.line) for f in outcome.findings if f.source == "model"}
    assert model == {
        "js": ("web/index.js", 3),
        "by name": ("pkg/app.py", 2),
        "unknown file": (None, None),
        "past the end": ("web/index.js", None),
    }
    static = {(f.file, f.line, f.source) for f in outcome.findings if f.source != "model"}
    assert ("pkg/app.py", 3, "bandit") in static
    assert ("pkg/app.py", 2, "ruff") not in static  # an unused import: lint a bug hunt does not carry
    assert outcome.usage.totalTokens == 150 and outcome.cached is False


def test_static_findings_from_the_caller_are_used_as_given(gemini):
    given = [
        Finding(
            severity="info", category="x", title="from caller", detail="d", line=1, file="pkg/app.py", source="ruff"
        )
    ]
    outcome = review_files(batch(), language="python", modes=[], static_findings=given)
    assert [f.title for f in outcome.findings if f.source != "model"] == ["from caller"]
    assert '"title": "from caller"' in gemini.user_text()
    assert "comprehensive" in gemini.system_text()  # no modes means a comprehensive review


def test_offline_batch_is_the_static_pass(db_env):
    outcome = review_files(batch(), language="python", modes=["security"])
    assert outcome.model == "static" and outcome.usage.totalTokens == 0
    assert {f.file for f in outcome.findings} == {"pkg/app.py"}


def test_too_many_modes_is_a_400(db_env):
    with pytest.raises(ApiError) as caught:
        review_files(batch(), language="python", modes=["security", "performance", "bug_fixes", "best_practices",
                                                        "comprehensive", "production_ready"])  # fmt: skip
    assert caught.value.status == 400


def test_the_model_layer_takes_any_prompt_and_schema(gemini):
    class Synthesis(BaseModel):
        summary: str
        score: int

    gemini.then(generation({"summary": "overall fine", "score": 7}, prompt_tokens=10, output_tokens=5))
    result = model_layer.generate(system="Summarise the batches.", contents="<batches>...</batches>", schema=Synthesis)
    assert result.parsed == Synthesis(summary="overall fine", score=7)
    assert result.usage.totalTokens == 15 and result.model == "gemini-2.5-flash"
    assert set(gemini.calls[-1].json()["generationConfig"]["responseSchema"]["properties"]) == {"summary", "score"}
