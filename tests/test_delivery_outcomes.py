"""One delivery attempt against real receivers on loopback: what it records and what it logs."""

from __future__ import annotations

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
