"""`pivotal worker`: SAQ workers that drain the outbox and deliver webhooks."""

from __future__ import annotations

import asyncio
import contextlib
import logging
import ssl
from typing import Any
from urllib.parse import urlsplit

import asyncpg
import redis.exceptions
import uvloop
from aiohttp.abc import AbstractResolver
from saq import CronJob, Queue, Worker

from app.core.db import check_session, connect_direct, create_pool
from app.settings import Settings
from worker import tasks
from worker.metrics import serve_metrics
from worker.resolver import http_session

log = logging.getLogger("pivotal.worker")
QUEUE_PREFIX = "pivotal-webhooks"
# what a commit-time notification on each channel calls for: a committed event needs
# relaying; a redelivery needs its new rows queued
WORK_FOR_CHANNEL = {"pivotal_events": "relay", "pivotal_deliveries": "sweep"}
WAKE_DEBOUNCE_SECONDS = 0.005
# SAQ job slots (the deliveries themselves run in the process's pump, worker/pump.py)
CONCURRENCY = 50


async def _listen(ctx: dict[str, Any]) -> None:
    """Relay (or sweep) as soon as a commit notifies, in this process; reconnect when dropped."""
    wake = asyncio.Event()
    pending: set[str] = set()

    def notified(connection: object, pid: int, channel: str, payload: str) -> None:
        pending.add(WORK_FOR_CHANNEL[channel])
        wake.set()

    while True:
        try:
            # LISTEN holds a session: never through a transaction pooler
            conn = await connect_direct(ctx["settings"])
        except (OSError, asyncpg.PostgresError) as exc:
            log.warning("cannot listen for events (%s); retrying", exc)
            await asyncio.sleep(1)
            continue
        try:
            for channel in WORK_FOR_CHANNEL:
                await conn.add_listener(channel, notified)
            # anything committed while nobody listened is picked up now
            pending.add("sweep")
            wake.set()
            await _work_on_wake(ctx, conn, wake, pending)
        except (OSError, asyncpg.PostgresError, asyncpg.InterfaceError) as exc:
            log.warning("event listener lost its connection (%s); reconnecting", exc)
        finally:
            with contextlib.suppress(Exception):
                await conn.close()


async def _work_on_wake(
    ctx: dict[str, Any], conn: asyncpg.Connection, wake: asyncio.Event, pending: set[str]
) -> None:
    """Run the work notifications asked for, here rather than as a job through Redis: the
    relay is on every delivery's path, and a job costs several Redis round trips before it
    starts. Every worker process listens; concurrent relays skip each other's events."""
    work = {"relay": tasks.relay, "sweep": tasks.sweep}
    while not conn.is_closed():
        with contextlib.suppress(TimeoutError):
            async with asyncio.timeout(1.0):
                await wake.wait()
        wake.clear()
        while pending:
            name = pending.pop()
            try:
                await work[name](ctx)
            except (OSError, asyncpg.PostgresError, asyncpg.InterfaceError,
                    redis.exceptions.RedisError) as exc:
                # the work stays owed in PostgreSQL: try again shortly (the sweep also will)
                log.warning("%s failed (%s); will retry", name, exc)
                pending.add(name)
                await asyncio.sleep(1)
                break
        # many commits in a burst become one relay
        await asyncio.sleep(WAKE_DEBOUNCE_SECONDS)


def queue_name(settings: Settings) -> str:
    """One queue per database: two deployments sharing a Redis must not take each other's
    jobs (a job only knows how to find its work in its own database)."""
    database = urlsplit(settings.direct_url).path.lstrip("/") or "postgres"
    return f"{QUEUE_PREFIX}:{database}"


def worker_settings(
    settings: Settings, resolver: AbstractResolver | None = None, tls: ssl.SSLContext | None = None,
    metrics: tuple[str, int] | None = None,
) -> dict[str, Any]:
    """The SAQ worker's settings; resources are created in startup, never at import.

    `resolver` answers the receivers' host names (the system's by default); every answer is
    checked before a connection is made to it (worker/resolver.py). `tls` holds the CAs the
    receivers' certificates are checked against (the system's by default). With `metrics`
    (host, port), Prometheus metrics are served there (worker/metrics.py)."""
    queue = Queue.from_url(settings.redis_url, name=queue_name(settings))

    async def startup(ctx: dict[str, Any]) -> None:
        ctx["settings"] = settings
        ctx["queue"] = queue
        ctx["pool"] = await create_pool(settings, min_size=2, max_size=10)
        async with ctx["pool"].acquire() as conn:
            await check_session(conn)
        ctx["http"] = http_session(settings.production, resolver, tls)
        ctx["pump"] = tasks.new_pump(ctx)
        ctx["listener"] = asyncio.create_task(_listen(ctx))
        if metrics is not None:
            ctx["metrics"] = await serve_metrics(ctx, *metrics)

    async def shutdown(ctx: dict[str, Any]) -> None:
        if "metrics" in ctx:
            await ctx["metrics"].cleanup()
        ctx["listener"].cancel()
        await ctx["http"].close()
        await ctx["pool"].close()

    return {
        "queue": queue,
        "functions": [tasks.deliver, tasks.sweep, tasks.prune],
        "concurrency": CONCURRENCY,
        "cron_jobs": [
            # the safety net for anything a lost Redis key or a dead worker left owed
            CronJob(tasks.sweep, cron="* * * * * */2", timeout=60, retries=1),
            CronJob(tasks.prune, cron="17 * * * *", timeout=3600, retries=1),
        ],
        "startup": startup,
        "shutdown": shutdown,
        # scheduled jobs (retries) are moved to the queue once a second. SAQ waits for its
        # upkeep loops on shutdown, so none of them may sleep long: SIGTERM then exits as
        # soon as the deliveries in flight are done
        "timers": {"schedule": 1, "sweep": 2, "worker_info": 2, "abort": 1},
        # SIGTERM lets in-flight deliveries finish (one HTTP timeout) before exiting; idle
        # slots wait at most a second for work, so they notice the shutdown at once
        "shutdown_grace_period_s": int(settings.webhook_timeout) + 5,
        "dequeue_timeout": 1.0,
    }


async def _run(settings: Settings, metrics: tuple[str, int] | None) -> None:
    worker = Worker(**worker_settings(settings, metrics=metrics))
    await worker.start()


def run_worker(settings: Settings, metrics: tuple[str, int] | None = None) -> None:
    """Run the worker until SIGTERM; with `metrics` (host, port), serve its metrics there."""
    logging.basicConfig(level=settings.log_level, format="%(asctime)s %(name)s %(message)s")
    # SAQ logs every job at INFO: it would drown the one line per delivery attempt
    for noisy in ("saq",):
        logging.getLogger(noisy).setLevel(max(logging.WARNING, logging.getLogger().level))
    uvloop.run(_run(settings, metrics))
