"""An HTTP/1.1 connection: uvicorn's httptools protocol, with the request head bounded.

Until a request's head (request line and headers) is complete the app has not started, so
neither the request deadline (app/http/edge.py) nor the body limit applies, and uvicorn's
httptools protocol bounds nothing: it waits for a head as long as the client likes, and
httptools joins the pieces of a header value by concatenation, so a 64 MiB header costs
seconds of CPU. Here the head is bounded in size and in time:

- size: at most `fields` header lines of at most `line_bytes` each, `total_bytes` in all, and
  a URL of at most `line_bytes`. A complete head is measured exactly; one still arriving is
  bounded by the bytes read since it began, one read at a time, so at most a read or two
  (256 KiB each) past the limit are parsed. Past a limit the answer is a 431 (a 414 for the
  URL);
- time: the head must be complete `timeout` seconds after the connection opened or after the
  head's first byte (an idle keep-alive connection is uvicorn's to close). One timer per
  process looks over the connections, so no timer is armed and cancelled per request.

What httptools refuses (a bad Content-Length, Content-Length with Transfer-Encoding, obs-fold,
an unknown method, bytes not allowed in a URL) is a 400 malformed_request. Each answer is in
the API's error shape with a Request-Id and its log line, and closes the connection.
"""

from __future__ import annotations

import asyncio
import logging
import time
import weakref
from dataclasses import dataclass
from typing import Any

import httptools
from uvicorn.config import Config
from uvicorn.protocols.http.httptools_impl import STATUS_LINE, HttpToolsProtocol
from uvicorn.server import ServerState

from app.core.errors import ApiError, HeaderFieldsTooLarge, MalformedRequest, UriTooLong
from app.core.logs import log_request
from app.core.looptimer import LoopTimer
from app.http.edge import new_request_id
from app.http.responses import encode
from app.settings import Settings

log = logging.getLogger("pivotal.http")
# after an error answer, what the client still sends is read and dropped for a while before
# closing (as nginx's lingering close): closing with unread data sends a reset, which can
# destroy the answer before the client reads it. Dropping costs far less per byte than any
# request does, so only the time is bounded.
LINGER_SECONDS = 2.0


@dataclass(frozen=True)
class HeadLimits:
    fields: int = 100
    line_bytes: int = 8 * 1024
    total_bytes: int = 32 * 1024
    timeout: float = 10.0

    @classmethod
    def from_settings(cls, settings: Settings) -> HeadLimits:
        return cls(settings.max_header_count, settings.max_header_line_bytes,
                   settings.max_header_bytes, settings.header_timeout_seconds)


class BoundedHttpToolsProtocol(HttpToolsProtocol):
    """uvicorn's HttpToolsProtocol with the head limits of `config.head_limits`."""

    def __init__(self, config: Config, server_state: ServerState, app_state: dict[str, Any],
                 _loop: asyncio.AbstractEventLoop | None = None) -> None:
        super().__init__(config, server_state, app_state, _loop)
        self.limits: HeadLimits = getattr(config, "head_limits", None) or HeadLimits()
        self.clock = _clock(server_state, self.limits.timeout)
        # when the head being awaited began; None while none is (a request in flight, or an
        # idle keep-alive connection)
        self.head_since: float | None = None
        self.head_read = 0  # bytes read while the head was incomplete
        self.head_size = 0  # bytes of the header names and values parsed so far
        self.answered = False  # with an error: what follows is dropped

    def connection_made(self, transport: asyncio.Transport) -> None:  # type: ignore[override]
        super().connection_made(transport)
        self.head_since = time.monotonic()
        self.clock.watch()

    def data_received(self, data: bytes) -> None:
        if self.answered:
            return
        self._unset_keepalive_if_required()
        if self.head_since is not None:
            self.head_read += len(data)
        try:
            self.parser.feed_data(data)
        except httptools.HttpParserUpgrade:
            if self._should_upgrade():
                self.handle_websocket_upgrade()
            else:
                self._unsupported_upgrade_warning()
            return
        except httptools.HttpParserError as exc:
            self.answer_error(_parser_error(exc))
            return
        if self.head_since is not None and self.head_read > self.limits.total_bytes:
            self.answer_error(HeaderFieldsTooLarge(
                f"The request's headers are larger than {self.limits.total_bytes} bytes"))

    # parser callbacks: what they raise reaches data_received as an HttpParserCallbackError

    def on_message_begin(self) -> None:
        super().on_message_begin()
        self.head_size = 0
        if self.head_since is None:
            self.head_since = time.monotonic()

    def on_url(self, url: bytes) -> None:
        self.url += url
        if len(self.url) > self.limits.line_bytes:
            raise UriTooLong(f"The request URL is longer than {self.limits.line_bytes} bytes")

    def on_header(self, name: bytes, value: bytes) -> None:
        # uvicorn's on_header (not called through super(): this runs for every header), and
        # the bytes the head's limits are checked against once it is complete
        self.head_size += len(name) + len(value)
        name = name.lower()
        if name == b"expect" and value.lower() == b"100-continue":
            self.expect_100_continue = True
        self.headers.append((name, value))

    def on_headers_complete(self) -> None:
        self._check_head()
        self.head_since = None
        self.head_read = 0
        super().on_headers_complete()

    def _check_head(self) -> None:
        limits, headers = self.limits, self.headers
        if len(headers) > limits.fields:
            raise HeaderFieldsTooLarge(f"The request has more than {limits.fields} header fields")
        size = self.head_size + 4 * len(headers)  # each line's ": " and CRLF
        if size > limits.line_bytes and any(
            len(name) + len(value) + 4 > limits.line_bytes for name, value in headers
        ):
            raise HeaderFieldsTooLarge(
                f"A request header line is longer than {limits.line_bytes} bytes")
        if size + len(self.url) > limits.total_bytes:
            raise HeaderFieldsTooLarge(
                f"The request's headers are larger than {limits.total_bytes} bytes")

    def answer_error(self, error: ApiError) -> None:
        """Answer `error` in the API's shape and close the connection (lingering: see
        LINGER_SECONDS), where the connection is not in the middle of another answer."""
        self.head_since = None
        self.answered = True
        cycle = self.cycle
        if cycle is not None and not cycle.response_complete:
            if not cycle.more_body:
                # a pipelined request is at fault while the one before it is being answered:
                # that answer goes out and is the last
                cycle.keep_alive = False
                self.flow.pause_reading()
                return
            # the body of the request in flight is at fault: the app sees a disconnect, and
            # the client this error unless the app's answer has begun
            cycle.disconnected = True
            cycle.message_event.set()
            if cycle.response_started:
                self.transport.close()
                return
        request_id = new_request_id()
        body = encode(error.body())
        headers = [*self.server_state.default_headers, (b"content-type", b"application/json"),
                   (b"content-length", str(len(body)).encode()),
                   (b"request-id", request_id.encode()), (b"connection", b"close")]
        self.transport.write(b"".join([
            STATUS_LINE[error.status], *(b"%s: %s\r\n" % header for header in headers), b"\r\n",
            body]))
        log_request({"request_id": request_id, "response_status": error.status})
        if self.transport.can_write_eof():
            self.transport.write_eof()
        self.loop.call_later(LINGER_SECONDS, self.transport.close)

    def head_overdue(self) -> None:
        """The head took too long: close, unless an earlier answer is still being written."""
        if self.cycle is not None and not self.cycle.response_complete:
            return
        self.head_since = None
        client = f"{self.client[0]}:{self.client[1]}" if self.client else None
        log.info("closed a connection whose request head took over %s s", self.limits.timeout,
                 extra={"client": client})
        self.transport.close()


def _parser_error(exc: httptools.HttpParserError) -> ApiError:
    # a callback's exception reaches here as the context of httptools' HttpParserCallbackError
    if isinstance(exc.__context__, ApiError):
        return exc.__context__
    if isinstance(exc, httptools.HttpParserCallbackError):  # one of uvicorn's own callbacks
        log.info("malformed request: %r", exc.__context__)
        return MalformedRequest("Malformed HTTP request")
    return MalformedRequest(f"Malformed HTTP request: {exc}")


class _HeadClock:
    """Closes a server's connections whose head is overdue, looking every tenth of the
    timeout (at most every second) while there are connections."""

    def __init__(self, connections: set[Any], timeout: float) -> None:
        self.connections = connections
        self.timeout = timeout
        self.timer = LoopTimer(min(timeout / 10, 1.0), self._check)

    def watch(self) -> None:
        self.timer.arm()

    def _check(self) -> None:
        overdue = time.monotonic() - self.timeout
        for connection in list(self.connections):
            since = getattr(connection, "head_since", None)
            if since is not None and since <= overdue:
                connection.head_overdue()
        if self.connections:
            self.timer.arm()


_clocks: weakref.WeakKeyDictionary[ServerState, _HeadClock] = weakref.WeakKeyDictionary()


def _clock(server_state: ServerState, timeout: float) -> _HeadClock:
    """The one clock of a server (of its ServerState, which every connection shares)."""
    clock = _clocks.get(server_state)
    if clock is None:
        clock = _clocks[server_state] = _HeadClock(server_state.connections, timeout)
    return clock
