"""An HTTP relay in front of the local server: it records every request the client sent (to assert
on what left the machine) and can lose answers the way a network does: `lose_answers = n` forwards
the next n POSTs (the server runs them and commits) and answers the client 503 retryable instead."""

from __future__ import annotations

import httpx

from tests.fakes.server import FakeServer, Reply, Seen

_HOP_BY_HOP = {"host", "content-length", "connection", "transfer-encoding", "accept-encoding"}


class Relay(FakeServer):
    def __init__(self, upstream: str) -> None:
        super().__init__()
        self.upstream = upstream.rstrip("/")
        self.lose_answers = 0
        self.route("*", "/", self._forward)

    def _forward(self, seen: Seen) -> Reply:
        headers = {k: v for k, v in seen.headers.items() if k.lower() not in _HOP_BY_HOP}
        query = {k: v[0] for k, v in seen.query.items()}
        answer = httpx.request(
            seen.method, self.upstream + seen.path, params=query, headers=headers, content=seen.body, timeout=600
        )
        if seen.method == "POST" and self.lose_answers:
            self.lose_answers -= 1
            return Reply(503, {"code": "SERVICE_UNAVAILABLE", "message": "lost on the way", "retryable": True})
        kept = {k: v for k, v in answer.headers.items() if k.lower() not in _HOP_BY_HOP | {"content-encoding"}}
        return Reply(answer.status_code, answer.content, kept)

    def posted(self) -> list[Seen]:
        return [seen for seen in self.requests if seen.method == "POST"]
