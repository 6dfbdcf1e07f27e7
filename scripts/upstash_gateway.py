"""An Upstash-compatible REST gateway over a real Redis, for development and tests, so the exact
production path (the official upstash-redis client speaking Upstash's REST protocol) runs locally:

    python scripts/upstash_gateway.py --port 8079 --token devtoken --redis redis://127.0.0.1:6379/0
    UPSTASH_REDIS_REST_URL=http://127.0.0.1:8079 UPSTASH_REDIS_REST_TOKEN=devtoken ./scripts/serve

The protocol as Upstash documents it and upstash-redis uses it: POST `/` with a JSON array command,
`/pipeline` and `/multi-exec` with an array of them (path-style `GET /set/k/v` too); a Bearer token
(or `?_token=`); answers `{"result": ...}` or `{"error": "..."}` with 200, 400 (bad request or a
failed command), 401 (token) or 405 (method); `Upstash-Encoding: base64` encodes every string
in a result except "OK". Hand-written on the standard library: Upstash publishes no server."""

from __future__ import annotations

import argparse
import base64
import contextlib
import hmac
import json
import socket
import threading
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any
from urllib.parse import parse_qs, unquote, urlsplit

import redis
from redis.exceptions import ConnectionError as RedisConnectionError
from redis.exceptions import ResponseError
from redis.exceptions import TimeoutError as RedisTimeoutError

# Commands that would change or hold the pooled connection's state; Upstash refuses them too.
REFUSED = {"SUBSCRIBE", "PSUBSCRIBE", "SSUBSCRIBE", "MONITOR", "SELECT", "MULTI", "EXEC", "DISCARD", "WATCH", "QUIT"}


class BadRequest(Exception):
    pass


class _Server(ThreadingHTTPServer):
    daemon_threads = True
    request_queue_size = 256  # a burst of new connections must not overflow the listen backlog


class Gateway:
    """The REST front of one Redis; `start()` serves it on a thread (tests), `serve_forever()` blocks."""

    def __init__(self, redis_url: str, token: str, host: str = "127.0.0.1", port: int = 0) -> None:
        self.token = token
        # RESP2, as Upstash answers: maps and sets come back as flat arrays.
        self.pool = redis.ConnectionPool.from_url(redis_url, protocol=2, socket_timeout=10, socket_connect_timeout=5)
        self.connections: set[socket.socket] = set()
        self._lock = threading.Lock()
        self.server = _Server((host, port), _handler_for(self))
        self._thread: threading.Thread | None = None

    @property
    def url(self) -> str:
        host, port = self.server.server_address[:2]
        return f"http://{host}:{port}"

    def start(self) -> Gateway:
        self._thread = threading.Thread(target=self.server.serve_forever, name="upstash-gateway", daemon=True)
        self._thread.start()
        return self

    def stop(self) -> None:
        """Stop as a killed process would: also hang up the clients' keep-alive connections."""
        self.server.shutdown()
        self.server.server_close()
        with self._lock:
            for connection in self.connections:
                with contextlib.suppress(OSError):
                    connection.shutdown(socket.SHUT_RDWR)
        self.pool.disconnect()

    def serve_forever(self) -> None:
        self.server.serve_forever()

    def run(self, commands: list[list[str]], *, transaction: bool = False) -> list[Any]:
        """Send commands on one connection; each answer is a value or a ResponseError."""
        connection = self.pool.get_connection()
        try:
            sent = [["MULTI"], *commands, ["EXEC"]] if transaction else commands
            connection.send_packed_command(connection.pack_commands(sent))
            answers = []
            for _ in sent:
                try:
                    answers.append(connection.read_response())
                except ResponseError as exc:
                    answers.append(exc)
        except Exception:
            connection.disconnect()
            raise
        finally:
            self.pool.release(connection)
        return answers


def _handler_for(gateway: Gateway) -> type[BaseHTTPRequestHandler]:
    class Handler(BaseHTTPRequestHandler):
        protocol_version = "HTTP/1.1"  # keep-alive, as Upstash and the client's httpx pool expect
        disable_nagle_algorithm = True  # headers and body go out as two writes: no 40 ms ACK wait

        def setup(self) -> None:
            super().setup()
            with gateway._lock:
                gateway.connections.add(self.connection)

        def finish(self) -> None:
            with gateway._lock:
                gateway.connections.discard(self.connection)
            super().finish()

        def log_message(self, format: str, *args: Any) -> None:  # noqa: A002  (quiet in tests)
            pass

        def do_POST(self) -> None:
            self._serve()

        def do_PUT(self) -> None:
            self._serve()

        def do_GET(self) -> None:
            self._serve()

        def do_HEAD(self) -> None:
            self._serve()

        def do_DELETE(self) -> None:
            self._method_not_allowed()

        def do_PATCH(self) -> None:
            self._method_not_allowed()

        def _method_not_allowed(self) -> None:
            self._read_body()
            self._reply(405, {"error": "Method Not Allowed"})

        def _serve(self) -> None:
            body = self._read_body()
            url = urlsplit(self.path)
            if not self._authorized(url.query):
                self._reply(401, {"error": "Unauthorized"})
                return
            encode = self.headers.get("Upstash-Encoding", "").lower() == "base64"
            try:
                status, payload = self._dispatch(url.path, body, encode)
            except BadRequest as exc:
                status, payload = 400, {"error": str(exc)}
            except (RedisConnectionError, RedisTimeoutError) as exc:
                status, payload = 500, {"error": f"ERR the gateway cannot reach Redis: {type(exc).__name__}"}
            self._reply(status, payload)

        def _dispatch(self, path: str, body: bytes, encode: bool) -> tuple[int, Any]:
            if path in ("/pipeline", "/multi-exec"):
                commands = _parse_commands(body, many=True)
                answers = gateway.run(commands, transaction=path == "/multi-exec")
                if path == "/multi-exec":
                    if isinstance(answers[-1], ResponseError):  # EXECABORT: nothing ran
                        return 400, {"error": _error_text(answers[-1])}
                    answers = answers[-1]
                return 200, [_result(answer, encode) for answer in answers]
            if path.strip("/"):
                command = [unquote(part) for part in path.strip("/").split("/")]
                if body:
                    command.append(body.decode("utf-8", "surrogateescape"))
            else:
                command = _parse_commands(body, many=False)[0]
            [answer] = gateway.run([command])
            result = _result(answer, encode)
            return (400 if "error" in result else 200), result

        def _authorized(self, query: str) -> bool:
            given = self.headers.get("Authorization", "")
            token = given[len("Bearer ") :] if given.startswith("Bearer ") else None
            token = token or (parse_qs(query).get("_token") or [None])[0]
            return token is not None and hmac.compare_digest(token.encode(), gateway.token.encode())

        def _read_body(self) -> bytes:
            length = int(self.headers.get("Content-Length") or 0)
            return self.rfile.read(length) if length else b""

        def _reply(self, status: int, payload: Any) -> None:
            data = json.dumps(payload).encode()
            self.send_response(status)
            self.send_header("Content-Type", "application/json")
            self.send_header("Content-Length", str(len(data)))
            self.end_headers()
            if self.command != "HEAD":
                self.wfile.write(data)

    return Handler


def _parse_commands(body: bytes, *, many: bool) -> list[list[str]]:
    try:
        data = json.loads(body or b"null")
    except ValueError:
        raise BadRequest("ERR failed to parse the request body as JSON") from None
    commands = data if many else [data]
    if not isinstance(commands, list) or not commands:
        raise BadRequest("ERR the request body must be a JSON array" + (" of commands" if many else ""))
    parsed = []
    for command in commands:
        if not isinstance(command, list) or not command:
            raise BadRequest("ERR a command must be a non-empty JSON array")
        if not all(isinstance(part, str | int | float) and not isinstance(part, bool) for part in command):
            raise BadRequest("ERR command arguments must be strings or numbers")
        args = [part if isinstance(part, str) else json.dumps(part) for part in command]
        if args[0].upper() in REFUSED:
            raise BadRequest(f"ERR Command is not allowed: {args[0].lower()}")
        parsed.append(args)
    return parsed


def _error_text(error: ResponseError) -> str:
    # redis-py strips the code ("NOSCRIPT", "ERR", ...) off the message; clients match on it.
    code = getattr(error, "status_code", None)
    return f"{code} {error}" if code else str(error)


def _result(answer: Any, encode: bool) -> dict[str, Any]:
    if isinstance(answer, ResponseError):
        return {"error": _error_text(answer)}
    return {"result": _value(answer, encode)}


def _value(value: Any, encode: bool) -> Any:
    if isinstance(value, bytes):
        if value == b"OK" or not encode:
            return value.decode("utf-8", "replace")
        return base64.b64encode(value).decode()
    if isinstance(value, list):
        return [_value(item, encode) for item in value]
    if isinstance(value, ResponseError):
        return _error_text(value)
    return value  # int or None


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--host", default="127.0.0.1")
    parser.add_argument("--port", type=int, default=8079)
    parser.add_argument("--token", required=True, help="the Bearer token clients must send")
    parser.add_argument("--redis", default="redis://127.0.0.1:6379/0", help="the Redis behind the gateway")
    args = parser.parse_args()
    gateway = Gateway(args.redis, args.token, args.host, args.port)
    print(f"Upstash REST gateway on {gateway.url} -> {args.redis}", flush=True)
    try:
        gateway.serve_forever()
    except KeyboardInterrupt:
        pass


if __name__ == "__main__":
    main()
