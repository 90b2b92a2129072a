"""The webhook worker's Prometheus series, served by the worker itself (`--metrics-port`).

One process, one registry of its own. Attempts and settled deliveries are counted as they
are settled (worker/pump.py); the backlog (events not yet fanned out, the oldest one's age,
pending deliveries), pool use and Redis are read when /metrics is scraped: one bounded query
and one PING per scrape, nothing while nobody looks. When PostgreSQL cannot answer a scrape,
the backlog gauges keep their last values and the pool gauges show the outage.
"""

from __future__ import annotations

import asyncio
import logging
from typing import TYPE_CHECKING, Any

from aiohttp import web
from prometheus_client import (
    CONTENT_TYPE_LATEST,
    CollectorRegistry,
    Counter,
    Gauge,
    Histogram,
    generate_latest,
)

from app.core.db import is_unavailable, queries
from app.core.metrics import PROCESS_GAUGES, sample_pool, sample_redis

if TYPE_CHECKING:
    from worker.delivery import Outcome

log = logging.getLogger("pivotal.worker")
# the backlog counts stop here: past it the number says "far behind" as well as an exact one
BACKLOG_CAP = 100_000
QUERY_TIMEOUT = 2.0
# from a receiver on the same network to the default PIVOTAL_WEBHOOK_TIMEOUT and past it
ATTEMPT_BUCKETS = (0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0, 15.0, 30.0)

REGISTRY = CollectorRegistry()
for gauge in PROCESS_GAUGES:
    REGISTRY.register(gauge)
OUTBOX_EVENTS = Gauge("pivotal_outbox_backlog_events",
                      f"Events not yet fanned out to their endpoints (counted up to {BACKLOG_CAP})",
                      registry=REGISTRY)
OUTBOX_OLDEST = Gauge("pivotal_outbox_oldest_event_age_seconds",
                      "Seconds since the oldest event not yet fanned out was written; 0 when none",
                      registry=REGISTRY)
DELIVERIES_PENDING = Gauge(
    "pivotal_webhook_deliveries_pending",
    f"Deliveries owed, due now or waiting for a retry (counted up to {BACKLOG_CAP})",
    registry=REGISTRY)
DELIVERIES = Counter("pivotal_webhook_deliveries",
                     "Deliveries this worker settled for good, by how they ended", ["status"],
                     registry=REGISTRY)
SUCCEEDED, FAILED = DELIVERIES.labels("succeeded"), DELIVERIES.labels("failed")
ATTEMPT_SECONDS = Histogram(
    "pivotal_webhook_attempt_duration_seconds",
    "Delivery attempts by outcome (success, http_error, timeout, connection_failed, tls_error, "
    "url_refused) and the seconds each took", ["outcome"], buckets=ATTEMPT_BUCKETS,
    registry=REGISTRY)


def record_settled(outcomes: list[Outcome], statuses: list[str], abandoned: int) -> None:
    """Attempts and the deliveries they left `statuses`, once their transaction committed;
    `abandoned` deliveries failed without an attempt (their endpoint is gone)."""
    for outcome, status in zip(outcomes, statuses, strict=True):
        ATTEMPT_SECONDS.labels(outcome.kind).observe(outcome.latency_ms / 1000)
        if status == "succeeded":
            SUCCEEDED.inc()
        elif status == "failed":
            FAILED.inc()
    FAILED.inc(abandoned)


async def sample(ctx: dict[str, Any]) -> None:
    """Pool use, Redis, and the backlog into their gauges."""
    sample_pool(ctx["pool"])
    await sample_redis(ctx["queue"].redis)
    try:
        async with asyncio.timeout(QUERY_TIMEOUT):
            row = await ctx["pool"].fetchrow(queries["deliveries.backlog"], BACKLOG_CAP)
    except Exception as exc:
        if not is_unavailable(exc):
            raise
        log.warning("metrics: cannot read the backlog (%r)", exc)
        return
    OUTBOX_EVENTS.set(row["outbox_events"])
    OUTBOX_OLDEST.set(row["outbox_oldest_seconds"])
    DELIVERIES_PENDING.set(row["deliveries_pending"])


async def serve_metrics(ctx: dict[str, Any], host: str, port: int) -> web.AppRunner:
    """GET /metrics on host:port in the worker's own loop; the caller cleans the runner up."""

    async def metrics(request: web.Request) -> web.Response:
        await sample(ctx)
        return web.Response(body=generate_latest(REGISTRY),
                            headers={"Content-Type": CONTENT_TYPE_LATEST})

    app = web.Application()
    app.router.add_get("/metrics", metrics)
    runner = web.AppRunner(app, access_log=None)
    await runner.setup()
    await web.TCPSite(runner, host, port).start()
    log.info("metrics on %s:%s", host, runner.addresses[0][1])
    return runner
