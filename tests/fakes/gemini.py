"""A fake of the Gemini REST API's generateContent, as the real google-genai client calls it: the
Gemini API (`POST /{version}/models/{model}:generateContent`, key in `x-goog-api-key`) and Vertex AI
(`POST /v1beta1/projects/{p}/locations/{l}/publishers/google/models/{model}:generateContent` with
an OAuth access token), structured JSON answers with usage metadata, queued failures (429, 500,
...), a fixed latency. For Vertex AI it is also the OAuth token endpoint of a service-account
credential file it writes (`credentials_file`), which google-auth finds through
GOOGLE_APPLICATION_CREDENTIALS as application default credentials: the token grant's JWT is
checked against the file's key, and only tokens it granted are accepted."""

from __future__ import annotations

import json
import secrets
import time
from collections import deque
from pathlib import Path
from urllib.parse import parse_qs

import jwt
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import rsa

from tests.fakes.server import FakeServer, Reply, Seen

# google-auth addresses the grant to Google's token endpoint whatever token_uri it posts it to.
GOOGLE_TOKEN_AUDIENCE = "https://oauth2.googleapis.com/token"
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
        self.server.route("POST", "/token", self._grant)
        self.tokens: set[str] = set()  # access tokens granted to the credential file's account
        self.refuse_grants = False
        self._key = rsa.generate_private_key(public_exponent=65537, key_size=2048)
        self.account = "coderevai-runtime@test-project.iam.gserviceaccount.com"

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

    def credentials_file(self, directory: Path) -> Path:
        """A service-account key file whose token endpoint is this fake (what `gcloud iam
        service-accounts keys create` writes, with another token_uri)."""
        pem = self._key.private_bytes(
            serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, serialization.NoEncryption()
        ).decode()
        info = {
            "type": "service_account",
            "project_id": "test-project",
            "private_key_id": "fake-key-1",
            "private_key": pem,
            "client_email": self.account,
            "client_id": "1234567890",
            "token_uri": f"{self.url}/token",
        }
        path = directory / "application_default_credentials.json"
        path.write_text(json.dumps(info))
        return path

    @property
    def grants(self) -> list[Seen]:
        return [seen for seen in self.server.requests if seen.path == "/token"]

    def _grant(self, seen: Seen) -> Reply:
        form = {name: values[0] for name, values in parse_qs(seen.body.decode()).items()}
        try:
            claims = jwt.decode(
                form.get("assertion", ""), self._key.public_key(), algorithms=["RS256"], audience=GOOGLE_TOKEN_AUDIENCE
            )
        except jwt.PyJWTError as exc:
            return Reply(400, {"error": "invalid_grant", "error_description": str(exc)})
        if self.refuse_grants or claims.get("iss") != self.account:
            return Reply(400, {"error": "invalid_grant", "error_description": "account disabled"})
        token = f"ya29.fake-{secrets.token_hex(8)}"
        self.tokens.add(token)
        return Reply(200, {"access_token": token, "expires_in": 3600, "token_type": "Bearer"})

    def _serve(self, seen: Seen) -> Reply:
        if self.latency:
            time.sleep(self.latency)
        if not seen.path.endswith(":generateContent"):
            return Reply(404, {"error": {"code": 404, "message": f"fake: no {seen.path}", "status": "NOT_FOUND"}})
        if "/projects/" in seen.path:  # Vertex AI: an access token this fake granted, never a key
            token = seen.headers.get("Authorization", "").removeprefix("Bearer ")
            if token not in self.tokens or "x-goog-api-key" in {name.lower() for name in seen.headers}:
                return Reply(401, {"error": {"code": 401, "message": "fake: bad token", "status": "UNAUTHENTICATED"}})
        return self.queued.popleft() if self.queued else self.default

    def __enter__(self) -> FakeGemini:
        self.server.start()
        return self

    def __exit__(self, *exc) -> None:
        self.server.stop()
