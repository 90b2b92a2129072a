"""Dependency faults against a real server: PostgreSQL and Redis stopped and started again.

These tests stop servers, so they run on an embedded stack of their own (never the servers
DATABASE_URL / REDIS_URL name, which other tests share).
"""

from __future__ import annotations

import asyncio
import os
import subprocess
import sys
import time
from collections import Counter
from collections.abc import AsyncIterator, Iterator

import asyncpg
import httpx
import pytest

from app.ops.migrations import migrate
from devtools import devstack
from tests.apiserver import start_api, wait_until_serving
from tests.conftest import Workspace, new_workspace
from tests.receiver import Receiver
from tests.waiting import wait_until_listening

STACK = "faults"
pytestmark = pytest.mark.skipif(
    os.environ.get("PIVOTAL_SKIP_DEVSTACK_TESTS") == "1",
    reason="runs on its own embedded stack; covered by the embedded-services run",
)



@pytest.fixture(scope="module")
def services() -> Iterator[devstack.Services]:
    services = devstack.up(STACK)
    migrate(services.database_url)
    try:
        yield services
    finally:
        devstack.down(STACK)


@pytest.fixture
async def workspace(services) -> Workspace:
    conn_pool = await asyncpg.create_pool(services.database_url, min_size=1, max_size=2)
    try:
        return await new_workspace(conn_pool)
    finally:
        await conn_pool.close()


def start(services, *args: str, **env: str) -> subprocess.Popen:
    environment = dict(os.environ, DATABASE_URL=services.database_url,
                       REDIS_URL=services.redis_url, PIVOTAL_ENV="test", **env)
    return subprocess.Popen([sys.executable, "-m", "app.ops.cli", *args], env=environment,
                            stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)


@pytest.fixture
async def api(services, tmp_path) -> AsyncIterator[httpx.AsyncClient]:
    server = start_api(services.database_url, services.redis_url, tmp_path / "serve.log")
    try:
        base = await wait_until_serving(server, (200, 503))
        async with httpx.AsyncClient(base_url=base, timeout=10) as client:
            yield client
    finally:
        server.process.terminate()
        server.process.wait(30)


async def traffic(client: httpx.AsyncClient, auth: dict, seconds: float) -> list[httpx.Response]:
    """Reads and writes for `seconds`; every response is kept (a transport error fails)."""
    responses = []
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        responses.append(await client.get("/customers", headers=auth))
        responses.append(await client.post("/customers", json={"name": "t"}, headers=auth))
        await asyncio.sleep(0.02)
    return responses


def statuses(responses: list[httpx.Response]) -> Counter:
    return Counter(response.status_code for response in responses)


async def test_postgres_outage_answers_503_and_recovers_without_a_restart(
    services, workspace, api
):
    auth = workspace.live
    before = await traffic(api, auth, 0.5)
    assert set(statuses(before)) == {200, 201}

    await asyncio.to_thread(devstack.stop_postgres, STACK)
    during = await traffic(api, auth, 1.0)
    assert set(statuses(during)) == {503}, statuses(during)
    for response in during:
        assert response.json()["error"]["code"] == "service_unavailable"
        assert response.headers["request-id"].startswith("req_")
    assert (await api.get("/health")).json()["postgres"] == "down"

    await asyncio.to_thread(devstack.up, STACK)
    recovered = []
    for _ in range(100):
        recovered = await traffic(api, auth, 0.2)
        if set(statuses(recovered)) <= {200, 201}:
            break
    assert set(statuses(recovered)) <= {200, 201}, statuses(recovered)
    assert (await api.get("/health")).status_code == 200


async def test_redis_outage_keeps_reads_and_writes_and_deliveries_resume(
    services, workspace, api
):
    auth = workspace.live
    receiver = Receiver().start()
    worker = start(services, "worker", PIVOTAL_WEBHOOK_RETRY_SCHEDULE="1,1,1,1,1")
    try:
        response = await api.post(
            "/webhook_endpoints", json={"url": receiver.url, "enabled_events": ["*"]},
            headers=auth,
        )
        assert response.status_code == 201
        await wait_until_listening(services.database_url)

        await asyncio.to_thread(devstack.stop_redis, STACK)
        during = await traffic(api, auth, 1.0)
        assert set(statuses(during)) == {200, 201}, statuses(during)
        health = await api.get("/health")
        assert health.status_code == 503 and health.json()["redis"] == "down"
        created = {r.json()["id"] for r in during if r.status_code == 201}

        await asyncio.to_thread(devstack.up, STACK)
        deadline = time.monotonic() + 30
        while time.monotonic() < deadline:
            delivered = {r.event["data"]["object"]["id"] for r in list(receiver.received)}
            if created <= delivered:
                break
            await asyncio.sleep(0.1)
        assert created <= delivered, f"{len(created - delivered)} of {len(created)} never arrived"
    finally:
        worker.terminate()
        worker.wait(30)
        receiver.stop()
