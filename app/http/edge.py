"""The edge of every request: its Request-Id, its deadline, its log line, its metrics, HEAD.

It wraps the app's ASGI handler, so it sees every response — errors, unknown routes and
what the framework answers by itself included — in one place and one send wrapper. A HEAD
request is answered as the GET it mirrors, with the GET's headers and no body.

The deadline: statement timeouts bound each query; this bounds the whole request (waiting for
a pooled connection, several queries, reading a slow client's body), so no request holds a
worker, a connection or a lock for long.
"""

from __future__ import annotations

import asyncio
import logging
import os
import time
from collections.abc import Callable
from typing import Any

from litestar.types import ASGIApp, Message, Receive, Scope, Send

from app.core.errors import ServiceUnavailable
from app.core.logs import log_request
from app.core.looptimer import LoopTimer
from app.http.responses import encode

log = logging.getLogger("pivotal.http")


class Deadlines:
    """The in-flight requests of one process and when each must end.

    One timer per process checks them every `seconds / 10` (at most 0.5 s) while any request is
    in flight and cancels the overdue ones, rather than a timer armed and disarmed for each
    request: a request ends at most a tenth past its deadline.
    """

    def __init__(self, seconds: float) -> None:
        self.seconds = seconds
        self.interval = min(seconds / 10, 0.5)
        self._running: dict[asyncio.Task[Any], float] = {}
        self._expired: set[asyncio.Task[Any]] = set()
        self._timer = LoopTimer(self.interval, self._check)

    def enter(self, task: asyncio.Task[Any]) -> None:
        self._running[task] = time.monotonic() + self.seconds
        self._timer.arm()

    def expired(self, task: asyncio.Task[Any]) -> bool:
        """Whether `task` was cancelled for running past its deadline."""
        return task in self._expired

    def leave(self, task: asyncio.Task[Any]) -> None:
        del self._running[task]
        self._expired.discard(task)

    def _check(self) -> None:
        now = time.monotonic()
        for task, deadline in self._running.items():
            if deadline <= now and task not in self._expired:
                self._expired.add(task)
                task.cancel()
        if self._running:
            self._timer.arm()


def new_request_id() -> str:
    return "req_" + os.urandom(12).hex()


def with_deadline(handler: ASGIApp, seconds: float | None, log_lines: bool = True,
                  observe: Callable[[Scope], None] | None = None) -> ASGIApp:
    """`handler` with a Request-Id on every response, one log line per request (unless
    `log_lines` is false), a 503 service_unavailable when a request runs past `seconds`, and
    HEAD wherever GET is; `observe` is given each complete response's scope, as the log line
    is (app/http/metrics.py)."""
    deadlines = Deadlines(seconds) if seconds else None
    log_line = log_request if log_lines else _no_line

    async def edge_handler(scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await handler(scope, receive, send)
            return
        head = scope["method"] == "HEAD"
        if head:
            # the app sees the GET; the server's own scope still says HEAD, so it sends no
            # body either (and keeps the GET's content-length)
            scope = {**scope, "method": "GET"}  # type: ignore[assignment]
        scope["started_at"] = time.perf_counter()  # type: ignore[typeddict-unknown-key]
        request_id = new_request_id()
        scope["request_id"] = request_id  # type: ignore[typeddict-unknown-key]
        header = (b"request-id", request_id.encode())
        started = False

        async def edge_send(message: Message) -> None:
            nonlocal started
            if message["type"] == "http.response.start":
                started = True
                message["headers"] = [*message.get("headers", ()), header, *_allowance(scope)]
                scope["response_status"] = message["status"]  # type: ignore[typeddict-unknown-key]
                await send(message)
                return
            if head:
                message = {**message, "body": b""}  # type: ignore[typeddict-item]
            await send(message)
            if message["type"] == "http.response.body" and not message.get("more_body"):
                if head:
                    scope["method"] = "HEAD"  # the log line names what was asked
                log_line(scope)
                if observe is not None:
                    observe(scope)

        if deadlines is None:
            await handler(scope, receive, edge_send)
            return
        task = asyncio.current_task()
        assert task is not None
        deadlines.enter(task)
        try:
            await handler(scope, receive, edge_send)
            return
        except asyncio.CancelledError:
            if not deadlines.expired(task) or task.uncancel() > 0:
                raise  # cancelled by someone else (a shutdown), not only by the deadline
        finally:
            deadlines.leave(task)
        log.warning("request cancelled after %s s: %s %s", seconds, scope["method"], scope["path"])
        if not started:  # once headers are out, closing the connection is all that is left
            await _send_unavailable(edge_send, seconds)

    return edge_handler


def _no_line(scope: Scope) -> None:
    """The request log line switched off (app.main.Layers)."""


def _allowance(scope: Scope) -> list[tuple[bytes, bytes]]:
    """The key's RateLimit-* headers, once the request was authenticated."""
    allowance = scope.get("rate_limit")
    if allowance is None:
        return []
    return allowance.raw_headers()


async def _send_unavailable(send: Send, seconds: float) -> None:
    error = ServiceUnavailable(f"The request did not complete within {seconds:g} seconds")
    await send({
        "type": "http.response.start",
        "status": error.status,
        "headers": [(b"content-type", b"application/json")],
    })
    await send({"type": "http.response.body", "body": encode(error.body())})
