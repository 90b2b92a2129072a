"""Two API nodes and two workers (separate processes) on one PostgreSQL and one Redis behave as
one service: one rate limit per key, idempotency across nodes, revocation everywhere within the
auth cache time, and each delivery made once per endpoint even when a worker is killed."""

from __future__ import annotations

import asyncio
import signal
import subprocess
import sys
from collections import Counter
from collections.abc import AsyncIterator
from dataclasses import dataclass
from pathlib import Path

import asyncpg
import httpx
import pytest

from app.core.db import init_connection
from app.workspaces.repo import revoke_key
from tests.apiserver import start_api, wait_until_serving
from tests.conftest import new_workspace, service_env
from tests.receiver import Receiver

AUTH_CACHE_SECONDS = 1.0
# a bucket small enough to empty in a test; one token back every 10 seconds
RATE, BURST = 0.1, 12
NODE_ENV = {
    "PIVOTAL_ENV": "test", "PIVOTAL_AUTH_CACHE_SECONDS": str(AUTH_CACHE_SECONDS),
    "PIVOTAL_RATE_LIMIT_PER_SECOND": str(RATE), "PIVOTAL_RATE_LIMIT_BURST": str(BURST),
    # a killed worker's claims lapse after 2 * timeout + 5 seconds
    "PIVOTAL_WEBHOOK_TIMEOUT": "1", "PIVOTAL_WEBHOOK_RETRY_SCHEDULE": "0.2,0.4,0.6",
}


@dataclass
class Cluster:
    apis: list[httpx.AsyncClient]
    workers: list[subprocess.Popen]
    pool: asyncpg.Pool
    logs: Path

    def log_tail(self) -> str:
        return "\n".join(path.read_text()[-2000:] for path in sorted(self.logs.iterdir()))


def _start_worker(env: dict[str, str], log: Path) -> subprocess.Popen:
    with log.open("w") as output:
        return subprocess.Popen([sys.executable, "-m", "app.ops.cli", "worker"], env=env,
                                stdout=output, stderr=subprocess.STDOUT)


@pytest.fixture(scope="module")
async def cluster(databases, servers, tmp_path_factory) -> AsyncIterator[Cluster]:
    database_url = await databases.clone()
    logs = tmp_path_factory.mktemp("nodes")
    servers_started, workers, apis = [], [], []
    pool = await asyncpg.create_pool(database_url, min_size=1, max_size=4, init=init_connection)
    try:
        servers_started = [start_api(database_url, servers.redis_url, logs / f"api{n}.log",
                                     **NODE_ENV) for n in range(2)]
        env = service_env(database_url, servers.redis_url, **NODE_ENV)
        workers = [_start_worker(env, logs / f"worker{n}.log") for n in range(2)]
        for server in servers_started:
            base = await wait_until_serving(server)
            apis.append(httpx.AsyncClient(base_url=base, timeout=30))
        yield Cluster(apis, workers, pool, logs)
    finally:
        for server in servers_started:
            server.stop()
        for worker in workers:
            worker.kill()
            worker.wait()
        for api in apis:
            await api.aclose()
        await pool.close()


async def test_one_rate_limit_per_key_across_nodes(cluster):
    workspace = await new_workspace(cluster.pool)
    statuses: list[Counter] = [Counter(), Counter()]
    started = asyncio.get_running_loop().time()
    for i in range(3 * BURST):
        node = i % 2
        response = await cluster.apis[node].get("/customers", headers=workspace.live)
        statuses[node][response.status_code] += 1
    elapsed = asyncio.get_running_loop().time() - started
    allowed = statuses[0][200] + statuses[1][200]
    # the burst, and at most what refilled while the requests ran: never a bucket per node
    assert BURST <= allowed <= BURST + int(elapsed * RATE), statuses
    assert all(set(counts) == {200, 429} for counts in statuses), statuses


async def test_an_idempotency_key_is_replayed_by_the_other_node(cluster):
    workspace = await new_workspace(cluster.pool)
    headers = {**workspace.live, "Idempotency-Key": "nodes-1"}
    first = await cluster.apis[0].post("/customers", json={"name": "once"}, headers=headers)
    again = await cluster.apis[1].post("/customers", json={"name": "once"}, headers=headers)
    assert first.status_code == again.status_code == 201
    assert again.headers.get("idempotent-replayed") == "true"
    assert again.json() == first.json()
    stored = await cluster.pool.fetchval(
        "select count(*) from customers where workspace_id = $1", workspace.id)
    assert stored == 1


async def test_a_revoked_key_is_refused_by_every_node_within_the_cache_time(cluster):
    workspace = await new_workspace(cluster.pool)
    # both nodes have the key cached
    for api in cluster.apis:
        assert (await api.get("/customers", headers=workspace.live)).status_code == 200
    async with cluster.pool.acquire() as conn:
        await revoke_key(conn, workspace.live_key_id)
    # no node may trust its cached copy longer than the cache time
    await asyncio.sleep(AUTH_CACHE_SECONDS + 0.05)
    for api in cluster.apis:
        response = await api.get("/customers", headers=workspace.live)
        assert response.status_code == 401, response.text


def _slow(count: int) -> tuple[int, dict[str, str], bytes, float]:
    # deliveries stay in flight long enough for the kill to land mid-way
    return 200, {}, b"ok", 0.2


async def _wait_for(condition, timeout: float, what: str, cluster: Cluster) -> None:
    for _ in range(int(timeout / 0.05)):
        if await condition():
            return
        await asyncio.sleep(0.05)
    raise AssertionError(f"timed out waiting for {what}\n{cluster.log_tail()}")


async def test_each_delivery_is_made_once_per_endpoint_when_a_worker_is_killed(cluster):
    workspace = await new_workspace(cluster.pool)
    receivers = [Receiver(_slow).start(), Receiver(_slow).start()]
    try:
        for receiver in receivers:
            created = await cluster.apis[0].post(
                "/webhook_endpoints", json={"url": receiver.url, "enabled_events": ["*"]},
                headers=workspace.live)
            assert created.status_code == 201, created.text
        for node, batch in enumerate(range(2)):
            items = [{"name": f"n{batch}-{i}"} for i in range(40)]
            response = await cluster.apis[node].post(
                "/customers/batch", json={"items": items}, headers=workspace.live)
            assert response.status_code == 200, response.text

        async def some_received() -> bool:
            return sum(len(r.received) for r in receivers) >= 20

        await _wait_for(some_received, 60, "the first deliveries", cluster)
        before_kill = [list(r.event_ids()) for r in receivers]
        killed = cluster.workers[0]
        killed.send_signal(signal.SIGKILL)
        await asyncio.to_thread(killed.wait)
        # what the dead worker claimed and never settled keeps its lease until it lapses: only
        # those deliveries may reach a receiver twice (delivery is at least once)
        leased = {(row["endpoint_id"], row["event_id"]) for row in await cluster.pool.fetch(
            "select endpoint_id, event_id from webhook_deliveries"
            " where workspace_id = $1 and status = 'pending' and lease_until is not null",
            workspace.id)}
        events = {row["id"] for row in await cluster.pool.fetch(
            "select id from events where workspace_id = $1 and type = 'customer.created'",
            workspace.id)}
        assert len(events) == 80

        async def all_settled() -> bool:
            owed = await cluster.pool.fetchval(
                "select count(*) from webhook_deliveries where workspace_id = $1"
                " and status <> 'succeeded'", workspace.id)
            received = all(set(r.event_ids()) >= events for r in receivers)
            return owed == 0 and received

        await _wait_for(all_settled, 90, "every delivery to succeed", cluster)
        rows = await cluster.pool.fetch(
            "select endpoint_id, count(*) as deliveries, count(*) filter"
            " (where status = 'succeeded') as succeeded from webhook_deliveries d"
            " join events e on e.id = d.event_id"
            " where d.workspace_id = $1 and e.type = 'customer.created'"
            " group by endpoint_id", workspace.id)
        # PostgreSQL's record: one delivery per event and endpoint, each succeeded
        assert sorted((r["deliveries"], r["succeeded"]) for r in rows) == [(80, 80), (80, 80)]
        endpoints = [r["endpoint_id"] for r in rows]
        for receiver, early in zip(receivers, before_kill, strict=True):
            assert len(early) == len(set(early)), "two live workers delivered an event twice"
            counts = Counter(receiver.event_ids())
            assert set(counts) == events
            twice = {event for event, seen in counts.items() if seen > 1}
            endpoint = await _endpoint_of(cluster.pool, receiver.url, endpoints)
            assert twice <= {event for ep, event in leased if ep == endpoint}
    finally:
        for receiver in receivers:
            receiver.stop()


async def _endpoint_of(pool: asyncpg.Pool, url: str, candidates: list[str]) -> str:
    return await pool.fetchval(
        "select id from webhook_endpoints where url = $1 and id = any($2::text[])", url, candidates)

