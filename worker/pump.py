"""The delivery pump: one per worker process, it keeps up to HTTP_SLOTS attempts in flight.

A slot that frees (an attempt settled) is filled at once by the next claim, so a slow
receiver holds only its own slots: the claim caps each endpoint's attempts in flight
(PIVOTAL_WEBHOOK_ENDPOINT_CONCURRENCY, counted across every worker) and serves each
endpoint's next delivery before any endpoint's one after it. Outcomes are settled as they
arrive, a few per statement, never held back by a slower attempt claimed with them.

PostgreSQL stays the record of what is owed: a pump that dies leaves leases that lapse, and
the sweep hands those deliveries to another worker.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field

import aiohttp
import asyncpg

from app.core.db import queries
from app.settings import Settings
from worker import delivery
from worker.resolver import HTTP_SLOTS

log = logging.getLogger("pivotal.worker")
CLAIM_BATCH = 50
# with attempts in flight and nothing new claimed, look for due work this often anyway
IDLE_POLL_SECONDS = 1.0


@dataclass
class PumpRun:
    """What one run did: deliveries claimed, and whether it stopped at its time limit with
    work possibly still due (the caller queues a fresh run)."""

    claimed: int = 0
    cut_short: bool = False
    retries: list[float] = field(default_factory=list)


class DeliveryPump:
    def __init__(
        self, pool: asyncpg.Pool, http: aiohttp.ClientSession, settings: Settings,
        schedule_retry: Callable[[float], Awaitable[None]], slots: int = HTTP_SLOTS,
    ) -> None:
        self.pool, self.http, self.settings = pool, http, settings
        self.schedule_retry = schedule_retry
        self.slots = slots
        self.running = False
        # finished attempts, (row, outcome), and wake-ups (None), of the current run
        self._arrivals: asyncio.Queue = asyncio.Queue()
        self._tasks: set[asyncio.Task] = set()

    def poke(self) -> None:
        """New work may be due: the running pump claims again at once."""
        self._arrivals.put_nowait(None)

    async def run(self, stopping: asyncio.Event, seconds: float) -> PumpRun:
        """Claim and attempt due deliveries until none is due and none is in flight; stop
        claiming once `stopping` is set or `seconds` have passed, and let what is in flight
        finish and settle."""
        self.running = True
        self._arrivals = asyncio.Queue()
        try:
            return await self._pump(stopping, asyncio.get_running_loop().time() + seconds)
        except BaseException:
            for task in self._tasks:  # their leases lapse; the sweep hands them on
                task.cancel()
            raise
        finally:
            self.running = False

    async def _pump(self, stopping: asyncio.Event, deadline: float) -> PumpRun:
        loop, result = asyncio.get_running_loop(), PumpRun()
        in_flight, want_more = 0, True
        while True:
            accepting = not stopping.is_set() and loop.time() < deadline
            if accepting and want_more and in_flight < self.slots:
                asked = min(self.slots - in_flight, CLAIM_BATCH)
                started = await self._claim_and_start(asked)
                result.claimed += started.claimed
                in_flight += started.in_flight
                want_more = started.claimed == asked
            if in_flight == 0 and self._arrivals.empty() and (not want_more or not accepting):
                result.cut_short = not accepting and not stopping.is_set()
                return result
            finished, poked = await self._next_arrivals()
            if finished:
                in_flight -= len(finished)
                delays = await delivery.settle(self.pool, self.settings, *zip(*finished))
                if delays:
                    result.retries += delays
                    await self.schedule_retry(min(delays))
            want_more = want_more or poked or bool(finished)

    async def _next_arrivals(self) -> tuple[list, bool]:
        """Wait for attempts to finish or a wake-up (at most IDLE_POLL_SECONDS); take every
        arrival queued by then."""
        try:
            first = await asyncio.wait_for(self._arrivals.get(), IDLE_POLL_SECONDS)
        except TimeoutError:
            return [], True
        finished, poked = [], False
        item = first
        while True:
            if item is None:
                poked = True
            else:
                finished.append(item)
            if self._arrivals.empty():
                return finished, poked
            item = self._arrivals.get_nowait()

    @dataclass
    class _Started:
        claimed: int
        in_flight: int

    async def _claim_and_start(self, limit: int) -> DeliveryPump._Started:
        async with self.pool.acquire() as conn, conn.transaction():
            await conn.execute(queries["deliveries.claim_lock"])
            claimed = await conn.fetch(
                queries["deliveries.claim"], limit, delivery.lease_seconds(self.settings),
                self.settings.webhook_endpoint_concurrency)
        gone = [row["id"] for row in claimed if not row["endpoint_enabled"]]
        if gone:  # the endpoint was deleted: nothing is owed to it any more
            await self.pool.execute(queries["deliveries.abandon"], gone)
        live = [row for row in claimed if row["endpoint_enabled"]]
        bodies: dict[str, bytes] = {}
        for row in live:
            body = bodies.get(row["event_id"]) or bodies.setdefault(
                row["event_id"], delivery.event_body(row))
            task = asyncio.create_task(self._attempt(row, body))
            self._tasks.add(task)
            task.add_done_callback(self._tasks.discard)
        if claimed:
            log.debug("claimed %d deliveries", len(claimed))
        return self._Started(len(claimed), len(live))

    async def _attempt(self, row: asyncpg.Record, body: bytes) -> None:
        outcome = await delivery.post_event(
            self.http, self.settings, row["url"], list(row["secrets"]), row["event_id"], body)
        self._arrivals.put_nowait((row, outcome))
