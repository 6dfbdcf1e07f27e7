"""ApiUsage: one row per handled call, for analytics and cost tracking, kept off the request's path.

A call's row is known only once its answer is (status, duration, tokens), after the handler's own
transaction has ended, and a review's handler spends seconds on Gemini, too long to hold a
transaction open. So rows are buffered per instance and written in batches, one multi-row INSERT
per batch: by a background thread when FLUSH_ROWS are waiting or the oldest has waited
FLUSH_SECONDS, and at shutdown (atexit; SIGTERM, which Cloud Run sends with 10 s to spare, becomes
a normal exit where nothing else handles it). A crash (SIGKILL, out of memory) loses at most the
rows of the last FLUSH_SECONDS and never more than FLUSH_ROWS plus what arrives during one write.
Best effort as before: a batch that cannot be written is logged with its size, never retried."""

from __future__ import annotations

import atexit
import logging
import os
import signal
import threading
import time

import sqlalchemy as sa

from shared import db
from shared.ids import cuid
from shared.models import utcnow

log = logging.getLogger("coderevai.usage")

FLUSH_ROWS = 100
FLUSH_SECONDS = 2.0


class UsageBuffer:
    def __init__(self, flush_rows: int = FLUSH_ROWS, flush_seconds: float = FLUSH_SECONDS) -> None:
        self.flush_rows, self.flush_seconds = flush_rows, flush_seconds
        self._rows: list[dict] = []
        self._oldest = 0.0
        self._lock = threading.Lock()
        self._write_lock = threading.Lock()  # one batch at a time, in the order they were taken
        self._wake = threading.Event()
        self._thread: threading.Thread | None = None
        self._pid = 0

    def add(self, row: dict) -> None:
        with self._lock:
            if not self._rows:
                self._oldest = time.monotonic()
            self._rows.append(row)
            full = len(self._rows) >= self.flush_rows
        self._ensure_thread()
        if full:
            self._wake.set()

    def flush(self) -> int:
        """Write what is waiting now; the number of rows written."""
        with self._write_lock:
            with self._lock:
                rows, self._rows = self._rows, []
            if not rows:
                return 0
            try:
                # Mapped here, by the flushing thread after the answers have gone: the table costs
                # ~2.5 ms to map, which no request, the first one included, should wait for.
                from shared.models.api_usage import ApiUsage

                with db.statement(own=True) as session:  # one statement: atomic on its own
                    session.execute(sa.insert(ApiUsage.__table__).values(rows))
            except Exception as exc:
                log.warning("%d usage rows not recorded: %s", len(rows), getattr(exc, "code", type(exc).__name__))
                return 0
            return len(rows)

    def _ensure_thread(self) -> None:
        # Started on first use, in the process that serves: a thread does not survive a fork, and
        # gunicorn imports the function before forking its worker.
        if self._pid == os.getpid() and self._thread is not None:
            return
        with self._lock:
            if self._pid != os.getpid() or self._thread is None:
                self._pid, self._wake = os.getpid(), threading.Event()
                self._thread = threading.Thread(target=self._run, name="usage-flush", daemon=True)
                self._thread.start()

    def _run(self) -> None:
        while True:
            with self._lock:
                due = self._oldest + self.flush_seconds - time.monotonic() if self._rows else self.flush_seconds
            if due > 0 and not self._wake.wait(due):
                continue
            self._wake.clear()
            self.flush()


_buffer = UsageBuffer()


def record_call(user_id: str, endpoint: str, duration_ms: int, status: int, tokens: int | None) -> None:
    """Queue the call's row; never fails the user's request."""
    _buffer.add(
        {
            "id": cuid(),
            "userId": user_id,
            "endpoint": endpoint,
            "timestamp": utcnow(),
            "duration": duration_ms,
            "statusCode": status,
            "tokensUsed": tokens,
        }
    )


def flush() -> int:
    """Write the waiting rows now (shutdown; tests that read the table)."""
    return _buffer.flush()


def _exit_on_sigterm(signum, _frame) -> None:
    raise SystemExit(128 + signum)


atexit.register(flush)
# A server that handles SIGTERM itself (gunicorn: its worker then exits normally, running atexit)
# replaces this; where nothing does, the default would end the process without running atexit.
if threading.current_thread() is threading.main_thread() and signal.getsignal(signal.SIGTERM) is signal.SIG_DFL:
    signal.signal(signal.SIGTERM, _exit_on_sigterm)
