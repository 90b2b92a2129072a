"""One delivery attempt against real receivers on loopback: what it records and what it logs."""

from __future__ import annotations

import logging
from collections.abc import AsyncIterator

import aiohttp
import pytest

from app.settings import Settings
from tests.receiver import Receiver
from worker.delivery import post_event


def settings(**overrides) -> Settings:
    values = {"env": "test", "webhook_timeout": 2.0, **overrides}
    return Settings(database_url="postgresql://unused", redis_url="redis://unused", **values)


@pytest.fixture
async def http() -> AsyncIterator[aiohttp.ClientSession]:
    async with aiohttp.ClientSession() as session:
        yield session


@pytest.fixture
def receivers() -> AsyncIterator[list[Receiver]]:
    started: list[Receiver] = []
    yield started
    for receiver in started:
        receiver.stop()


def answering(receivers: list[Receiver], status: int, headers: dict[str, str], delay: float = 0.0):
    receiver = Receiver(lambda count: (status, headers, b"busy", delay)).start()
    receivers.append(receiver)
    return receiver


async def attempt(http, url: str, **overrides):
    return await post_event(http, settings(**overrides), url, "whsec_dGVzdA==", "evt_1", b"{}")


# the receiver writes latin-1: these characters put the UTF-8 bytes of "²" and "①" on the wire
@pytest.mark.parametrize("value", ["²".encode().decode("latin-1"), "①".encode().decode("latin-1")])
async def test_a_retry_after_of_non_ascii_digits_is_ignored(http, receivers, value):
    receiver = answering(receivers, 429, {"retry-after": value})
    outcome = await attempt(http, receiver.url)
    assert (outcome.status_code, outcome.retry_after) == (429, None)


async def test_a_retry_after_in_seconds_is_read(http, receivers):
    receiver = answering(receivers, 429, {"retry-after": "7"})
    assert (await attempt(http, receiver.url)).retry_after == 7.0


def closed_port(receivers: list[Receiver]) -> int:
    receiver = Receiver().start()
    receiver.stop()
    return receiver.port


async def test_a_refused_connection_is_recorded_as_connection_failed(http, receivers, caplog):
    port = closed_port(receivers)
    with caplog.at_level(logging.WARNING, logger="pivotal.webhooks"):
        outcome = await attempt(http, f"http://127.0.0.1:{port}/hooks")
    assert (outcome.status_code, outcome.error) == (None, "connection_failed")
    assert "Connect call failed" in caplog.text  # the detail stays in the server's log


async def test_a_failed_tls_handshake_is_recorded_as_tls_error(http, receivers, caplog):
    plain = answering(receivers, 200, {})
    with caplog.at_level(logging.WARNING, logger="pivotal.webhooks"):
        outcome = await attempt(http, f"https://127.0.0.1:{plain.port}/hooks")
    assert (outcome.status_code, outcome.error) == (None, "tls_error")
    assert "SSL" in caplog.text
    assert plain.received == []


async def test_a_receiver_slower_than_the_timeout_is_recorded_as_timeout(http, receivers):
    slow = answering(receivers, 200, {}, delay=3.0)
    outcome = await attempt(http, slow.url, webhook_timeout=0.3)
    assert (outcome.status_code, outcome.error) == (None, "timeout")


async def test_a_url_refused_at_delivery_is_recorded_without_the_reason(http, caplog):
    # production refuses loopback before connecting: nothing is sent anywhere
    with caplog.at_level(logging.WARNING, logger="pivotal.webhooks"):
        outcome = await attempt(http, "https://127.0.0.1/hooks", env="production")
    assert (outcome.status_code, outcome.error) == (None, "url_refused")
    assert "public addresses only" in caplog.text


async def test_a_non_2xx_answer_is_recorded_with_its_status(http, receivers):
    receiver = answering(receivers, 503, {})
    outcome = await attempt(http, receiver.url)
    assert (outcome.status_code, outcome.error, outcome.response_body) == (503, "HTTP 503", "busy")
