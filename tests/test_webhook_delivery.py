"""Webhook delivery end to end: a real worker process, a real receiver on loopback, real
PostgreSQL and Redis. Nothing owed is lost when Redis forgets or a worker dies."""

from __future__ import annotations

import asyncio
import os
import secrets
import signal
import subprocess
import sys
import threading
from collections import Counter
from collections.abc import AsyncIterator
from dataclasses import dataclass, field

import asyncpg
import psutil
import pytest
import redis.asyncio as aioredis
from litestar.testing import AsyncTestClient
from saq import Queue
from saq.job import Status
from standardwebhooks.webhooks import Webhook

from app.core.db import init_connection
from app.main import create_app
from app.settings import Settings
from tests.conftest import Workspace, make_settings, new_workspace, service_env, with_database
from tests.receiver import Receiver
from tests.waiting import wait_until, wait_until_listening
from worker.main import queue_name

FAST_RETRIES = "0.2,0.4,0.6"
SETTLE_TIMEOUT = 30


async def forget_queue(redis: aioredis.Redis, name: str) -> None:
    """Delete every key SAQ keeps for queue `name`: what a flushed Redis would have lost.
    Each test database has a queue of its own, so its tests share one Redis database."""
    for pattern in (f"saq:{name}:*", f"saq:job:{name}:*"):
        keys = [key async for key in redis.scan_iter(match=pattern, count=1000)]
        if keys:
            await redis.delete(*keys)


@dataclass
class Stack:
    client: AsyncTestClient
    workspace: Workspace
    pool: asyncpg.Pool
    redis: aioredis.Redis
    queue: str
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

    async def event_ids(self, type_filter: str = "customer.created") -> set[str]:
        rows = await self.pool.fetch("select id from events where type = $1", type_filter)
        return {row["id"] for row in rows}

    async def listening(self, workers: int = 1) -> None:
        # the LISTEN sessions are on PostgreSQL itself, never behind a pooler
        await wait_until_listening(self.env.get("DATABASE_DIRECT_URL", self.env["DATABASE_URL"]),
                                   workers)

    async def fanned_out(self) -> None:
        """Until the relay has recorded the deliveries of every event committed so far."""
        pending = "select count(*) = 0 from events where fanned_out_at is null"
        await wait_until(lambda: self.pool.fetchval(pending), SETTLE_TIMEOUT, "the fan-out")

    async def deliveries(self, endpoint: dict) -> list[asyncpg.Record]:
        """The endpoint's delivery rows as stored, oldest first, with their attempts."""
        return await self.pool.fetch(
            "select d.status, d.attempt_count, d.lease_until, e.type as event_type, "
            "  d.event_id, array(select a.status_code from webhook_attempts a "
            "                    where a.delivery_id = d.id order by a.id) as attempts "
            "from webhook_deliveries d join events e on e.id = d.event_id "
            "where d.endpoint_id = $1 order by d.created_at", endpoint["id"],
        )

    async def settled(self, endpoint: dict, count: int) -> list[asyncpg.Record]:
        """The endpoint's deliveries once there are at least `count` and none is pending or
        leased: no attempt is in flight and none is owed, so the receiver gets nothing more."""
        async def done() -> bool:
            rows = await self.deliveries(endpoint)
            return len(rows) >= count and all(
                row["status"] != "pending" and row["lease_until"] is None for row in rows
            )

        await wait_until(done, SETTLE_TIMEOUT, f"{count} settled deliveries")
        return await self.deliveries(endpoint)


@pytest.fixture
async def stack(databases, servers) -> AsyncIterator[Stack]:
    database_url = await databases.clone()
    redis_url = servers.redis_url
    redis = aioredis.Redis.from_url(redis_url)
    queue = queue_name(Settings(database_url=database_url, redis_url=redis_url))
    pool = await asyncpg.create_pool(database_url, min_size=1, max_size=5, init=init_connection)
    env = service_env(
        database_url, redis_url, PIVOTAL_ENV="test",
        PIVOTAL_WEBHOOK_RETRY_SCHEDULE=FAST_RETRIES, PIVOTAL_WEBHOOK_TIMEOUT="1",
    )
    app = create_app(make_settings(database_url, redis_url))
    async with AsyncTestClient(app=app, base_url="http://testserver/api/v1") as client:
        stack = Stack(client, await new_workspace(pool), pool, redis, queue, env)
        try:
            yield stack
        finally:
            for process in stack.workers:
                process.kill()
                process.wait()
            for receiver in stack.receivers:
                receiver.stop()
            await forget_queue(redis, queue)
            await redis.aclose()
            await pool.close()


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
    await stack.listening()
    customer = (await stack.customers(1))[0]
    await wait_until(lambda: receiver.received, SETTLE_TIMEOUT, "the delivery")
    received = receiver.received[0]
    event = Webhook(endpoint["secret"]).verify(received.body, received.headers)
    assert event["type"] == "customer.created"
    assert event["data"]["object"] == customer
    assert received.headers["webhook-id"] == event["id"]


async def test_endpoint_filtered_to_onboardings_receives_no_customer_events(stack):
    onboardings_only = stack.receiver()
    everything = stack.receiver()
    onboardings_only_endpoint = await stack.endpoint(onboardings_only.url, ["onboarding.*"])
    everything_endpoint = await stack.endpoint(everything.url, ["*"])
    stack.start_worker()
    customer = (await stack.customers(1))[0]
    await stack.client.post(
        "/onboardings", json={"customer": customer["id"], "name": "Go"},
        headers=stack.workspace.live,
    )
    await stack.fanned_out()
    owed = await stack.settled(onboardings_only_endpoint, 1)
    assert [(row["event_type"], row["status"]) for row in owed] == [
        ("onboarding.created", "succeeded")
    ]
    assert [r.event["type"] for r in onboardings_only.received] == ["onboarding.created"]
    caught = await stack.settled(everything_endpoint, 2)
    assert sorted((row["event_type"], row["status"]) for row in caught) == [
        ("customer.created", "succeeded"), ("onboarding.created", "succeeded")
    ]
    assert sorted(r.event["type"] for r in everything.received) == [
        "customer.created", "onboarding.created"
    ]


async def test_failing_receiver_gets_the_event_once_it_recovers(stack):
    receiver = stack.receiver(failing(2))
    endpoint = await stack.endpoint(receiver.url)
    stack.start_worker()
    await stack.customers(1)
    await wait_until(lambda: len(receiver.received) == 3, SETTLE_TIMEOUT, "three attempts")
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

    for _ in range(SETTLE_TIMEOUT * 20):
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
    await wait_until(lambda: len(receiver.received) == 4, SETTLE_TIMEOUT, "four attempts")
    deliveries = await _deliveries(stack, endpoint)
    assert deliveries[0]["status"] == "failed"
    assert deliveries[0]["attempt_count"] == 4
    # settled as failed and not leased: nothing is in flight and nothing more is owed
    [stored] = await stack.settled(endpoint, 1)
    assert (stored["status"], stored["attempts"]) == ("failed", [503] * 4)
    assert len(receiver.received) == 4


async def test_gone_disables_the_endpoint_and_redirects_are_not_followed(stack):
    gone = stack.receiver(failing(100, status=410))
    redirecting = stack.receiver(failing(1, status=302, headers={"location": "http://127.0.0.1:9/"}))
    # customer events only: `*` would also bring the webhook_endpoint.disabled event
    gone_endpoint = await stack.endpoint(gone.url, ["customer.*"])
    redirect_endpoint = await stack.endpoint(redirecting.url, ["customer.*"])
    stack.start_worker()
    await stack.customers(1)
    await wait_until(lambda: len(redirecting.received) == 2, SETTLE_TIMEOUT,
                     "a retry after the redirect")
    # one attempt, answered 410, settled as failed: no retry is owed
    [stored] = await stack.settled(gone_endpoint, 1)
    assert (stored["status"], stored["attempts"]) == ("failed", [410])
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
    await wait_until(lambda: len(receiver.received) == 2, SETTLE_TIMEOUT, "the retry")
    gap = receiver.received[1].at - receiver.received[0].at
    assert gap >= 1.9, f"retried after {gap:.2f}s despite Retry-After: 2"

async def test_deliveries_show_a_failed_connection_as_a_category_only(stack):
    receiver = stack.receiver()
    receiver.refusing = True  # every connection is closed unanswered: each attempt fails
    endpoint = await stack.endpoint(receiver.url)
    stack.start_worker()
    await stack.customers(1)
    deliveries = await _deliveries(stack, endpoint)
    errors = {attempt["error"] for attempt in deliveries[0]["attempts"]}
    assert errors == {"connection_failed"}
    stored = await stack.pool.fetch("select distinct error from webhook_attempts")
    assert [row["error"] for row in stored] == ["connection_failed"]


async def test_owed_deliveries_survive_redis_forgetting_the_queue(stack):
    receiver = stack.receiver()
    receiver.refusing = True  # the receiver is down: every attempt fails
    endpoint = await stack.endpoint(receiver.url)
    stack.start_worker(PIVOTAL_WEBHOOK_RETRY_SCHEDULE=",".join(["1"] * 15))
    await stack.customers(20)
    await wait_until_attempted(stack, endpoint, 20)
    await forget_queue(stack.redis, stack.queue)
    receiver.refusing = False
    expected = await stack.event_ids()
    await wait_until(lambda: set(receiver.event_ids()) >= expected, 30, "all 20 events")
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


async def wait_until_leased(stack, endpoint) -> None:
    for _ in range(600):
        if await stack.pool.fetchval(
            "select count(*) from webhook_deliveries where endpoint_id = $1 "
            "and lease_until is not null", endpoint["id"],
        ):
            return
        await asyncio.sleep(0.05)
    raise AssertionError("the delivery was never claimed")


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
    endpoints = [await stack.endpoint(receiver.url) for receiver in receivers]
    stack.start_worker()
    stack.start_worker()
    await stack.customers(30)
    expected = await stack.event_ids()
    await stack.fanned_out()
    for receiver, endpoint in zip(receivers, endpoints, strict=True):
        stored = await stack.settled(endpoint, 30)
        assert sorted(row["event_id"] for row in stored) == sorted(expected)
        # one success each, the last attempt (an earlier one may have failed in transit)
        for row in stored:
            assert row["status"] == "succeeded" and row["attempts"][-1] == 200
            assert row["attempts"].count(200) == 1
        counts = Counter(receiver.event_ids())
        assert set(counts) == expected
        assert max(counts.values()) == 1


async def test_redeliver_queues_a_fresh_delivery(stack):
    receiver = stack.receiver()
    endpoint = await stack.endpoint(receiver.url)
    stack.start_worker()
    await stack.customers(1)
    await wait_until(lambda: receiver.received, SETTLE_TIMEOUT, "the first delivery")
    event_id = receiver.received[0].headers["webhook-id"]
    response = await stack.client.post(
        f"/events/{event_id}/redeliver", headers=stack.workspace.live
    )
    assert response.status_code == 200, response.text
    fresh = response.json()["data"]
    assert [d["webhook_endpoint"] for d in fresh] == [endpoint["id"]]
    assert fresh[0]["redelivery"] is True
    await wait_until(lambda: len(receiver.received) == 2, SETTLE_TIMEOUT, "the redelivery")
    assert receiver.received[1].headers["webhook-id"] == event_id


async def test_other_workspaces_endpoints_never_receive_events(stack):
    mine, theirs = stack.receiver(), stack.receiver()
    my_endpoint = await stack.endpoint(mine.url)
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
    await stack.fanned_out()
    # every event has its deliveries recorded: none was owed to the other endpoints
    assert await stack.deliveries(response.json()) == []
    assert await stack.deliveries(test_mode.json()) == []
    assert [row["status"] for row in await stack.settled(my_endpoint, 3)] == ["succeeded"] * 3
    assert len(mine.received) == 3
    assert theirs.received == []


async def blocked_on_redis(stack: Stack, worker: subprocess.Popen) -> int:
    """How many of `worker`'s Redis connections wait in a blocking command: its idle job
    slots waiting for a job. A worker that stops taking work has none."""
    try:
        ports = {c.laddr.port for c in psutil.Process(worker.pid).net_connections("tcp")}
    except psutil.NoSuchProcess:
        return 0
    clients = await stack.redis.client_list()
    return sum(1 for c in clients
               if int(c["addr"].rsplit(":", 1)[1]) in ports and "b" in c["flags"])


async def test_sigterm_lets_the_delivery_in_flight_finish(stack):
    arrived, release = threading.Event(), threading.Event()

    def held(count: int):
        arrived.set()
        release.wait(60)  # answered only once the worker is shutting down
        return 200, {}, b"ok", 0.0

    receiver = stack.receiver(held)
    endpoint = await stack.endpoint(receiver.url)
    worker = stack.start_worker(PIVOTAL_WEBHOOK_TIMEOUT="60")
    await stack.listening()
    await stack.customers(1)
    await wait_until(arrived.is_set, SETTLE_TIMEOUT, "the POST at the receiver")
    await wait_until(lambda: blocked_on_redis(stack, worker), SETTLE_TIMEOUT, "idle job slots")
    worker.send_signal(signal.SIGTERM)

    async def stopped_taking_work() -> bool:
        return await blocked_on_redis(stack, worker) == 0

    # the worker has stopped taking work, and still runs for the delivery in flight
    await wait_until(stopped_taking_work, SETTLE_TIMEOUT, "no job slot waiting")
    assert worker.poll() is None, "exited with a delivery in flight"
    release.set()
    assert await asyncio.to_thread(worker.wait, 60) == 0
    assert len(receiver.received) == 1
    [stored] = await stack.deliveries(endpoint)
    assert (stored["status"], stored["attempts"]) == ("succeeded", [200])


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


async def test_a_worker_takes_no_job_from_another_databases_queue(stack):
    # both databases' queues live in the same Redis database
    elsewhere = with_database(stack.env["DATABASE_URL"], f"elsewhere_{secrets.token_hex(4)}")
    other_queue = Queue.from_url(stack.env["REDIS_URL"], name=queue_name(
        Settings(database_url=elsewhere, redis_url=stack.env["REDIS_URL"])))
    try:
        foreign = await other_queue.enqueue("sweep")
        receiver = stack.receiver()
        await stack.endpoint(receiver.url)
        stack.start_worker()
        await stack.listening()
        await stack.customers(1)
        await wait_until(lambda: receiver.received, SETTLE_TIMEOUT, "this database's delivery")
        await foreign.refresh()
        assert foreign.status == Status.QUEUED
    finally:
        await forget_queue(stack.redis, other_queue.name)
        await other_queue.disconnect()
