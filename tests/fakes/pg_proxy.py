"""A TCP proxy in front of the real PostgreSQL that can lose the answer to a COMMIT, the fault a
client cannot tell from "not written": armed with a statement's text, it forwards the next COMMIT
after that statement, gives the server time to finish it, then closes the client's connection
before the reply reaches it. Everything else passes through byte for byte (use sslmode=disable)."""

from __future__ import annotations

import socket
import threading
import time

COMMIT = b"COMMIT\x00"  # in a simple Query or in the Parse message of the extended protocol


class CommitDroppingProxy:
    def __init__(self, upstream: tuple[str, int]) -> None:
        self.upstream = upstream
        self.listener = socket.create_server(("127.0.0.1", 0))
        self.port = self.listener.getsockname()[1]
        self.armed: bytes | None = None
        self.dropped = 0
        self._lock = threading.Lock()

    def url(self, database: str) -> str:
        return f"postgresql://postgres@127.0.0.1:{self.port}/{database}?sslmode=disable"

    def drop_commit_after(self, statement: bytes) -> None:
        self.armed = statement

    def __enter__(self) -> CommitDroppingProxy:
        threading.Thread(target=self._accept, daemon=True).start()
        return self

    def __exit__(self, *exc) -> None:
        self.listener.close()

    def _accept(self) -> None:
        while True:
            try:
                client, _ = self.listener.accept()
            except OSError:
                return
            server = socket.create_connection(self.upstream)
            muted = threading.Event()  # set: the server's replies are no longer relayed
            threading.Thread(target=self._pump, args=(server, client, muted), daemon=True).start()
            threading.Thread(target=self._forward_client, args=(client, server, muted), daemon=True).start()

    def _forward_client(self, client: socket.socket, server: socket.socket, muted: threading.Event) -> None:
        statement_seen = False
        while chunk := _recv(client):
            with self._lock:
                armed = self.armed
                if armed and armed in chunk:
                    statement_seen = True
                losing = statement_seen and armed and COMMIT in chunk
                if losing:
                    self.armed = None
                    self.dropped += 1
                    muted.set()
            server.sendall(chunk)
            if losing:
                time.sleep(0.3)  # the server commits; its answer never arrives
                _close(client, server)
                return
        _close(client, server)

    @staticmethod
    def _pump(source: socket.socket, target: socket.socket, muted: threading.Event) -> None:
        while (chunk := _recv(source)) and not muted.is_set():
            try:
                target.sendall(chunk)
            except OSError:
                break
        _close(source, target)


def _recv(sock: socket.socket) -> bytes:
    try:
        return sock.recv(65536)
    except OSError:
        return b""


def _close(*sockets: socket.socket) -> None:
    for sock in sockets:
        try:
            sock.shutdown(socket.SHUT_RDWR)
        except OSError:
            pass
        sock.close()
