"""A fake of the Gemini REST API's generateContent, as the real google-genai client calls it
(`POST /{version}/models/{model}:generateContent`, key in `x-goog-api-key`): structured JSON
answers with usage metadata, queued failures (429, 500, ...), a fixed latency."""

from __future__ import annotations

import json
import time
from collections import deque

from tests.fakes.server import FakeServer, Reply, Seen

DEFAULT_REVIEW = {"feedback": "## Review\n\nLooks reasonable.", "findings": []}


def generation(payload: dict | str, *, prompt_tokens: int = 120, output_tokens: int = 30) -> Reply:
    text = payload if isinstance(payload, str) else json.dumps(payload)
    return Reply(
        200,
        {
            "candidates": [{"content": {"role": "model", "parts": [{"text": text}]}, "finishReason": "STOP"}],
            "usageMetadata": {
                "promptTokenCount": prompt_tokens,
                "candidatesTokenCount": output_tokens,
                "totalTokenCount": prompt_tokens + output_tokens,
            },
            "modelVersion": "gemini-2.5-flash",
        },
    )


def failure(status: int) -> Reply:
    names = {429: "RESOURCE_EXHAUSTED", 500: "INTERNAL", 503: "UNAVAILABLE", 403: "PERMISSION_DENIED"}
    return Reply(status, {"error": {"code": status, "message": "fake failure", "status": names.get(status, "UNKNOWN")}})


class FakeGemini:
    def __init__(self, latency: float = 0.0) -> None:
        self.server = FakeServer()
        self.latency = latency
        self.queued: deque[Reply] = deque()
        self.default: Reply = generation(DEFAULT_REVIEW)
        self.server.route("POST", "/", self._serve)

    @property
    def url(self) -> str:
        return self.server.url

    def then(self, *replies: Reply) -> FakeGemini:
        """Answer the next calls with these replies, in order; then the default."""
        self.queued.extend(replies)
        return self

    @property
    def calls(self) -> list[Seen]:
        return [seen for seen in self.server.requests if seen.path.endswith(":generateContent")]

    def system_text(self, index: int = -1) -> str:
        return "".join(part["text"] for part in self.calls[index].json()["systemInstruction"]["parts"])

    def user_text(self, index: int = -1) -> str:
        return "".join(part["text"] for content in self.calls[index].json()["contents"] for part in content["parts"])

    def _serve(self, seen: Seen) -> Reply:
        if self.latency:
            time.sleep(self.latency)
        if not seen.path.endswith(":generateContent"):
            return Reply(404, {"error": {"code": 404, "message": f"fake: no {seen.path}", "status": "NOT_FOUND"}})
        return self.queued.popleft() if self.queued else self.default

    def __enter__(self) -> FakeGemini:
        self.server.start()
        return self

    def __exit__(self, *exc) -> None:
        self.server.stop()
