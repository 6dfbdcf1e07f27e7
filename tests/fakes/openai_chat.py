"""A fake of OpenAI's chat-completions API as the official `openai` SDK calls it
(`POST {base}/chat/completions`, `Authorization: Bearer KEY`), in the shapes the servers behind that
wire answer: a structured JSON answer, JSON in a code fence or in prose, broken JSON; usage counts;
queued failures (429 with Retry-After, 500, ...); a fixed latency. Every request is kept, so tests
read the messages, `response_format` and limits we sent."""

from __future__ import annotations

import json
import time
from collections import deque
from collections.abc import Callable

from tests.fakes.server import FakeServer, Reply, Seen

DEFAULT_REVIEW = {"feedback": "## Review\n\nLooks reasonable.", "findings": []}


def completion(
    payload: dict | str,
    *,
    model: str | None = None,
    prompt_tokens: int = 200,
    output_tokens: int = 40,
    finish_reason: str = "stop",
) -> Reply:
    """A chat completion whose message is `payload` (a dict is sent as its JSON text). `model`
    unset: the one the request named, as servers answer."""
    text = payload if isinstance(payload, str) else json.dumps(payload)
    return Reply(
        200,
        {
            "id": "chatcmpl-fake",
            "object": "chat.completion",
            "created": int(time.time()),
            "model": model,
            "choices": [
                {"index": 0, "message": {"role": "assistant", "content": text}, "finish_reason": finish_reason}
            ],
            "usage": {
                "prompt_tokens": prompt_tokens,
                "completion_tokens": output_tokens,
                "total_tokens": prompt_tokens + output_tokens,
            },
        },
    )


def failure(status: int, retry_after_ms: int | None = None) -> Reply:
    headers = {"retry-after-ms": str(retry_after_ms)} if retry_after_ms is not None else {}
    kind = {429: "rate_limit_exceeded", 401: "invalid_api_key"}.get(status, "server_error")
    return Reply(status, {"error": {"message": "fake failure", "type": kind, "code": kind}}, headers)


def authorization(seen: Seen) -> str | None:
    return next((value for name, value in seen.headers.items() if name.lower() == "authorization"), None)


class FakeOpenAI:
    def __init__(self, latency: float = 0.0, api_key: str | None = None) -> None:
        self.server = FakeServer()
        self.latency = latency
        self.api_key = api_key  # None: any key, as local servers accept
        # A window the prompt and the answer's limit must fit, as vLLM refuses one that does not
        # (tokens counted as 3 characters each: code has more tokens per character than prose).
        self.context_tokens: int | None = None
        self.queued: deque[Reply] = deque()
        self.default: Reply = completion(DEFAULT_REVIEW)
        self.answer: Callable[[Seen], Reply] | None = None  # answers what the queue does not, from the request
        self.server.route("POST", "/v1/chat/completions", self._serve)

    @property
    def url(self) -> str:
        """The base URL, as OPENAI_BASE_URL takes it (Ollama's and vLLM's form: .../v1)."""
        return self.server.url + "/v1"

    def then(self, *replies: Reply) -> FakeOpenAI:
        """Answer the next calls with these replies, in order; then the default."""
        self.queued.extend(replies)
        return self

    @property
    def calls(self) -> list[Seen]:
        return [seen for seen in self.server.requests if seen.path == "/v1/chat/completions"]

    def message(self, role: str, index: int = -1) -> str:
        return "".join(m["content"] for m in self.calls[index].json()["messages"] if m["role"] == role)

    @staticmethod
    def tokens_asked(seen: Seen) -> int:
        """The prompt's tokens (3 characters each) plus the answer's limit."""
        body = seen.json()
        prompt = sum(len(m["content"]) for m in body["messages"]) // 3
        return prompt + body.get("max_completion_tokens", 0)

    def _serve(self, seen: Seen) -> Reply:
        if self.latency:
            time.sleep(self.latency)
        if self.api_key is not None and authorization(seen) != f"Bearer {self.api_key}":
            return failure(401)
        if self.context_tokens is not None and self.tokens_asked(seen) > self.context_tokens:
            message = f"This model's maximum context length is {self.context_tokens} tokens."
            return Reply(400, {"error": {"message": message, "type": "invalid_request_error", "code": None}})
        if self.queued:
            reply = self.queued.popleft()
        else:
            reply = self.answer(seen) if self.answer else self.default
        if isinstance(reply.body, dict) and reply.body.get("model", "") is None:
            reply = Reply(reply.status, {**reply.body, "model": seen.json()["model"]}, reply.headers)
        return reply

    def __enter__(self) -> FakeOpenAI:
        self.server.start()
        return self

    def __exit__(self, *exc) -> None:
        self.server.stop()
