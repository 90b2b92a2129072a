"""The SAQ jobs: relay the outbox, deliver, sweep what Redis forgot, prune old rows.

Every job works from what PostgreSQL says is owed, so a lost Redis key or a killed worker
only delays a delivery: the sweep finds it again once its lease has lapsed.
"""

from __future__ import annotations

import logging
import time
from typing import Any

from saq import Queue

from app.core.db import queries, transaction
from app.webhooks.fanout import fan_out
from worker import delivery

log = logging.getLogger("pivotal.worker")
RELAY_BATCH = 500
PRUNE_BATCH = 5000
EVENT_RETENTION_DAYS = 30

# deliveries claimed and attempted together by one job
DELIVERY_BATCH = 25
# at most this many delivery jobs queued by one sweep or relay (each loops until nothing is
# due): together they keep about as many attempts in flight as the worker has HTTP slots
MAX_PARALLEL_BATCHES = 6


# SAQ's defaults are wrong for us: a job's timeout of 10 s is shorter than a slow receiver,
# and retries=1 means a job that raised is never run again. A delivery job may take the
# whole HTTP timeout (its attempts run concurrently) plus its database work; SAQ retries it
# only for our own failures (a database blip): the HTTP outcomes are settled in PostgreSQL,
# and rows it claimed but could not settle come back when their lease ends. No heartbeat:
# the job timeout bounds it.
def delivery_job_options(ctx: dict[str, Any]) -> dict[str, Any]:
    settings = ctx["settings"]
    return {"timeout": int(settings.webhook_timeout) + 15, "retries": 3, "retry_delay": 1.0,
            "retry_backoff": True, "ttl": 600}


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
    for _ in range(min(MAX_PARALLEL_BATCHES, -(-owed // DELIVERY_BATCH))):
        await queue.enqueue("deliver", **options)


async def relay(ctx: dict[str, Any]) -> int:
    """Fan new events out to their endpoints and queue the deliveries, until none are left.

    Events another relay has claimed are skipped, not waited for: that relay queues them.
    """
    total = 0
    while True:
        async with transaction(ctx["pool"]) as conn:
            claimed, delivery_ids = await fan_out(conn, RELAY_BATCH)
        if delivery_ids:
            await enqueue_deliveries(ctx, len(delivery_ids))
        total += len(delivery_ids)
        if claimed < RELAY_BATCH:
            return total


async def deliver(ctx: dict[str, Any]) -> int:
    """Attempt due deliveries a batch at a time until none is left; failures are retried on
    the schedule, by a job queued for when the earliest one is due."""
    attempted, earliest = 0, None
    while True:
        claimed, delay = await delivery.deliver_batch(
            ctx["pool"], ctx["http"], ctx["http_slots"], ctx["settings"], DELIVERY_BATCH
        )
        attempted += claimed
        if delay is not None:
            earliest = delay if earliest is None else min(earliest, delay)
        if claimed < DELIVERY_BATCH:
            break
    if earliest is not None:
        await enqueue_deliveries(ctx, 1, earliest)
    return attempted


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
