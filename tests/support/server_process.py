"""The one-port local server (scripts/local_server.py) as a separate process on a free loopback
port, for tests and benchmarks that drive it over real HTTP."""

from __future__ import annotations

import os
import socket
import subprocess
import sys
import time
from contextlib import contextmanager
from pathlib import Path

import httpx

ROOT = Path(__file__).resolve().parents[2]


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


@contextmanager
def local_server(env: dict[str, str], log: Path):
    """Yields the server's base URL once it answers; `env` is its whole environment but PATH and HOME."""
    port = free_port()
    base = {"PATH": os.environ.get("PATH", "/usr/bin:/bin"), "HOME": str(log.parent)}
    with log.open("w") as out:
        server = subprocess.Popen(
            [sys.executable, "scripts/local_server.py", "--port", str(port)],
            cwd=ROOT,
            env={**base, **env},
            stdout=out,
            stderr=subprocess.STDOUT,
        )
        url = f"http://127.0.0.1:{port}"
        try:
            for _ in range(150):
                try:
                    httpx.get(url + "/api/health", timeout=1)
                    break  # any answer: it serves
                except httpx.TransportError:
                    time.sleep(0.1)
            yield url
        finally:
            server.terminate()
            server.wait(timeout=10)
