"""The request head against a real `pivotal serve`: bounded in size and time, what the HTTP
parser refuses answered in the error shape, and HEAD wherever GET is."""

from __future__ import annotations

import asyncio
import json
import select
import socket
import tempfile
import time
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from dataclasses import dataclass
from pathlib import Path

import httpx
import pytest

from app.settings import Settings, SettingsError
from tests.apiserver import ApiServer, start_api, wait_until_serving

HEALTH = b"GET /api/v1/health HTTP/1.1\r\nHost: x\r\n"


@dataclass
class Served:
    port: int
    server: ApiServer

    @property
    def lines(self) -> list[str]:
        """What the server has written so far."""
        return self.server.text().splitlines()

    async def logged(self, request_id: str) -> dict:
        """The server's log line for `request_id` (request lines are written in batches)."""
        for _ in range(100):
            for line in self.lines:
                if request_id in line:
                    return json.loads(line)
            await asyncio.sleep(0.05)
        raise AssertionError(f"no log line for {request_id}")


@asynccontextmanager
async def serving(database_url: str, redis_url: str, **settings: str) -> AsyncIterator[Served]:
    with tempfile.TemporaryDirectory() as folder:
        server = start_api(database_url, redis_url, Path(folder) / "serve.log", **settings)
        try:
            await wait_until_serving(server)
            yield Served(server.port, server)
        finally:
            server.process.terminate()
            server.process.wait(30)


@pytest.fixture(scope="module")
async def api(database_url, servers) -> AsyncIterator[Served]:
    async with serving(database_url, servers.redis_url) as served:
        yield served


def _exchange(port: int, request: bytes) -> bytes:
    """Send `request` (as far as the server reads it) and read until the server closes."""
    with socket.create_connection(("127.0.0.1", port), timeout=60) as sock:
        try:
            sock.sendall(request)
        except (BrokenPipeError, ConnectionResetError):
            pass  # closed before reading everything: its answer can still be read
        received = b""
        try:
            while chunk := sock.recv(65536):
                received += chunk
        except ConnectionResetError:
            pass
        return received


async def exchange(port: int, request: bytes) -> bytes:
    return await asyncio.to_thread(_exchange, port, request)


def parse(raw: bytes) -> tuple[int, dict[str, str], bytes]:
    head, _, body = raw.partition(b"\r\n\r\n")
    status_line, *lines = head.decode("latin-1").split("\r\n")
    headers = {}
    for line in lines:
        name, _, value = line.partition(":")
        headers[name.strip().lower()] = value.strip()
    return int(status_line.split()[1]), headers, body


def assert_raw_error(raw: bytes, status: int, code: str) -> dict:
    """One complete answer in the error shape, with a Request-Id, closing the connection."""
    got, headers, body = parse(raw)
    assert got == status, raw[:300]
    assert headers["content-type"] == "application/json"
    assert headers["request-id"].startswith("req_")
    assert headers["connection"] == "close"
    assert int(headers["content-length"]) == len(body)
    error = json.loads(body)["error"]
    assert error["code"] == code and error["type"] == "invalid_request_error"
    assert error["message"]
    return error


async def test_a_64_mib_header_is_431_in_the_error_shape_and_logged(api):
    raw = await exchange(api.port, HEALTH + b"X-Big: " + b"a" * (64 << 20) + b"\r\n\r\n")
    assert_raw_error(raw, 431, "request_header_fields_too_large")
    line = await api.logged(parse(raw)[1]["request-id"])
    assert line["message"] == "request" and line["status"] == 431


@pytest.mark.parametrize(
    ("headers", "says"),
    [
        ([b"X-%d: 1" % i for i in range(100)], "more than 100 header fields"),
        ([b"X-Long: " + b"a" * 8200], "longer than 8192 bytes"),
        ([b"X-%d: " % i + b"a" * 7000 for i in range(5)], "larger than 32768 bytes"),
    ],
    ids=["101 fields", "a line over 8 KiB", "over 32 KiB in all"],
)
async def test_headers_past_a_limit_are_431(api, headers, says):
    raw = await exchange(api.port, HEALTH + b"".join(h + b"\r\n" for h in headers) + b"\r\n")
    assert says in assert_raw_error(raw, 431, "request_header_fields_too_large")["message"]


async def test_headers_at_the_limits_are_served(api):
    fields = [b"X-%02d: 1" % i for i in range(97)]  # with Host, Connection and X-Line: 100
    line = b"X-Line: " + b"a" * (8192 - len(b"X-Line: \r\n"))  # 8192 bytes with its CRLF
    request = HEALTH + b"Connection: close\r\n" + b"".join(f + b"\r\n" for f in [*fields, line])
    status, headers, _ = parse(await exchange(api.port, request + b"\r\n"))
    assert status == 200 and headers["request-id"].startswith("req_")


async def test_pipelined_requests_over_the_head_size_in_all_are_each_served(api):
    requests = [HEALTH + b"X-Padding: " + b"p" * 80 + b"\r\n\r\n"] * 299
    requests.append(HEALTH + b"Connection: close\r\n\r\n")
    assert len(b"".join(requests)) > 32 * 1024  # sent at once, each head on its own is small
    raw = await exchange(api.port, b"".join(requests))
    assert raw.count(b"HTTP/1.1 ") == raw.count(b"HTTP/1.1 200 OK\r\n") == 300


@pytest.mark.parametrize("size", [8200, 64 * 1024])
async def test_a_url_over_8_kib_is_414(api, size):
    raw = await exchange(api.port, b"GET /api/v1/health?q=" + b"a" * size + b" HTTP/1.1\r\nHost: x\r\n\r\n")
    assert_raw_error(raw, 414, "uri_too_long")


@pytest.mark.parametrize(
    "request_bytes",
    [
        HEALTH + b"Content-Length: abc\r\n\r\n",
        (b"POST /api/v1/customers HTTP/1.1\r\nHost: x\r\nContent-Length: 5\r\n"
         b"Transfer-Encoding: chunked\r\n\r\n0\r\n\r\n"),
        HEALTH + b"X-Folded: a\r\n  b\r\n\r\n",
        b"FROB /api/v1/health HTTP/1.1\r\nHost: x\r\n\r\n",
        b"GET /api/v1/he\xffalth HTTP/1.1\r\nHost: x\r\n\r\n",
        (b"POST /api/v1/customers HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\n"
         b"Transfer-Encoding: chunked\r\n\r\nzz\r\n{}\r\n0\r\n\r\n"),
    ],
    ids=["bad content-length", "content-length and transfer-encoding", "obs-fold",
         "unknown method", "raw 0xff in the path", "bad chunk size in the body"],
)
async def test_what_the_http_parser_refuses_is_400_in_the_error_shape(api, request_bytes):
    assert_raw_error(await exchange(api.port, request_bytes), 400, "malformed_request")


def _closed(sock: socket.socket) -> bool:
    if not select.select([sock], [], [], 0)[0]:
        return False
    try:
        return sock.recv(65536) == b""
    except OSError:
        return True


def _still_open_after(port: int, bound: float) -> int:
    """Open silent connections, and connections sending one header line every 0.2 s (one of
    them after a first request on it); how many are still open after `bound` seconds."""
    silent = [socket.create_connection(("127.0.0.1", port)) for _ in range(100)]
    slow = [socket.create_connection(("127.0.0.1", port)) for _ in range(10)]
    slow[0].sendall(HEALTH + b"\r\n")
    assert slow[0].recv(65536).startswith(b"HTTP/1.1 200")
    for sock in slow:
        sock.sendall(b"GET /api/v1/health HTTP/1.1\r\n")
    open_ = set(silent + slow)
    started, lines = time.monotonic(), 0
    while open_ and time.monotonic() - started < bound:
        time.sleep(0.2)
        lines += 1
        for sock in list(open_):
            if _closed(sock):
                open_.discard(sock)
            elif sock in slow:
                try:
                    sock.sendall(b"X-%d: 1\r\n" % lines)
                except OSError:
                    open_.discard(sock)
    for sock in silent + slow:
        sock.close()
    return len(open_)


async def test_connections_slow_to_send_a_head_are_closed_after_the_header_timeout(
    database_url, servers
):
    async with serving(database_url, servers.redis_url, PIVOTAL_HEADER_TIMEOUT_SECONDS="1") as api:
        assert await asyncio.to_thread(_still_open_after, api.port, 20.0) == 0
        async with httpx.AsyncClient(base_url=f"http://127.0.0.1:{api.port}/api/v1") as client:
            assert (await client.get("/health")).status_code == 200


async def test_head_answers_every_get_route_with_its_headers_and_no_body(api, workspace):
    async with httpx.AsyncClient(base_url=f"http://127.0.0.1:{api.port}/api/v1",
                                 headers=workspace.live) as client:
        created = (await client.post("/customers", json={"name": "Acme"})).json()
        for path in ("/health", "/openapi.json", "/customers", f"/customers/{created['display_id']}",
                     f"/customers/{created['id']}", "/events", "/customers/999999"):
            got = await client.get(path)
            head = await client.head(path)  # on the same keep-alive connection
            assert head.status_code == got.status_code, path
            assert head.content == b""
            assert set(head.headers) == set(got.headers)
            for name in ("content-type", "content-length"):
                assert head.headers[name] == got.headers[name]
            assert head.headers["request-id"].startswith("req_")
        redeliver = await client.head("/events/1/redeliver")  # no GET there: no HEAD either
        assert redeliver.status_code == 405 and "HEAD" not in redeliver.headers["allow"]
        put = await client.put("/customers/1", json={})
        assert {"GET", "HEAD"} <= set(put.headers["allow"].split(", "))


def test_head_limits_are_configured_from_the_environment():
    env = {"DATABASE_URL": "postgresql://db", "REDIS_URL": "redis://r"}
    defaults = Settings.from_env(env)
    assert (defaults.max_header_count, defaults.max_header_line_bytes, defaults.max_header_bytes,
            defaults.header_timeout_seconds) == (100, 8192, 32768, 10.0)
    configured = Settings.from_env({
        **env, "PIVOTAL_MAX_HEADER_COUNT": "50", "PIVOTAL_MAX_HEADER_LINE_BYTES": "4096",
        "PIVOTAL_MAX_HEADER_BYTES": "16384", "PIVOTAL_HEADER_TIMEOUT_SECONDS": "2.5"})
    assert (configured.max_header_count, configured.max_header_line_bytes,
            configured.max_header_bytes, configured.header_timeout_seconds) == (50, 4096, 16384, 2.5)
    with pytest.raises(SettingsError):
        Settings.from_env({**env, "PIVOTAL_HEADER_TIMEOUT_SECONDS": "0"})
