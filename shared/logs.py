"""JSON log lines that Cloud Logging reads: `severity`, the message and the request id."""

from __future__ import annotations

import contextvars
import json
import logging
import re
import sys

request_id_var: contextvars.ContextVar[str | None] = contextvars.ContextVar("request_id", default=None)

# Belt and braces: nothing we log should carry a credential, but a library's exception text might.
_SECRET_PATTERNS = re.compile(
    r"(Bearer\s+)[A-Za-z0-9._\-]+|"
    r"\b(sk|rk|pk)_(live|test)_[A-Za-z0-9]+|"
    r"\bwhsec_[A-Za-z0-9+/=]+|"
    r"\bAIza[0-9A-Za-z_\-]{20,}|"
    r"\beyJ[A-Za-z0-9_\-]+\.[A-Za-z0-9_\-]+\.[A-Za-z0-9_\-]*"
)


def redact(text: str) -> str:
    return _SECRET_PATTERNS.sub(lambda m: (m.group(1) or "") + "[redacted]", text)


class JsonFormatter(logging.Formatter):
    def format(self, record: logging.LogRecord) -> str:
        entry = {
            "severity": record.levelname if record.levelname != "WARNING" else "WARNING",
            "message": redact(record.getMessage()),
            "logger": record.name,
        }
        request_id = request_id_var.get()
        if request_id:
            entry["requestId"] = request_id
        entry.update(getattr(record, "fields", {}))
        if record.exc_info:
            entry["exception"] = redact(self.formatException(record.exc_info))
        return json.dumps(entry, default=str)


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
