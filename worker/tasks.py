"""The SAQ jobs: relay the outbox, deliver, sweep what Redis forgot, prune old rows.

Every job works from what PostgreSQL says is owed, so a lost Redis key or a killed worker
only delays a delivery: the sweep finds it again once its lease has lapsed.
"""

from __future__ import annotations

import logging
import time
from typing import Any

from saq import Queue

from app.db import queries, transaction
from app.webhooks.deliveries import fan_out
from worker import delivery

log = logging.getLogger("pivotal.worker")
RELAY_BATCH = 500
SWEEP_BATCH = 1000
PRUNE_BATCH = 5000
EVENT_RETENTION_DAYS = 30

# SAQ's defaults are wrong for us: a job's timeout of 10 s is shorter than a slow receiver,
# and retries=1 means a job that raised is never run again. A delivery job may take the
# whole HTTP timeout plus its database work; it is retried by SAQ only for our own failures
# (a database blip), since the HTTP outcome is settled in PostgreSQL. No heartbeat: the job
# timeout bounds it, and the delivery's lease in PostgreSQL covers a crashed worker.
def delivery_job_options(ctx: dict[str, Any]) -> dict[str, Any]:
    settings = ctx["settings"]
    return {"timeout": int(settings.webhook_timeout) + 15, "retries": 3, "retry_delay": 1.0,
            "retry_backoff": True, "ttl": 600}


async def enqueue_delivery(
    ctx: dict[str, Any], delivery_id: str, attempt_count: int, delay: float = 0.0
) -> None:
    """A job for one attempt; the key dedupes while the same attempt is queued or running."""
    queue: Queue = ctx["queue"]
    await queue.enqueue(
        "deliver",
        delivery_id=delivery_id,
        key=f"deliver:{delivery_id}:{attempt_count}",
        scheduled=time.time() + delay if delay > 0 else 0,
        **delivery_job_options(ctx),
    )


async def relay(ctx: dict[str, Any]) -> int:
    """Fan new events out to their endpoints and queue the deliveries, until none are left.

    Events another relay has claimed are skipped, not waited for: that relay queues them.
    """
    total = 0
    while True:
        async with transaction(ctx["pool"]) as conn:
            claimed, delivery_ids = await fan_out(conn, RELAY_BATCH)
        for delivery_id in delivery_ids:
            await enqueue_delivery(ctx, delivery_id, 0)
        total += len(delivery_ids)
        if claimed < RELAY_BATCH:
            return total


async def deliver(ctx: dict[str, Any], *, delivery_id: str) -> str | None:
    """One attempt at one delivery; a failure schedules the next attempt."""
    result = await delivery.attempt(ctx["pool"], ctx["http"], ctx["settings"], delivery_id)
    if result is None:
        return None
    status, delay = result
    if status == "pending" and delay is not None:
        attempts = await ctx["pool"].fetchval(
            "select attempt_count from webhook_deliveries where id = $1", delivery_id
        )
        await enqueue_delivery(ctx, delivery_id, attempts, delay)
    return status


async def sweep(ctx: dict[str, Any]) -> int:
    """The safety net: relay stragglers and re-queue every due delivery without a live lease."""
    await relay(ctx)
    due = await ctx["pool"].fetch(queries["deliveries.due"], SWEEP_BATCH)
    for row in due:
        await enqueue_delivery(ctx, row["id"], row["attempt_count"])
    return len(due)


async def prune(ctx: dict[str, Any]) -> int:
    """Delete events past their retention and expired idempotent responses, in small batches
    so no long lock is ever held."""
    pool, removed = ctx["pool"], 0
    for sql, argument in ((queries["deliveries.prune_events"], EVENT_RETENTION_DAYS),
                          (queries["deliveries.prune_idempotency_keys"], None)):
        while True:
            args = (argument, PRUNE_BATCH) if argument is not None else (PRUNE_BATCH,)
            status = await pool.execute(sql, *args)
            count = int(status.split()[-1])
            removed += count
            if count < PRUNE_BATCH:
                break
    return removed
