"""A fake of Cloud Tasks' REST API (v2 `tasks.create`) that the real google-cloud-tasks client
talks to (REST transport, `client_options.api_endpoint` = this server), and that dispatches each
task as Cloud Tasks does: an HTTP POST to the task's URL with its body and an OIDC token signed by
this fake's key for the task's service account and audience, retried with backoff until a 2xx or
`max_attempts`. A task name is refused (409 ALREADY_EXISTS) once taken, as the queue refuses it for
about an hour. Its certificates (Google's x509 format) are at /oauth2/v1/certs."""

from __future__ import annotations

import base64
import datetime
import threading
import time
import uuid

import httpx
import jwt
from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import rsa
from cryptography.x509.oid import NameOID

from tests.fakes.server import FakeServer, Reply, Seen


class FakeCloudTasks(FakeServer):
    def __init__(self, *, dispatch: bool = True, max_attempts: int = 4, backoff: float = 0.05) -> None:
        super().__init__()
        self.kid = "fake-google-key-1"
        self.key = rsa.generate_private_key(public_exponent=65537, key_size=2048)
        self.dispatching = dispatch
        self.max_attempts, self.backoff = max_attempts, backoff
        self.tasks: dict[str, dict] = {}  # full name -> the task as created
        self.attempts: list[tuple[str, int]] = []  # (task name, status the target answered)
        self.answers: dict[str, list[dict | None]] = {}  # task name -> each attempt's JSON answer
        self.refused: list[str] = []  # names refused as duplicates
        self._threads: list[threading.Thread] = []
        self.route("POST", "/v2/", self._create)
        self.route(
            "GET",
            "/oauth2/v1/certs",
            lambda _seen: Reply(200, {self.kid: self._certificate()}, {"Cache-Control": "public, max-age=600"}),
        )

    @property
    def certs_url(self) -> str:
        return self.url + "/oauth2/v1/certs"

    def _create(self, seen: Seen) -> Reply:
        if not seen.path.endswith("/tasks"):
            return Reply(404, {"error": {"code": 404, "message": "not found", "status": "NOT_FOUND"}})
        parent = seen.path[len("/v2/") : -len("/tasks")]
        task = seen.json()["task"]
        name = task.get("name") or f"{parent}/tasks/{uuid.uuid4().hex}"
        if not name.startswith(parent + "/tasks/"):
            return Reply(
                400, {"error": {"code": 400, "message": "task name not in the queue", "status": "INVALID_ARGUMENT"}}
            )
        with self._lock:
            if name in self.tasks:
                self.refused.append(name)
                return Reply(
                    409,
                    {"error": {"code": 409, "message": "Requested entity already exists", "status": "ALREADY_EXISTS"}},
                )
            self.tasks[name] = task
        if self.dispatching:
            self.dispatch(name)
        return Reply(200, {**task, "name": name, "createTime": _now(), "dispatchCount": 0})

    def dispatch(self, name: str) -> threading.Thread:
        """Send the task to its target now (in the background), retrying as the queue would."""
        thread = threading.Thread(target=self._deliver, args=(name,), daemon=True)
        self._threads.append(thread)
        thread.start()
        return thread

    def _deliver(self, name: str) -> None:
        request = self.tasks[name]["httpRequest"]
        oidc = request.get("oidcToken") or {}
        body = base64.b64decode(request.get("body", ""))
        for attempt in range(self.max_attempts):
            headers = {**request.get("headers", {}), "X-CloudTasks-TaskName": name.rsplit("/", 1)[1]}
            if oidc:
                headers["Authorization"] = "Bearer " + self.token(
                    oidc["serviceAccountEmail"], oidc.get("audience") or request["url"]
                )
            answer = None
            try:
                response = httpx.post(request["url"], content=body, headers=headers, timeout=60)
                status = response.status_code
                answer = (
                    response.json() if response.headers.get("Content-Type", "").startswith("application/json") else None
                )
            except httpx.HTTPError:
                status = 0
            with self._lock:
                self.attempts.append((name, status))
                self.answers.setdefault(name, []).append(answer)
            if 200 <= status < 300:
                return
            time.sleep(self.backoff * 2**attempt)

    def token(self, email: str, audience: str, *, lifetime: int = 3600, **overrides) -> str:
        now = int(time.time())
        claims = {
            "iss": "https://accounts.google.com",
            "aud": audience,
            "azp": "1234567890",
            "sub": "1234567890",
            "email": email,
            "email_verified": True,
            "iat": now,
            "exp": now + lifetime,
            **overrides,
        }
        return jwt.encode(claims, self.key, algorithm="RS256", headers={"kid": self.kid})

    def wait(self, timeout: float = 30) -> None:
        """Until every dispatch so far has finished (answered 2xx or used its attempts)."""
        deadline = time.monotonic() + timeout
        for thread in list(self._threads):
            thread.join(max(0.0, deadline - time.monotonic()))

    def _certificate(self) -> str:
        subject = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, "fake-google-oidc")])
        now = datetime.datetime.now(datetime.UTC)
        certificate = (
            x509.CertificateBuilder()
            .subject_name(subject)
            .issuer_name(subject)
            .public_key(self.key.public_key())
            .serial_number(1)
            .not_valid_before(now - datetime.timedelta(days=1))
            .not_valid_after(now + datetime.timedelta(days=1))
            .sign(self.key, hashes.SHA256())
        )
        return certificate.public_bytes(serialization.Encoding.PEM).decode()


def _now() -> str:
    return datetime.datetime.now(datetime.UTC).strftime("%Y-%m-%dT%H:%M:%S.%fZ")
