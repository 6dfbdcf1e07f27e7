"""JSON log lines that Cloud Logging reads: `severity`, the message and the request id."""

from __future__ import annotations

import contextvars
import json
import logging
import re
import sys
from typing import Any

from coderevai_core.bounded import cut

request_id_var: contextvars.ContextVar[str | None] = contextvars.ContextVar("request_id", default=None)

# Belt and braces: nothing we log should carry a credential, but a library's exception text might.
_SECRET_PATTERNS = re.compile(
    r"(Bearer\s+)[A-Za-z0-9._\-]+|"
    r"\b(sk|rk|pk)_(live|test)_[A-Za-z0-9]+|"
    r"\bwhsec_[A-Za-z0-9+/=]+|"
    r"\bAIza[0-9A-Za-z_\-]{20,}|"
    r"\beyJ[A-Za-z0-9_\-]+\.[A-Za-z0-9_\-]+\.[A-Za-z0-9_\-]*"
)


# A log line carries what a caller sent or an analyser said (a path, a tool's error, an exception's
# text quoting a line of code) at any length; Cloud Logging refuses an entry over 256 KB, and JSON
# may write a character as 12 bytes (an escaped surrogate pair). The bounds keep an entry within it.
MAX_MESSAGE_CHARS = 4000
MAX_EXCEPTION_CHARS = 12_000
MAX_FIELD_CHARS = 1000


def redact(text: str) -> str:
    return _SECRET_PATTERNS.sub(lambda m: (m.group(1) or "") + "[redacted]", text)


class JsonFormatter(logging.Formatter):
    def format(self, record: logging.LogRecord) -> str:
        entry = {
            "severity": record.levelname if record.levelname != "WARNING" else "WARNING",
            "message": cut(redact(record.getMessage()), MAX_MESSAGE_CHARS),
            "logger": record.name,
        }
        request_id = request_id_var.get()
        if request_id:
            entry["requestId"] = request_id
        entry.update(_bounded(getattr(record, "fields", {})))
        if record.exc_info:
            entry["exception"] = cut(redact(self.formatException(record.exc_info)), MAX_EXCEPTION_CHARS)
        return json.dumps(entry, default=str)


def _bounded(value: Any) -> Any:
    if isinstance(value, str):
        return cut(value, MAX_FIELD_CHARS)
    if isinstance(value, dict):
        return {key: _bounded(item) for key, item in value.items()}
    return value


def configure(level: str = "INFO") -> None:
    root = logging.getLogger("coderevai")
    if getattr(root, "_configured", False):
        return
    handler = logging.StreamHandler(sys.stdout)
    handler.setFormatter(JsonFormatter())
    root.addHandler(handler)
    root.setLevel(level.upper())
    root.propagate = False
    root._configured = True  # type: ignore[attr-defined]
