"""Gemini through Vertex AI, as on Google Cloud: google-genai's own settings (GOOGLE_GENAI_USE_VERTEXAI,
GOOGLE_CLOUD_PROJECT, GOOGLE_CLOUD_LOCATION) and application default credentials, against the fake
Gemini serving the Vertex path and granting the access tokens. The API-key path stays."""

from __future__ import annotations

import uuid

import pytest

from tests.conftest import function_client

REVIEW = {"code": "def add(a, b):\n    return a + b\n", "language": "python", "reviewModes": ["bug_fixes"]}


def review(code_tag: str):
    body = {**REVIEW, "code": f"# {code_tag}\n" + REVIEW["code"]}
    return function_client("review_code").post("/", json=body, headers={"X-Dev-User": f"vertex_{uuid.uuid4().hex[:6]}"})


def test_a_review_through_vertex_ai_uses_the_service_accounts_token(vertex_gemini):
    first, second = review("one"), review("two")
    assert first.status_code == 200, first.json
    assert second.status_code == 200
    assert "Looks reasonable" in first.json["feedback"]
    calls = vertex_gemini.calls
    assert len(calls) == 2
    assert calls[0].path == (
        "/v1beta1/projects/test-project/locations/us-central1/publishers/google/models/gemini-2.5-flash:generateContent"
    )
    token = calls[0].headers["Authorization"].removeprefix("Bearer ")
    assert token in vertex_gemini.tokens
    assert not any("x-goog-api-key" in {h.lower() for h in call.headers} for call in calls)
    assert len(vertex_gemini.grants) == 1  # the token is kept for its hour, not fetched per call


def test_refused_credentials_are_a_clear_502(vertex_gemini):
    vertex_gemini.refuse_grants = True
    response = review("refused")
    assert response.status_code == 502
    assert response.json["code"] == "AI_SERVICE_ERROR" and "credentials" in response.json["message"]
    assert vertex_gemini.calls == []  # nothing reached the model without a token


def test_vertex_ai_needs_the_project(settings_env):
    from shared.config import ConfigError, Settings

    settings_env(GOOGLE_GENAI_USE_VERTEXAI="true")
    with pytest.raises(ConfigError, match="GOOGLE_CLOUD_PROJECT"):
        Settings()


def test_the_api_key_path_stays(gemini):
    response = review("keyed")
    assert response.status_code == 200, response.json
    [call] = gemini.calls
    assert call.path == "/v1/models/gemini-2.5-flash:generateContent"
    assert call.headers.get("x-goog-api-key") == "test-gemini-key"
