"""Prometheus metrics of real processes, scraped and parsed: `pivotal serve --workers 2
--metrics-port` adds up its worker processes, and `pivotal worker --metrics-port` counts what
it delivered and reads the backlog when scraped."""

from __future__ import annotations

import re
import signal
import subprocess
import sys
from collections import Counter
from collections.abc import AsyncIterator
from dataclasses import dataclass
from pathlib import Path

import asyncpg
import httpx
import psutil
import pytest
from prometheus_client.parser import text_string_to_metric_families

from app.core.db import init_connection
from tests.apiserver import ApiServer, start_api, wait_until_serving
from tests.conftest import new_workspace, service_env
from tests.receiver import Receiver
from tests.waiting import wait_until, wait_until_listening

METRICS_LINE = re.compile(r"metrics on 127\.0\.0\.1:(\d+)")
# a bucket small enough to empty in a test: one token back every 10 seconds
RATE, BURST = 0.1, 6
ENV = {"PIVOTAL_RATE_LIMIT_PER_SECOND": str(RATE), "PIVOTAL_RATE_LIMIT_BURST": str(BURST),
       # a failed attempt's retry is not due while the test runs
       "PIVOTAL_WEBHOOK_RETRY_SCHEDULE": "600"}
POOL_MAX = 10  # Settings.db_pool_max, per API worker process
TIMEOUT = 30


class Scrape:
    """One scrape's samples: (name, labels) -> value."""

    def __init__(self, text: str) -> None:
        self.samples = {(s.name, frozenset(s.labels.items())): s.value
                        for family in text_string_to_metric_families(text)
                        for s in family.samples}

    def value(self, name: str, **labels: str) -> float:
        """The sum of `name`'s samples carrying `labels` (0 when there is none)."""
        wanted = set(labels.items())
        return sum(value for (sample, have), value in self.samples.items()
                   if sample == name and wanted <= have)

    def labelled(self, name: str, label: str) -> set[str]:
        return {dict(have)[label] for sample, have in self.samples if sample == name}


async def scrape(url: str) -> Scrape:
    async with httpx.AsyncClient(timeout=10) as client:
        response = await client.get(url)
    assert response.status_code == 200, response.text
    assert response.headers["content-type"].startswith("text/plain")
    return Scrape(response.text)


async def metrics_url(output: Path, process: subprocess.Popen) -> str:
    """The /metrics URL a process logged it serves on."""
    async def logged() -> re.Match | None:
        assert process.poll() is None, output.read_text()
        return METRICS_LINE.search(output.read_text())

    await wait_until(logged, TIMEOUT, "the metrics line")
    return f"http://127.0.0.1:{METRICS_LINE.search(output.read_text())[1]}/metrics"


@dataclass
class Stack:
    api: ApiServer
    api_metrics: str
    worker: subprocess.Popen
    worker_metrics: str
    pool: asyncpg.Pool

    def api_workers(self) -> list[psutil.Process]:
        children = psutil.Process(self.api.process.pid).children()
        return [child for child in children if "resource_tracker" not in child.cmdline()[-1]]


def _start_worker(env: dict[str, str], log: Path) -> subprocess.Popen:
    with log.open("w") as output:
        return subprocess.Popen(
            [sys.executable, "-m", "app.ops.cli", "worker", "--metrics-port", "0"], env=env,
            stdout=output, stderr=subprocess.STDOUT)


@pytest.fixture(scope="module")
async def stack(databases, servers, tmp_path_factory) -> AsyncIterator[Stack]:
    database_url = await databases.clone()
    logs = tmp_path_factory.mktemp("metrics")
    api = start_api(database_url, servers.redis_url, logs / "api.log", workers=2,
                    extra_args=("--metrics-port", "0"), **ENV)
    env = service_env(database_url, servers.redis_url, PIVOTAL_ENV="test", **ENV)
    worker = _start_worker(env, logs / "worker.log")
    pool = await asyncpg.create_pool(database_url, min_size=1, max_size=4, init=init_connection)
    try:
        await wait_until_serving(api)
        await wait_until_listening(database_url)
        yield Stack(api, await metrics_url(logs / "api.log", api.process), worker,
                    await metrics_url(logs / "worker.log", worker), pool)
    finally:
        api.stop()
        worker.kill()
        worker.wait()
        await pool.close()


async def _requests(base: str, calls: list[tuple[str, dict[str, str]]]) -> list[int]:
    """Each call on a connection of its own, so the kernel spreads them over the workers."""
    limits = httpx.Limits(max_keepalive_connections=0)
    async with httpx.AsyncClient(base_url=base, limits=limits, timeout=10) as client:
        return [(await client.get(path, headers=headers)).status_code for path, headers in calls]


async def test_api_metrics_add_up_the_requests_of_every_worker_process(stack):
    found, limited = await new_workspace(stack.pool), await new_workspace(stack.pool)
    before = await scrape(stack.api_metrics)
    calls = [("/health", {})] * 4 + [("/customers/cus_nothere", found.live)] * 3 + \
        [("/no/such/route", {})] * 2 + [("/customers", limited.live)] * (BURST + 3)
    statuses = await _requests(stack.api.base, calls)
    routes = ["/api/v1/health"] * 4 + ["/api/v1/customers/{reference}"] * 3 + ["unmatched"] * 2 + \
        ["/api/v1/customers"] * (BURST + 3)
    expected = Counter((route, str(status)) for route, status in zip(routes, statuses,
                                                                      strict=True))
    assert expected[("/api/v1/customers", "429")] >= 3, statuses
    after = await scrape(stack.api_metrics)

    count = "pivotal_http_request_duration_seconds_count"
    assert "/api/v1/customers/cus_nothere" not in after.labelled(count, "route")
    for (route, status), n in expected.items():
        labels = {"method": "GET", "route": route, "status": status}
        assert after.value(count, **labels) - before.value(count, **labels) == n, (route, status)
        assert after.value("pivotal_http_request_duration_seconds_bucket", le="+Inf",
                           **labels) == after.value(count, **labels)
    assert after.value("pivotal_http_request_duration_seconds_sum") > 0
    assert (after.value("pivotal_http_rate_limited_total", limit="api_key")
            - before.value("pivotal_http_rate_limited_total", limit="api_key")
            == expected[("/api/v1/customers", "429")])
    # both processes recorded requests, in files of their own
    directory = Path(stack.api_workers()[0].environ()["PROMETHEUS_MULTIPROC_DIR"])
    recorded = {path.stem.split("_")[-1] for path in directory.glob("histogram_*.db")}
    assert {str(worker.pid) for worker in stack.api_workers()} <= recorded
    # the gauges of the two live processes, summed (max) or the lowest (Redis)
    assert after.value("pivotal_db_pool_max_connections") == 2 * POOL_MAX
    assert 2 <= after.value("pivotal_db_pool_connections") <= 2 * POOL_MAX
    assert after.value("pivotal_db_pool_connections_in_use") >= 0
    assert after.value("pivotal_redis_up") == 1


async def test_a_dead_api_worker_keeps_its_counts_and_loses_its_gauges(stack):
    before = await scrape(stack.api_metrics)
    served = before.value("pivotal_http_request_duration_seconds_count")
    killed, survivor = stack.api_workers()
    directory = Path(survivor.environ()["PROMETHEUS_MULTIPROC_DIR"])
    killed.send_signal(signal.SIGKILL)
    killed.wait(TIMEOUT)

    async def new_worker_served() -> bool:
        pids = {worker.pid for worker in stack.api_workers()} - {survivor.pid, killed.pid}
        if not pids:
            return False
        await _requests(stack.api.base, [("/health", {})] * 4)
        # its sampler ran as its app started, before it served a request
        return (directory / f"histogram_{pids.pop()}.db").exists()

    await wait_until(new_worker_served, TIMEOUT, "a new worker serving")
    after = await scrape(stack.api_metrics)
    assert after.value("pivotal_http_request_duration_seconds_count") >= served + 4
    # the dead process's gauges are gone: the two live ones only
    assert after.value("pivotal_db_pool_max_connections") == 2 * POOL_MAX


async def test_the_api_with_redis_unreachable_reports_it_down(databases, tmp_path):
    database_url = await databases.clone()
    api = start_api(database_url, "redis://127.0.0.1:1/0", tmp_path / "api.log",
                    extra_args=("--metrics-port", "0"))
    try:
        await wait_until_serving(api, statuses=(503,))
        url = await metrics_url(tmp_path / "api.log", api.process)
        scraped = await scrape(url)
        assert scraped.value("pivotal_redis_up") == 0
        assert scraped.value("pivotal_db_pool_max_connections") == POOL_MAX
    finally:
        api.stop()


def _answer(status: int):
    def answer(count: int) -> tuple[int, dict[str, str], bytes, float]:
        return status, {}, b"", 0.0

    return answer


async def test_worker_metrics_count_deliveries_and_read_the_backlog(stack):
    workspace = await new_workspace(stack.pool)
    receivers = [Receiver(_answer(status)).start() for status in (200, 500, 410)]
    before = await scrape(stack.worker_metrics)
    try:
        async with httpx.AsyncClient(base_url=stack.api.base, timeout=10) as api:
            for receiver in receivers:
                created = await api.post(
                    "/webhook_endpoints", headers=workspace.live,
                    json={"url": receiver.url, "enabled_events": ["customer.created"]})
                assert created.status_code == 201, created.text
            # while deliveries cannot be recorded, the relay waits and the event stays owed
            async with stack.pool.acquire() as conn, conn.transaction():
                await conn.execute("lock table webhook_deliveries in exclusive mode")
                created = await api.post("/customers", json={"name": "metered"},
                                         headers=workspace.live)
                assert created.status_code == 201, created.text
                waiting = await _scrape_until(
                    stack.worker_metrics,
                    lambda s: s.value("pivotal_outbox_oldest_event_age_seconds") > 0.2)
                assert waiting.value("pivotal_outbox_backlog_events") >= 1
        # the 410 disabled its endpoint, whose webhook_endpoint.disabled event is relayed too
        settled = await _scrape_until(stack.worker_metrics, lambda s: _delta(
            s, before, "pivotal_webhook_deliveries_total") == 2
            and s.value("pivotal_outbox_backlog_events") == 0)
    finally:
        for receiver in receivers:
            receiver.stop()

    attempts = "pivotal_webhook_attempt_duration_seconds_count"
    assert _delta(settled, before, "pivotal_webhook_deliveries_total", status="succeeded") == 1
    assert _delta(settled, before, "pivotal_webhook_deliveries_total", status="failed") == 1
    assert _delta(settled, before, attempts, outcome="success") == 1
    assert _delta(settled, before, attempts, outcome="http_error") == 2
    assert settled.value("pivotal_webhook_attempt_duration_seconds_sum") > 0
    # the 500 is owed again in 600 s
    assert settled.value("pivotal_webhook_deliveries_pending") == 1
    assert settled.value("pivotal_outbox_backlog_events") == 0
    assert settled.value("pivotal_outbox_oldest_event_age_seconds") == 0
    assert settled.value("pivotal_redis_up") == 1
    assert settled.value("pivotal_db_pool_connections") >= 1


def _delta(after: Scrape, before: Scrape, name: str, **labels: str) -> float:
    return after.value(name, **labels) - before.value(name, **labels)


async def _scrape_until(url: str, condition) -> Scrape:
    found: list[Scrape] = []

    async def holds() -> bool:
        found[:] = [await scrape(url)]
        return condition(found[0])

    await wait_until(holds, TIMEOUT, f"a scrape of {url} to hold")
    return found[0]
