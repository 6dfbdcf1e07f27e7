"""PgBouncer (Debian's package) in front of the test PostgreSQL, started in a temporary directory
with its own ini and user list on a free loopback port, stopped afterwards: for the tests and
benchmarks/scale.py. scripts/services installs it when missing."""

from __future__ import annotations

import os
import shutil
import socket
import subprocess
import tempfile
import time
from contextlib import contextmanager
from pathlib import Path
from urllib.parse import urlsplit

from tests.support.server_process import free_port

INI = """[databases]
* = host={host} port={port}

[pgbouncer]
listen_addr = 127.0.0.1
listen_port = {listen}
unix_socket_dir =
auth_type = trust
auth_file = {dir}/userlist.txt
pool_mode = {mode}
default_pool_size = {server_connections}
max_client_conn = 500
server_login_retry = 1
logfile = {dir}/pgbouncer.log
pidfile = {dir}/pgbouncer.pid
admin_users = {user}
"""


def pgbouncer_path() -> str:
    found = shutil.which("pgbouncer") or ("/usr/sbin/pgbouncer" if os.path.exists("/usr/sbin/pgbouncer") else None)
    if found is None:
        raise RuntimeError("pgbouncer is not installed: scripts/services installs it (apt-get install pgbouncer)")
    return found


@contextmanager
def pgbouncer(server_url: str, *, mode: str = "transaction", server_connections: int = 2):
    """Yields a function mapping a PostgreSQL URL (of the server behind) to the same database
    through PgBouncer. `server_connections`: PgBouncer's connections to PostgreSQL per database."""
    server = urlsplit(server_url)
    user = server.username or "postgres"
    listen = free_port()
    directory = Path(tempfile.mkdtemp(prefix="crv-pgbouncer-"))
    ini = INI.format(
        host=server.hostname or "127.0.0.1",
        port=server.port or 5432,
        listen=listen,
        dir=directory,
        mode=mode,
        server_connections=server_connections,
        user=user,
    )
    (directory / "pgbouncer.ini").write_text(ini)
    (directory / "userlist.txt").write_text(f'"{user}" ""\n')
    command = [pgbouncer_path(), str(directory / "pgbouncer.ini")]
    if os.geteuid() == 0:  # PgBouncer refuses to run as root: it drops to the postgres account
        command[1:1] = ["-u", "postgres"]
        shutil.chown(directory, "postgres")
        for path in directory.iterdir():
            shutil.chown(path, "postgres")
    process = subprocess.Popen(command, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
    try:
        _wait_for_port(listen, process, directory)

        def through(url: str) -> str:
            parts = urlsplit(url)
            return parts._replace(netloc=f"{parts.username or user}@127.0.0.1:{listen}").geturl()

        yield through
    finally:
        process.terminate()
        process.wait(timeout=10)
        shutil.rmtree(directory, ignore_errors=True)


def _wait_for_port(port: int, process: subprocess.Popen, directory: Path) -> None:
    for _ in range(100):
        if process.poll() is not None:
            log = directory / "pgbouncer.log"
            said = process.stderr.read().decode() if process.stderr else ""
            raise RuntimeError(f"pgbouncer exited: {said} {log.read_text() if log.exists() else ''}")
        with socket.socket() as sock:
            if sock.connect_ex(("127.0.0.1", port)) == 0:
                return
        time.sleep(0.05)
    raise RuntimeError("pgbouncer did not listen within 5 s")
