"""One JSON log line per request: request id, key id (never the key), route, status, latency."""

from __future__ import annotations

import json
import logging
import sys

import pytest

from app.logs import JsonFormatter


@pytest.fixture
def request_lines(caplog):
    """The request records logged while a test runs, as the JSON lines `pivotal serve` prints."""
    caplog.set_level(logging.INFO, logger="pivotal.http")
    formatter = JsonFormatter()

    def lines() -> list[dict]:
        records = [r for r in caplog.records if r.name == "pivotal.http" and r.msg == "request"]
        return [json.loads(formatter.format(record)) for record in records]

    return lines


async def test_a_request_is_one_json_line_with_its_key_id(client, workspace, request_lines):
    response = await client.get("/customers/7?expand=x", headers=workspace.live)
    [line] = request_lines()
    assert line["request_id"] == response.headers["request-id"]
    assert line["key_id"] == workspace.live_key_id
    assert line["workspace_id"] == workspace.id
    assert (line["method"], line["path"], line["status"]) == ("GET", "/api/v1/customers/7", 404)
    assert line["route"] == "/api/v1/customers/{reference}"
    assert isinstance(line["latency_ms"], float) and 0 <= line["latency_ms"] < 5000
    assert (line["level"], line["logger"], line["message"]) == ("info", "pivotal.http", "request")
    assert line["time"].endswith("Z")


async def test_the_raw_key_never_reaches_the_log(client, workspace, request_lines, caplog):
    await client.post("/customers", json={"name": "Acme"}, headers=workspace.test)
    await client.get("/customers", headers={"Authorization": f"Bearer {workspace.live_key}x"})
    assert len(request_lines()) == 2
    formatter = JsonFormatter()
    for record in caplog.records:
        text = formatter.format(record)
        assert workspace.test_key not in text and workspace.live_key not in text


async def test_unauthenticated_and_unrouted_requests_are_logged_too(client, request_lines):
    await client.get("/customers")
    await client.get("/no-such-route")
    refused, unrouted = request_lines()
    assert (refused["status"], refused["key_id"]) == (401, None)
    assert refused["route"] == "/api/v1/customers"
    assert (unrouted["status"], unrouted["route"]) == (404, None)


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
