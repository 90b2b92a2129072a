"""A deadline on each request: no request holds a worker, a connection or a lock for long.

Statement timeouts bound each query; this bounds the whole request (waiting for a pooled
connection, several queries, reading a slow client's body). It wraps the app's ASGI handler,
so it also stamps the request's arrival time for the log line.
"""

from __future__ import annotations

import asyncio
import logging
import time

from litestar.types import ASGIApp, Message, Receive, Scope, Send

from app.errors import ServiceUnavailable
from app.responses import encode

log = logging.getLogger("pivotal.http")


def with_deadline(handler: ASGIApp, seconds: float | None) -> ASGIApp:
    """`handler`, answering 503 service_unavailable when a request runs past `seconds`."""

    async def deadline_handler(scope: Scope, receive: Receive, send: Send) -> None:
        scope["started_at"] = time.perf_counter()  # type: ignore[typeddict-unknown-key]
        if scope["type"] != "http" or not seconds:
            await handler(scope, receive, send)
            return
        started = False

        async def tracking_send(message: Message) -> None:
            nonlocal started
            started = started or message["type"] == "http.response.start"
            await send(message)

        deadline = asyncio.timeout(seconds)
        try:
            async with deadline:
                await handler(scope, receive, tracking_send)
        except TimeoutError:
            if not deadline.expired():
                raise
            log.warning("request cancelled after %s s: %s %s", seconds, scope["method"], scope["path"])
            if not started:  # once headers are out, closing the connection is all that is left
                await _send_unavailable(send, seconds)

    return deadline_handler


async def _send_unavailable(send: Send, seconds: float) -> None:
    error = ServiceUnavailable(f"The request did not complete within {seconds:g} seconds")
    await send({
        "type": "http.response.start",
        "status": error.status,
        "headers": [(b"content-type", b"application/json")],
    })
    await send({"type": "http.response.body", "body": encode(error.body())})
