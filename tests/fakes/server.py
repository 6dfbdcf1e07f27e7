"""A tiny threaded HTTP server for faking SaaS APIs at the HTTP level (Clerk, Gemini, Stripe,
GitHub): the real SDKs are pointed at it through their base URL."""

from __future__ import annotations

import json
import threading
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from urllib.parse import parse_qs, urlsplit


@dataclass
class Seen:
    method: str
    path: str
    query: dict[str, list[str]]
    headers: dict[str, str]
    body: bytes

    def json(self):
        return json.loads(self.body or b"null")


@dataclass
class Reply:
    """A canned answer. A body that is an iterable of byte chunks is streamed (chunked encoding)."""

    status: int = 200
    body: bytes | str | dict | list | Iterable[bytes] = b""
    headers: dict[str, str] = field(default_factory=dict)

    def encoded(self) -> tuple[bytes, dict[str, str]]:
        headers = dict(self.headers)
        body = self.body
        if isinstance(body, (dict, list)):
            body = json.dumps(body)
            headers.setdefault("Content-Type", "application/json")
        if isinstance(body, str):
            body = body.encode()
        return body, headers


Handler = Callable[[Seen], Reply]


class FakeServer:
    """Routes (method, path prefix) to handlers; records every request it saw."""

    def __init__(self) -> None:
        self.routes: list[tuple[str, str, Handler]] = []
        self.requests: list[Seen] = []
        self.in_flight = 0
        self.max_in_flight = 0  # the most requests it was answering at once
        self._lock = threading.Lock()
        outer = self

        class _Handler(BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.1"

            def log_message(self, *args):  # quiet
                pass

            def handle(self):
                try:
                    super().handle()
                except (BrokenPipeError, ConnectionResetError):
                    pass  # a client may hang up mid-stream (the archive caps do): no error for a fake

            def _serve(self):
                length = int(self.headers.get("Content-Length") or 0)
                body = self.rfile.read(length) if length else b""
                parts = urlsplit(self.path)
                seen = Seen(self.command, parts.path, parse_qs(parts.query), dict(self.headers.items()), body)
                with outer._lock:
                    outer.requests.append(seen)
                    outer.in_flight += 1
                    outer.max_in_flight = max(outer.max_in_flight, outer.in_flight)
                try:
                    reply = outer._dispatch(seen)
                    if isinstance(reply.body, (bytes, str, dict, list)):
                        self._send_whole(reply)
                    else:
                        self._send_chunked(reply)
                except (BrokenPipeError, ConnectionResetError):
                    self.close_connection = True  # the client hung up mid-answer, as it may
                finally:
                    with outer._lock:
                        outer.in_flight -= 1

            def _send_whole(self, reply: Reply) -> None:
                payload, headers = reply.encoded()
                self.send_response(reply.status)
                for name, value in headers.items():
                    self.send_header(name, value)
                self.send_header("Content-Length", str(len(payload)))
                self.end_headers()
                self.wfile.write(payload)

            def _send_chunked(self, reply: Reply) -> None:
                self.send_response(reply.status)
                for name, value in reply.headers.items():
                    self.send_header(name, value)
                self.send_header("Transfer-Encoding", "chunked")
                self.end_headers()
                for chunk in reply.body:
                    if chunk:
                        self.wfile.write(f"{len(chunk):x}\r\n".encode() + chunk + b"\r\n")
                self.wfile.write(b"0\r\n\r\n")

            do_GET = do_POST = do_PUT = do_PATCH = do_DELETE = _serve

        self.httpd = ThreadingHTTPServer(("127.0.0.1", 0), _Handler)
        self.httpd.daemon_threads = True
        self.url = f"http://127.0.0.1:{self.httpd.server_address[1]}"
        self._thread = threading.Thread(target=self.httpd.serve_forever, daemon=True)

    def route(self, method: str, prefix: str, handler: Handler | Reply) -> None:
        fn = handler if callable(handler) else (lambda _seen, reply=handler: reply)
        self.routes.insert(0, (method.upper(), prefix, fn))

    def _dispatch(self, seen: Seen) -> Reply:
        for method, prefix, handler in self.routes:
            if method in (seen.method, "*") and seen.path.startswith(prefix):
                return handler(seen)
        return Reply(404, {"error": f"fake: no route for {seen.method} {seen.path}"})

    def start(self) -> FakeServer:
        self._thread.start()
        return self

    def stop(self) -> None:
        self.httpd.shutdown()
        self.httpd.server_close()

    def __enter__(self) -> FakeServer:
        return self.start()

    def __exit__(self, *exc) -> None:
        self.stop()
