"""The SAQ jobs: relay the outbox, deliver, sweep what Redis forgot, prune old rows.

Every job works from what PostgreSQL says is owed, so a lost Redis key or a killed worker
only delays a delivery: the sweep finds it again once its lease has lapsed.
"""

from __future__ import annotations

import asyncio
import logging
import time
from typing import Any

from saq import Queue

from app.core.db import queries, transaction
from app.webhooks.fanout import FanOut, fan_out
from worker.pump import CLAIM_BATCH, DeliveryPump

log = logging.getLogger("pivotal.worker")
RELAY_BATCH = 500
PRUNE_BATCH = 5000
EVENT_RETENTION_DAYS = 30

# at most this many delivery jobs queued at once by one sweep or relay: each worker process
# runs one pump (worker/pump.py), and a job that finds its process's pump running just wakes
# it, so a few jobs are enough to start the pumps of idle workers too
MAX_DELIVERY_JOBS = 4
# a pump run stops claiming after this long and hands on to a fresh job, so no job outlives
# its timeout while deliveries keep arriving
PUMP_RUN_SECONDS = 30


# SAQ's defaults are wrong for us: a job's timeout of 10 s is shorter than a slow receiver,
# and retries=1 means a job that raised is never run again. A delivery job claims for up to
# PUMP_RUN_SECONDS, then lets its last attempts finish (one HTTP timeout) and settles them;
# SAQ retries it only for our own failures (a database blip): the HTTP outcomes are settled
# in PostgreSQL, and rows it claimed but could not settle come back when their lease ends.
# No heartbeat: the job timeout bounds it.
def delivery_job_options(ctx: dict[str, Any]) -> dict[str, Any]:
    settings = ctx["settings"]
    return {"timeout": PUMP_RUN_SECONDS + int(settings.webhook_timeout) + 15, "retries": 3,
            "retry_delay": 1.0, "retry_backoff": True, "ttl": 600}


async def enqueue_deliveries(ctx: dict[str, Any], owed: int, delay: float = 0.0) -> None:
    """Queue enough delivery jobs for `owed` deliveries, now or after `delay` seconds.

    A delayed job (a retry) is keyed by the second it is due, so a batch of failures queues
    one job, not one each.
    """
    queue: Queue = ctx["queue"]
    options = delivery_job_options(ctx)
    if delay > 0:
        due = time.time() + delay
        await queue.enqueue("deliver", key=f"deliver:{int(due)}", scheduled=due, **options)
        return
    for _ in range(min(MAX_DELIVERY_JOBS, -(-owed // CLAIM_BATCH))):
        await queue.enqueue("deliver", **options)


async def wake_deliveries(ctx: dict[str, Any], recorded: FanOut) -> None:
    """New deliveries are due: this process's pump, when it is running, claims them at once
    (no job round trip through Redis); otherwise delivery jobs start a pump."""
    pump: DeliveryPump | None = ctx.get("pump")
    if pump is not None and pump.running:
        pump.poke(recorded.endpoints)
    else:
        await enqueue_deliveries(ctx, recorded.deliveries)


async def relay(ctx: dict[str, Any]) -> int:
    """Fan new events out to their endpoints and queue the deliveries, until none are left.

    Events another relay has claimed are skipped, not waited for: that relay queues them.
    """
    total = 0
    while True:
        async with transaction(ctx["pool"]) as conn:
            recorded = await fan_out(conn, RELAY_BATCH)
        if recorded.deliveries:
            await wake_deliveries(ctx, recorded)
        total += recorded.deliveries
        if recorded.events < RELAY_BATCH:
            return total


async def deliver(ctx: dict[str, Any]) -> int:
    """Run this process's delivery pump until nothing is due, or wake it if it is running.
    Failures are retried on the schedule, by a job queued for when each is due."""
    pump: DeliveryPump = ctx["pump"]
    if pump.running:
        pump.poke()
        return 0
    stopping = ctx["worker"].event if "worker" in ctx else asyncio.Event()
    run = await pump.run(stopping, PUMP_RUN_SECONDS)
    if run.cut_short:
        await enqueue_deliveries(ctx, 1)
    return run.claimed


def new_pump(ctx: dict[str, Any]) -> DeliveryPump:
    """The process's pump; a retry it schedules becomes a delivery job due at that time."""

    async def schedule_retry(delay: float) -> None:
        await enqueue_deliveries(ctx, 1, delay)

    return DeliveryPump(ctx["pool"], ctx["http"], ctx["settings"], schedule_retry)


async def sweep(ctx: dict[str, Any]) -> int:
    """The safety net: relay stragglers and queue jobs for every due delivery without a live
    lease (a lost Redis key, a dead worker's claim, a retry whose job is gone)."""
    await relay(ctx)
    due = await ctx["pool"].fetchval(queries["deliveries.due"])
    if due:
        await enqueue_deliveries(ctx, due)
    return due


async def prune(ctx: dict[str, Any]) -> int:
    """Delete events past their retention and expired idempotent responses, in small batches
    so no long lock is ever held."""
    pool, removed = ctx["pool"], 0
    for sql, argument in ((queries["events.prune"], EVENT_RETENTION_DAYS),
                          (queries["idempotency.prune"], None)):
        while True:
            args = (argument, PRUNE_BATCH) if argument is not None else (PRUNE_BATCH,)
            status = await pool.execute(sql, *args)
            count = int(status.split()[-1])
            removed += count
            if count < PRUNE_BATCH:
                break
    return removed
