"""Webhook delivery end to end: a real worker process, a real receiver on loopback, real
PostgreSQL and Redis. Nothing owed is lost when Redis forgets or a worker dies."""

from __future__ import annotations

import asyncio
import os
import signal
import subprocess
import sys
import time
from collections import Counter
from collections.abc import AsyncIterator, Callable
from dataclasses import dataclass, field
from urllib.parse import urlsplit, urlunsplit

import asyncpg
import pytest
import redis.asyncio as aioredis
from litestar.testing import AsyncTestClient
from standardwebhooks.webhooks import Webhook

from app.core.db import init_connection
from app.main import create_app
from tests.conftest import Workspace, make_settings, new_workspace, service_env
from tests.receiver import Receiver

FAST_RETRIES = "0.2,0.4,0.6"
_redis_db = iter(range(15, 0, -1))


def redis_database(url: str, index: int) -> str:
    return urlunsplit(urlsplit(url)._replace(path=f"/{index}"))


@dataclass
class Stack:
    client: AsyncTestClient
    workspace: Workspace
    pool: asyncpg.Pool
    redis: aioredis.Redis
    env: dict[str, str]
    workers: list[subprocess.Popen] = field(default_factory=list)
    receivers: list[Receiver] = field(default_factory=list)

    def start_worker(self, **env: str) -> subprocess.Popen:
        # PIVOTAL_TEST_WORKER_LOG=path keeps the workers' output for a failing run
        log_path = os.environ.get("PIVOTAL_TEST_WORKER_LOG")
        output = open(log_path, "a") if log_path else subprocess.DEVNULL  # noqa: SIM115
        process = subprocess.Popen(
            [sys.executable, "-m", "app.ops.cli", "worker"], env={**self.env, **env},
            stdout=output, stderr=output,
        )
        self.workers.append(process)
        return process

    def receiver(self, answer=None) -> Receiver:
        receiver = Receiver(answer) if answer else Receiver()
        self.receivers.append(receiver.start())
        return receiver

    async def endpoint(self, url: str, events: list[str] | None = None) -> dict:
        response = await self.client.post(
            "/webhook_endpoints", json={"url": url, "enabled_events": events or ["*"]},
            headers=self.workspace.live,
        )
        assert response.status_code == 201, response.text
        return response.json()

    async def customers(self, count: int) -> list[dict]:
        created = []
        for i in range(count):
            response = await self.client.post(
                "/customers", json={"name": f"c{i}"}, headers=self.workspace.live
            )
            created.append(response.json())
        return created

    async def wait_until_listening(self, workers: int = 1) -> None:
        """Until `workers` workers hold their LISTEN sessions: from then on a commit wakes one."""
        for _ in range(1200):
            listening = await self.pool.fetchval(
                "select count(*) from pg_stat_activity where datname = current_database()"
                " and query ilike 'listen%pivotal_deliveries%'")
            if listening >= workers:
                return
            await asyncio.sleep(0.05)
        raise AssertionError("the worker never listened")

    async def event_ids(self, type_filter: str = "customer.created") -> set[str]:
        rows = await self.pool.fetch("select id from events where type = $1", type_filter)
        return {row["id"] for row in rows}


@pytest.fixture
async def stack(databases, servers) -> AsyncIterator[Stack]:
    database_url = await databases.clone()
    redis_url = redis_database(servers.redis_url, next(_redis_db))
    redis = aioredis.Redis.from_url(redis_url)
    await redis.flushdb()
    pool = await asyncpg.create_pool(database_url, min_size=1, max_size=5, init=init_connection)
    env = service_env(
        database_url, redis_url, PIVOTAL_ENV="test",
        PIVOTAL_WEBHOOK_RETRY_SCHEDULE=FAST_RETRIES, PIVOTAL_WEBHOOK_TIMEOUT="1",
    )
    app = create_app(make_settings(database_url, redis_url))
    async with AsyncTestClient(app=app, base_url="http://testserver/api/v1") as client:
        stack = Stack(client, await new_workspace(pool), pool, redis, env)
        try:
            yield stack
        finally:
            for process in stack.workers:
                process.kill()
                process.wait()
            for receiver in stack.receivers:
                receiver.stop()
            await redis.flushdb()
            await redis.aclose()
            await pool.close()


async def wait_until(predicate: Callable[[], bool], timeout: float, what: str) -> float:
    """Seconds it took for `predicate` to hold; fails after `timeout`."""
    started = time.monotonic()
    while not predicate():
        if time.monotonic() - started > timeout:
            raise AssertionError(f"timed out after {timeout}s waiting for {what}")
        await asyncio.sleep(0.02)
    return time.monotonic() - started


def failing(times: int, status: int = 500, headers: dict | None = None):
    def answer(count: int):
        if count < times:
            return status, headers or {}, b"not yet", 0.0
        return 200, {}, b"ok", 0.0

    return answer


async def test_created_customer_reaches_the_receiver_signed(stack):
    receiver = stack.receiver()
    endpoint = await stack.endpoint(receiver.url)
    stack.start_worker()
    await stack.wait_until_listening()
    customer = (await stack.customers(1))[0]
    elapsed = await wait_until(lambda: receiver.received, 5, "the delivery")
    assert elapsed < 1.0, f"delivery took {elapsed:.2f}s"
    received = receiver.received[0]
    event = Webhook(endpoint["secret"]).verify(received.body, received.headers)
    assert event["type"] == "customer.created"
    assert event["data"]["object"] == customer
    assert received.headers["webhook-id"] == event["id"]


async def test_endpoint_filtered_to_onboardings_receives_no_customer_events(stack):
    onboardings_only = stack.receiver()
    everything = stack.receiver()
    await stack.endpoint(onboardings_only.url, ["onboarding.*"])
    await stack.endpoint(everything.url, ["*"])
    stack.start_worker()
    customer = (await stack.customers(1))[0]
    await stack.client.post(
        "/onboardings", json={"customer": customer["id"], "name": "Go"},
        headers=stack.workspace.live,
    )
    await wait_until(lambda: len(everything.received) == 2, 10, "both events at the catch-all")
    await wait_until(lambda: onboardings_only.received, 30, "the onboarding event")
    await asyncio.sleep(0.5)
    assert [r.event["type"] for r in onboardings_only.received] == ["onboarding.created"]


async def test_failing_receiver_gets_the_event_once_it_recovers(stack):
    receiver = stack.receiver(failing(2))
    endpoint = await stack.endpoint(receiver.url)
    stack.start_worker()
    await stack.customers(1)
    await wait_until(lambda: len(receiver.received) == 3, 10, "three attempts")
    deliveries = await _deliveries(stack, endpoint)
    assert len(deliveries) == 1
    delivery = deliveries[0]
    assert delivery["status"] == "succeeded"
    assert delivery["attempt_count"] == 3
    assert [a["status_code"] for a in delivery["attempts"]] == [500, 500, 200]
    assert delivery["attempts"][0]["response_body"] == "not yet"
    assert delivery["attempts"][0]["error"] == "HTTP 500"
    assert all(a["latency_ms"] >= 0 for a in delivery["attempts"])


async def _deliveries(stack, endpoint) -> list[dict]:
    async def settled() -> list[dict]:
        response = await stack.client.get(
            f"/webhook_endpoints/{endpoint['id']}/deliveries", headers=stack.workspace.live
        )
        return response.json()["data"]

    for _ in range(100):
        data = await settled()
        if data and all(d["status"] != "pending" for d in data):
            return data
        await asyncio.sleep(0.05)
    return await settled()


async def test_delivery_fails_after_the_last_scheduled_attempt(stack):
    receiver = stack.receiver(failing(100, status=503))
    endpoint = await stack.endpoint(receiver.url)
    stack.start_worker()
    await stack.customers(1)
    await wait_until(lambda: len(receiver.received) == 4, 10, "four attempts")
    deliveries = await _deliveries(stack, endpoint)
    assert deliveries[0]["status"] == "failed"
    assert deliveries[0]["attempt_count"] == 4
    await asyncio.sleep(1.0)
    assert len(receiver.received) == 4


async def test_gone_disables_the_endpoint_and_redirects_are_not_followed(stack):
    gone = stack.receiver(failing(100, status=410))
    redirecting = stack.receiver(failing(1, status=302, headers={"location": "http://127.0.0.1:9/"}))
    gone_endpoint = await stack.endpoint(gone.url)
    redirect_endpoint = await stack.endpoint(redirecting.url)
    stack.start_worker()
    await stack.customers(1)
    await wait_until(lambda: len(redirecting.received) == 2, 10, "a retry after the redirect")
    await wait_until(lambda: gone.received, 30, "the 410")
    await asyncio.sleep(0.5)
    assert len(gone.received) == 1
    endpoint = await stack.client.get(
        f"/webhook_endpoints/{gone_endpoint['id']}", headers=stack.workspace.live
    )
    assert endpoint.json()["status"] == "disabled"
    attempts = (await _deliveries(stack, redirect_endpoint))[0]["attempts"]
    assert [a["status_code"] for a in attempts] == [302, 200]


async def test_retry_after_is_honoured(stack):
    receiver = stack.receiver(failing(1, status=429, headers={"retry-after": "2"}))
    await stack.endpoint(receiver.url)
    stack.start_worker()
    await stack.customers(1)
    await wait_until(lambda: len(receiver.received) == 2, 10, "the retry")
    gap = receiver.received[1].at - receiver.received[0].at
    assert gap >= 1.9, f"retried after {gap:.2f}s despite Retry-After: 2"


async def test_owed_deliveries_survive_a_redis_flush(stack):
    receiver = stack.receiver()
    port = receiver.port
    receiver.stop()  # the receiver is down: every attempt is refused
    endpoint = await stack.endpoint(f"http://127.0.0.1:{port}/hooks")
    stack.start_worker(PIVOTAL_WEBHOOK_RETRY_SCHEDULE=",".join(["1"] * 15))
    await stack.customers(20)
    await wait_until_attempted(stack, endpoint, 20)
    await stack.redis.flushdb()
    back = Receiver(port=port).start()
    stack.receivers.append(back)
    expected = await stack.event_ids()
    await wait_until(lambda: set(back.event_ids()) >= expected, 30, "all 20 events")
    assert len(expected) == 20


async def wait_until_attempted(stack, endpoint, count: int) -> None:
    async def attempted() -> int:
        return await stack.pool.fetchval(
            "select count(*) from webhook_deliveries where endpoint_id = $1 and attempt_count > 0",
            endpoint["id"],
        )

    for _ in range(300):
        if await attempted() >= count:
            return
        await asyncio.sleep(0.05)
    raise AssertionError("deliveries were never attempted")


async def test_owed_deliveries_survive_a_killed_worker(stack):
    def slow(count: int):
        return 200, {}, b"ok", 0.5

    receiver = stack.receiver(slow)
    await stack.endpoint(receiver.url)
    first = stack.start_worker()
    await stack.customers(20)
    await wait_until(lambda: receiver.received, 10, "the first deliveries")
    first.send_signal(signal.SIGKILL)
    first.wait()
    stack.start_worker()
    expected = await stack.event_ids()
    await wait_until(lambda: set(receiver.event_ids()) >= expected, 40, "all 20 events")
    assert len(expected) == 20


async def test_two_workers_deliver_each_event_once_per_endpoint(stack):
    receivers = [stack.receiver(), stack.receiver()]
    for receiver in receivers:
        await stack.endpoint(receiver.url)
    stack.start_worker()
    stack.start_worker()
    await stack.customers(30)
    expected = await stack.event_ids()
    for receiver in receivers:
        await wait_until(lambda r=receiver: set(r.event_ids()) >= expected, 20, "all events")
    await asyncio.sleep(1.0)
    for receiver in receivers:
        counts = Counter(receiver.event_ids())
        assert set(counts) == expected
        assert max(counts.values()) == 1


async def test_redeliver_queues_a_fresh_delivery(stack):
    receiver = stack.receiver()
    endpoint = await stack.endpoint(receiver.url)
    stack.start_worker()
    await stack.customers(1)
    await wait_until(lambda: receiver.received, 30, "the first delivery")
    event_id = receiver.received[0].headers["webhook-id"]
    response = await stack.client.post(
        f"/events/{event_id}/redeliver", headers=stack.workspace.live
    )
    assert response.status_code == 200, response.text
    fresh = response.json()["data"]
    assert [d["webhook_endpoint"] for d in fresh] == [endpoint["id"]]
    assert fresh[0]["redelivery"] is True
    await wait_until(lambda: len(receiver.received) == 2, 30, "the redelivery")
    assert receiver.received[1].headers["webhook-id"] == event_id


async def test_other_workspaces_endpoints_never_receive_events(stack):
    mine, theirs = stack.receiver(), stack.receiver()
    await stack.endpoint(mine.url)
    other = await new_workspace(stack.pool)
    response = await stack.client.post(
        "/webhook_endpoints", json={"url": theirs.url, "enabled_events": ["*"]},
        headers=other.live,
    )
    assert response.status_code == 201
    test_mode = await stack.client.post(
        "/webhook_endpoints", json={"url": theirs.url, "enabled_events": ["*"]},
        headers=stack.workspace.test,
    )
    assert test_mode.status_code == 201
    stack.start_worker()
    await stack.customers(3)
    await wait_until(lambda: len(mine.received) == 3, 10, "my events")
    await asyncio.sleep(0.5)
    assert theirs.received == []


async def test_sigterm_lets_the_delivery_in_flight_finish(stack):
    def slow(count: int):
        return 200, {}, b"ok", 1.5

    receiver = stack.receiver(slow)
    endpoint = await stack.endpoint(receiver.url)
    worker = stack.start_worker(PIVOTAL_WEBHOOK_TIMEOUT="3")
    await stack.wait_until_listening()
    await stack.customers(1)
    await asyncio.sleep(0.7)  # the POST is now waiting on the slow receiver
    assert receiver.received == []
    worker.send_signal(signal.SIGTERM)
    code = await asyncio.to_thread(worker.wait, 30)
    assert code == 0
    assert len(receiver.received) == 1
    status = await stack.pool.fetchval(
        "select status from webhook_deliveries where endpoint_id = $1", endpoint["id"]
    )
    assert status == "succeeded"


async def test_prune_removes_events_past_retention_and_keeps_recent_ones(stack):
    from app.settings import Settings
    from worker import tasks

    await stack.customers(2)
    old, recent = sorted(await stack.event_ids())
    await stack.pool.execute(
        "update events set created_at = created_at - interval '31 days', "
        "fanned_out_at = clock_timestamp() where id = $1", old,
    )
    await stack.pool.execute("update events set fanned_out_at = clock_timestamp()")
    settings = Settings.from_env(stack.env)
    removed = await tasks.prune({"pool": stack.pool, "settings": settings})
    assert removed >= 1
    assert await stack.event_ids() == {recent}


def test_each_database_has_its_own_job_queue():
    from app.settings import Settings
    from worker.main import queue_name

    def settings(database: str) -> Settings:
        return Settings(database_url=f"postgresql://h:5432/{database}", redis_url="redis://r/0")

    assert queue_name(settings("pivotal")) != queue_name(settings("pivotal_staging"))
