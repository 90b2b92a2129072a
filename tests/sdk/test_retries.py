"""Retries: a lost answer, a gateway's 502, a 429 with Retry-After and an Idempotency-Key still
in use are retried, and a retried write is never applied twice."""

from __future__ import annotations

import asyncio
import time
from collections.abc import AsyncIterator

import httpx
import pivotal
import pytest

from tests.conftest import new_workspace
from tests.sdk.conftest import start_api, stop_api
from tests.sdk.proxy import FlakyProxy


class Recorder:
    """httpx event hooks: every request sent and every answer received, with the time."""

    def __init__(self) -> None:
        self.requests: list[tuple[float, httpx.Request]] = []
        self.responses: list[tuple[float, httpx.Response]] = []

    def client(self) -> httpx.Client:
        return httpx.Client(event_hooks={
            "request": [lambda r: self.requests.append((time.monotonic(), r))],
            "response": [lambda r: self.responses.append((time.monotonic(), r))],
        })

    @property
    def keys(self) -> list[str | None]:
        return [r.headers.get("idempotency-key") for _, r in self.requests]

    @property
    def statuses(self) -> list[int]:
        return [r.status_code for _, r in self.responses]


def _port(base_url: str) -> int:
    return int(base_url.split(":")[2].split("/")[0])


@pytest.fixture
def proxy(api):
    proxies = []

    def make(**lose) -> FlakyProxy:
        proxies.append(FlakyProxy(_port(api.base_url), **lose).start())
        return proxies[-1]

    yield make
    for made in proxies:
        made.stop()


def test_a_create_whose_answer_is_lost_after_commit_is_not_duplicated(api, ws, pv, proxy):
    lossy = proxy(cut=1)
    recorder = Recorder()
    with pivotal.Client(ws.live_key, base_url=lossy.url(api.base_url),
                        http_client=recorder.client()) as client:
        created = client.customers.create(name="Exactly once")
    assert lossy.lost_answers[0].startswith(b"HTTP/1.1 201")  # the server had committed
    assert len(recorder.requests) == 2
    assert recorder.keys[0] and recorder.keys[0] == recorder.keys[1]
    assert recorder.responses[0][1].headers["idempotent-replayed"] == "true"
    assert [c.id for c in pv.customers.list()] == [created.id]
    assert [e.type for e in pv.events.list()] == ["customer.created"]


def test_an_upsert_batch_whose_answer_is_lost_is_not_applied_twice(batch_api, ws, pv, proxy):
    lossy = proxy(cut=1)
    with pivotal.Client(ws.live_key, base_url=lossy.url(batch_api.base_url)) as client:
        summary = client.customers.upsert_many(
            {"external_id": f"crm-{i}", "name": f"C{i}"} for i in range(3))
    assert lossy.lost_answers[0].startswith(b"HTTP/1.1 200")
    assert (summary.created, summary.updated, summary.unchanged) == (3, 0, 0)
    assert len(list(pv.customers.list())) == 3
    assert len(list(pv.events.list())) == 3


def test_a_gateways_502_is_retried_with_the_same_key(api, ws, pv, proxy):
    gateway = proxy(bad_gateway=1)
    recorder = Recorder()
    with pivotal.Client(ws.live_key, base_url=gateway.url(api.base_url),
                        http_client=recorder.client()) as client:
        created = client.customers.create(name="Behind a gateway")
    assert recorder.statuses == [502, 201]
    assert recorder.keys[0] == recorder.keys[1]
    assert [c.id for c in pv.customers.list()] == [created.id]


def test_a_refused_connection_raises_api_connection_error_after_the_retries(ws):
    from devtools.devstack import free_port

    recorder = Recorder()
    client = pivotal.Client(ws.live_key, base_url=f"http://127.0.0.1:{free_port()}/api/v1",
                            max_retries=2, http_client=recorder.client())
    with pytest.raises(pivotal.APIConnectionError):
        client.customers.list()
    assert len(recorder.requests) == 3


def test_every_post_carries_a_fresh_idempotency_key_and_other_verbs_none(api, ws):
    recorder = Recorder()
    with api.client(ws, http_client=recorder.client()) as client:
        first = client.customers.create(name="A")
        client.customers.create(name="B")
        client.customers.update(first.id, name="A2")
        client.customers.retrieve(first.id)
        client.customers.delete(first.id)
    keys = recorder.keys
    assert keys[0] and keys[1] and keys[0] != keys[1]
    assert keys[2:] == [None, None, None]


# ---- 429 -----------------------------------------------------------------------------------

@pytest.fixture(scope="module")
async def limited_api(databases, servers) -> AsyncIterator:
    """A server that grants one request a second per key, in bursts of one."""
    served = await start_api(await databases.clone(), servers.redis_url,
                             PIVOTAL_RATE_LIMIT_PER_SECOND="1", PIVOTAL_RATE_LIMIT_BURST="1")
    yield served
    await stop_api(served)


def test_a_429_is_retried_after_its_retry_after(limited_api, limited_ws):
    recorder = Recorder()
    with limited_api.client(limited_ws, http_client=recorder.client()) as client:
        client.customers.create(name="First")
        client.customers.create(name="Second")
    assert recorder.statuses == [201, 429, 201]
    limited_at, limited = recorder.responses[1]
    retry_after = int(limited.headers["retry-after"])
    assert retry_after >= 1
    retried_at = recorder.requests[2][0]
    assert retried_at - limited_at >= retry_after
    assert recorder.keys[1] == recorder.keys[2]


def test_a_429_with_no_retries_left_raises_rate_limit_error(limited_api, limited_ws):
    with limited_api.client(limited_ws, max_retries=0) as client:
        client.customers.list()
        with pytest.raises(pivotal.RateLimitError) as raised:
            client.customers.list()
    error = raised.value
    assert (error.status, error.type, error.code) == (429, "rate_limit_error", "rate_limited")
    assert error.retry_after >= 1
    assert error.request_id.startswith("req_")


@pytest.fixture
async def limited_ws(limited_api):
    return await new_workspace(limited_api.pool)


# ---- 409 idempotency_key_in_use --------------------------------------------------------------

async def test_a_repeat_while_the_first_is_running_waits_for_its_answer(api, ws):
    customer = await asyncio.to_thread(lambda: api.client(ws).customers.create(name="Acme"))
    recorder = Recorder()
    client = api.client(ws, http_client=recorder.client())

    def create_primary():
        return client.contacts.create(customer=customer.id, email="ada@acme.com",
                                      is_primary=True, idempotency_key="hire-ada")

    # a lock on the customer's row keeps the first request in flight (a new primary contact
    # locks its customer), holding the key while the repeat arrives
    async with api.pool.acquire() as conn, conn.transaction():
        await conn.execute("select 1 from customers where id = $1 for update", customer.id)
        first = asyncio.create_task(asyncio.to_thread(create_primary))
        await asyncio.sleep(0.5)
        repeat = asyncio.create_task(asyncio.to_thread(create_primary))
        await asyncio.sleep(0.8)
    first_contact, repeated_contact = await first, await repeat
    assert first_contact == repeated_contact
    assert 409 in recorder.statuses
    conflict = next(r for _, r in recorder.responses if r.status_code == 409)
    assert conflict.json()["error"]["code"] == "idempotency_key_in_use"
    assert len(client.contacts.list(customer=customer.id).data) == 1
