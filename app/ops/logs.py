"""Structured logs: one JSON object per line, with the request id of the request being served.

The id comes from the client's X-Request-ID (when it looks like one) or is made here; it is returned in
the response's X-Request-ID and carried by every log line written while the request is served, the
turn's stages included (FastAPI runs sync handlers in threads that inherit the context).
"""

from __future__ import annotations

import json
import logging
import re
import uuid
from contextvars import ContextVar
from datetime import UTC, datetime
from typing import Any

request_id: ContextVar[str | None] = ContextVar("request_id", default=None)
_VALID = re.compile(r"^[A-Za-z0-9._-]{1,64}$")
_STANDARD = set(vars(logging.makeLogRecord({}))) | {"message", "asctime"}


def new_request_id(given: str | None) -> str:
    return given if given and _VALID.match(given) else uuid.uuid4().hex


class RequestIdFilter(logging.Filter):
    def filter(self, record: logging.LogRecord) -> bool:
        record.request_id = request_id.get()
        return True


# Tokens that ride in a URL (browsers' EventSource can't send headers: the live stream takes ?access_token=).
_URL_SECRET = re.compile(r"((?:access_token|token|key)=)[^&\s\"']+", re.IGNORECASE)


class RedactSecrets(logging.Filter):
    """Keep tokens out of the logs: a query-string token in any line (the access log's request line) is
    replaced by [redacted]."""

    def filter(self, record: logging.LogRecord) -> bool:
        message = record.getMessage()
        redacted = _URL_SECRET.sub(r"\1[redacted]", message)
        if redacted != message:
            record.msg, record.args = redacted, None
        return True


class JsonFormatter(logging.Formatter):
    def format(self, record: logging.LogRecord) -> str:
        entry = {
            "ts": datetime.fromtimestamp(record.created, UTC).isoformat(timespec="milliseconds"),
            "level": record.levelname.lower(),
            "logger": record.name,
            "message": record.getMessage(),
            "request_id": getattr(record, "request_id", None) or request_id.get(),
        }
        entry.update({k: v for k, v in vars(record).items() if k not in _STANDARD and k != "request_id"})
        if record.exc_info:
            entry["exception"] = self.formatException(record.exc_info)
        return json.dumps(entry, ensure_ascii=False, default=str)


def handler(fmt: str) -> logging.Handler:
    """A stderr handler writing JSON ("json") or plain text with the request id, tokens redacted."""
    stream = logging.StreamHandler()
    stream.addFilter(RequestIdFilter())
    stream.addFilter(RedactSecrets())
    if fmt == "json":
        stream.setFormatter(JsonFormatter())
    else:
        stream.setFormatter(logging.Formatter("%(asctime)s %(levelname)s %(name)s [%(request_id)s] %(message)s"))
    return stream


def configure(fmt: str, level: str = "INFO") -> None:
    """Send the root logger's records to stderr as JSON ("json") or as plain text with the request id."""
    root = logging.getLogger()
    root.handlers = [handler(fmt)]
    root.setLevel(level)


def dict_config(fmt: str, level: str = "INFO") -> dict[str, Any]:
    """configure() as a logging dict config, which uvicorn applies in each worker process it spawns (they
    start from a bare interpreter: without it, their access log and every line of the app went nowhere)."""
    return {
        "version": 1,
        "disable_existing_loggers": False,
        "handlers": {"shopdesk": {"()": f"{__name__}.handler", "fmt": fmt}},
        "root": {"handlers": ["shopdesk"], "level": level},
    }
