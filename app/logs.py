"""Structured logs: one JSON object per line on stdout, and one line per HTTP request.

The request line names the request id, the API key's id (never the key), the route, the
method, the status and the latency. It is written when the response is complete, from the
timestamp `deadline.py` puts in the scope when the request arrives.
"""

from __future__ import annotations

import logging
import time
from datetime import UTC, datetime
from typing import Any

import msgspec

access_log = logging.getLogger("pivotal.http")
_encode = msgspec.json.Encoder().encode
# attributes every LogRecord has (and uvicorn's terminal-coloured copy of the message);
# anything else was passed with `extra=` and is logged too
_STANDARD = frozenset(vars(logging.LogRecord("", 0, "", 0, "", None, None))) | {
    "message", "color_message"}


class JsonFormatter(logging.Formatter):
    """A record as one JSON line: time, level, logger, message, extra fields, exception."""

    def format(self, record: logging.LogRecord) -> str:
        moment = datetime.fromtimestamp(record.created, UTC)
        line: dict[str, Any] = {
            "time": moment.isoformat(timespec="milliseconds").replace("+00:00", "Z"),
            "level": record.levelname.lower(),
            "logger": record.name,
            "message": record.getMessage(),
        }
        line.update((k, v) for k, v in vars(record).items() if k not in _STANDARD)
        if record.exc_info:
            line["exception"] = self.formatException(record.exc_info)
        return _encode(line).decode()


def log_config(level: str) -> dict[str, Any]:
    """logging.config.dictConfig settings: everything, uvicorn's own lines too, as JSON."""
    return {
        "version": 1,
        "disable_existing_loggers": False,
        "formatters": {"json": {"()": JsonFormatter}},
        "handlers": {"stdout": {"class": "logging.StreamHandler", "formatter": "json",
                                "stream": "ext://sys.stdout"}},
        "root": {"handlers": ["stdout"], "level": level},
        # uvicorn's loggers bring their own handlers unless told to use the root's
        "loggers": {name: {"handlers": [], "propagate": True}
                    for name in ("uvicorn", "uvicorn.error", "uvicorn.access")},
    }


def log_request(scope: Any) -> None:
    """The request's one log line; `scope` carries what the request met on its way."""
    if not access_log.isEnabledFor(logging.INFO):
        return
    started = scope.get("started_at")
    principal = scope.get("principal")
    fields = {
        "request_id": scope.get("request_id"),
        "method": scope.get("method"),
        "path": scope.get("path"),
        "route": scope.get("path_template"),
        "status": scope.get("response_status"),
        "latency_ms": round((time.perf_counter() - started) * 1000, 3) if started else None,
        "key_id": principal.key_id if principal else None,
        "workspace_id": principal.workspace_id if principal else None,
    }
    # built and handled directly: Logger.info would also walk the stack for the caller's
    # file and line (a few µs per request, on the hot path) for a line that never shows them
    record = access_log.makeRecord(
        access_log.name, logging.INFO, "", 0, "request", (), None, extra=fields
    )
    access_log.handle(record)
