"""Structured logs: one JSON object per line on stdout, and one line per HTTP request.

The request line names the request id, the API key's id (never the key), the route, the
method, the status and the latency. It is made when the response is complete, from the
timestamp `deadline.py` puts in the scope when the request arrives, and written with the other
lines of the same 50 ms.
"""

from __future__ import annotations

import atexit
import logging
import sys
import time
from datetime import UTC, datetime
from typing import Any

import msgspec

from app.core.looptimer import LoopTimer

access_log = logging.getLogger("pivotal.http")
# request lines are written in batches: at most this late, at most this many at a time
FLUSH_SECONDS = 0.05
FLUSH_LINES = 100
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


class RequestLine(msgspec.Struct, kw_only=True):
    """A request's line, its keys in JsonFormatter's order: time, level, logger, message, then
    the request's own."""

    time: str
    level: str = "info"
    logger: str = "pivotal.http"
    message: str = "request"
    request_id: str | None
    method: str | None
    path: str | None
    route: str | None
    status: int | None
    latency_ms: float | None
    key_id: str | None
    workspace_id: str | None


_second: list[Any] = [-1, ""]


def _timestamp(now: float) -> str:
    """`now` as JsonFormatter writes times, the date part formatted once a second."""
    whole = int(now)
    if whole != _second[0]:
        _second[:] = [whole, time.strftime("%Y-%m-%dT%H:%M:%S", time.gmtime(whole))]
    return f"{_second[1]}.{int((now - whole) * 1000):03d}Z"


def log_request(scope: Any) -> None:
    """The request's one log line; `scope` carries what the request met on its way.

    Written to stdout directly, in the JSON shape JsonFormatter gives every other line, rather
    than through a logging record, handler and formatter (tens of µs on every request), and
    in batches (see _PendingLines). Setting the pivotal.http logger above INFO turns it off.
    """
    if not access_log.isEnabledFor(logging.INFO):
        return
    started = scope.get("started_at")
    principal = scope.get("principal")
    line = RequestLine(
        time=_timestamp(time.time()),
        request_id=scope.get("request_id"),
        method=scope.get("method"),
        path=scope.get("path"),
        route=scope.get("path_template"),
        status=scope.get("response_status"),
        latency_ms=round((time.perf_counter() - started) * 1000, 3) if started else None,
        key_id=principal.key_id if principal else None,
        workspace_id=principal.workspace_id if principal else None,
    )
    _pending.add(_encode(line) + b"\n")


class _PendingLines:
    """Request lines not written yet: one write for many requests rather than one each.

    Written within FLUSH_SECONDS, at FLUSH_LINES lines, when the app stops and at exit.
    """

    def __init__(self) -> None:
        self.lines: list[bytes] = []
        self.timer = LoopTimer(FLUSH_SECONDS, self.flush)

    def add(self, line: bytes) -> None:
        self.lines.append(line)
        if len(self.lines) >= FLUSH_LINES:
            self.flush()
        else:
            self.timer.arm()

    def flush(self) -> None:
        self.timer.cancel()
        if not self.lines:
            return
        text = b"".join(self.lines)
        self.lines.clear()
        stream = sys.stdout
        if stream is not None:
            stream.buffer.write(text)
            stream.flush()


_pending = _PendingLines()
flush_request_lines = _pending.flush
atexit.register(flush_request_lines)
