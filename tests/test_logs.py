"""One JSON log line per request: request id, key id (never the key), route, status, latency."""

from __future__ import annotations

import asyncio
import json
import logging
import re
import sys
from datetime import UTC, datetime

import pytest

from app.core.logs import FLUSH_SECONDS, JsonFormatter, flush_request_lines


@pytest.fixture
def stdout_text(capsys, caplog):
    """Everything written to stdout while a test runs (the request lines go there directly)."""
    caplog.set_level(logging.INFO, logger="pivotal.http")
    written: list[str] = []

    def text() -> str:
        flush_request_lines()
        written.append(capsys.readouterr().out)
        return "".join(written)

    return text


@pytest.fixture
def request_lines(stdout_text):
    """The request lines printed while a test runs, parsed."""

    def lines() -> list[dict]:
        parsed = [json.loads(line) for line in stdout_text().splitlines() if line.startswith("{")]
        return [line for line in parsed if line.get("message") == "request"]

    return lines


async def test_a_request_is_one_json_line_with_its_key_id(client, workspace, request_lines):
    response = await client.get("/customers/7?expand=primary_contact", headers=workspace.live)
    [line] = request_lines()
    assert line["request_id"] == response.headers["request-id"]
    assert line["key_id"] == workspace.live_key_id
    assert line["workspace_id"] == workspace.id
    assert (line["method"], line["path"], line["status"]) == ("GET", "/api/v1/customers/7", 404)
    assert line["route"] == "/api/v1/customers/{reference}"
    assert isinstance(line["latency_ms"], float) and 0 <= line["latency_ms"] < 5000
    assert (line["level"], line["logger"], line["message"]) == ("info", "pivotal.http", "request")
    assert list(line)[:4] == ["time", "level", "logger", "message"]
    moment = datetime.strptime(line["time"], "%Y-%m-%dT%H:%M:%S.%fZ").replace(tzinfo=UTC)
    assert re.fullmatch(r"[\d-]{10}T[\d:]{8}\.\d{3}Z", line["time"])
    assert abs((datetime.now(UTC) - moment).total_seconds()) < 60


async def test_the_raw_key_never_reaches_the_log(
    client, workspace, request_lines, stdout_text, caplog
):
    await client.post("/customers", json={"name": "Acme"}, headers=workspace.test)
    await client.get("/customers", headers={"Authorization": f"Bearer {workspace.live_key}x"})
    assert len(request_lines()) == 2
    formatter = JsonFormatter()
    for text in [stdout_text(), *(formatter.format(record) for record in caplog.records)]:
        assert workspace.test_key not in text and workspace.live_key not in text


async def test_unauthenticated_and_unrouted_requests_are_logged_too(client, request_lines):
    await client.get("/customers")
    await client.get("/no-such-route")
    refused, unrouted = request_lines()
    assert (refused["status"], refused["key_id"]) == (401, None)
    assert refused["route"] == "/api/v1/customers"
    assert (unrouted["status"], unrouted["route"]) == (404, None)


async def test_request_lines_are_off_when_the_level_is_above_info(
    client, workspace, stdout_text, caplog
):
    caplog.set_level(logging.WARNING, logger="pivotal.http")
    assert (await client.get("/customers", headers=workspace.live)).status_code == 200
    assert '"message":"request"' not in stdout_text()
    caplog.set_level(logging.INFO, logger="pivotal.http")
    await client.get("/customers", headers=workspace.live)
    assert '"message":"request"' in stdout_text()


def test_the_formatter_writes_extra_fields_and_exceptions_as_json():
    record = logging.LogRecord("pivotal.x", logging.ERROR, __file__, 1, "boom %s", ("now",), None)
    record.key_id = "k1"
    try:
        raise ValueError("bad")
    except ValueError:
        record.exc_info = sys.exc_info()
    line = json.loads(JsonFormatter().format(record))
    assert (line["message"], line["key_id"], line["level"]) == ("boom now", "k1", "error")
    assert "ValueError: bad" in line["exception"]


async def test_request_lines_reach_stdout_without_being_flushed(client, workspace, capsys, caplog):
    caplog.set_level(logging.INFO, logger="pivotal.http")
    response = await client.get("/customers", headers=workspace.live)
    # written by the batch timer (at most FLUSH_SECONDS late), not by anything the test does
    for _ in range(50):
        await asyncio.sleep(FLUSH_SECONDS)
        written = capsys.readouterr().out
        if response.headers["request-id"] in written:
            break
    else:
        raise AssertionError("the request line was never written")
