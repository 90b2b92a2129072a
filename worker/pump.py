"""The delivery pump: one per worker process, it keeps up to HTTP_SLOTS attempts in flight.

A slot that frees (an attempt settled) is filled at once by the next claim, so a slow
receiver holds only its own slots: the claim caps each endpoint's attempts in flight
(PIVOTAL_WEBHOOK_ENDPOINT_CONCURRENCY, counted across every worker) and serves each
endpoint's next delivery before any endpoint's one after it. Outcomes are settled as they
arrive, every one that finished meanwhile in one statement and in the same transaction as
the claim that refills their slots, never held back by a slower attempt claimed with them.
Claims for different endpoints never wait for each other: each locks the endpoints it
claims for (skipping those another worker holds) and reads only their first due rows.

PostgreSQL stays the record of what is owed: a pump that dies leaves leases that lapse, and
the sweep hands those deliveries to another worker.
"""

from __future__ import annotations

import asyncio
import logging
from collections import Counter
from collections.abc import Awaitable, Callable, Collection
from dataclasses import dataclass, field

import aiohttp
import asyncpg

from app.core.db import queries, transaction
from app.settings import Settings
from worker import delivery, metrics
from worker.resolver import HTTP_SLOTS

log = logging.getLogger("pivotal.worker")
CLAIM_BATCH = 50
# with attempts in flight and nothing new claimed, look for due work this often anyway
IDLE_POLL_SECONDS = 1.0


@dataclass(frozen=True)
class Wake:
    """New deliveries were recorded, for these endpoints (None: not known)."""

    endpoints: Collection[str] | None


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
        # finished attempts, (row, outcome), and wake-ups (a Wake), of the current run
        self._arrivals: asyncio.Queue = asyncio.Queue()
        self._tasks: set[asyncio.Task] = set()
        # this process's attempts in flight, by endpoint
        self._busy: Counter[str] = Counter()

    def poke(self, endpoints: Collection[str] | None = None) -> None:
        """New work may be due (for `endpoints`, when known): the running pump claims again at
        once, unless each of those endpoints already has its cap of attempts in flight here —
        then the claim could take nothing for them, and the next attempt of theirs to finish
        claims anyway."""
        self._arrivals.put_nowait(Wake(endpoints))

    def _worth_claiming(self, wake: Wake) -> bool:
        cap = self.settings.webhook_endpoint_concurrency
        return wake.endpoints is None or any(self._busy[e] < cap for e in wake.endpoints)

    async def run(self, stopping: asyncio.Event, seconds: float) -> PumpRun:
        """Claim and attempt due deliveries until none is due and none is in flight; stop
        claiming once `stopping` is set or `seconds` have passed, and let what is in flight
        finish and settle."""
        self.running = True
        self._arrivals, self._busy = asyncio.Queue(), Counter()
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
        in_flight, want_more, finished = 0, True, []
        while True:
            accepting = not stopping.is_set() and loop.time() < deadline
            asked = 0
            if accepting and want_more and in_flight < self.slots:
                asked = min(self.slots - in_flight, CLAIM_BATCH)
            if finished or asked:
                # one transaction settles what finished (freeing its endpoints' places) and
                # claims the next deliveries for the slots that frees
                claimed, delays = await self._settle_and_claim(finished, asked)
                in_flight += self._start(claimed)
                result.claimed += len(claimed)
                if asked:
                    want_more = len(claimed) == asked
                if delays:
                    result.retries += delays
                    await self.schedule_retry(min(delays))
            if in_flight == 0 and self._arrivals.empty() and (not want_more or not accepting):
                result.cut_short = not accepting and not stopping.is_set()
                return result
            finished, poked = await self._next_arrivals()
            in_flight -= len(finished)
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
            if isinstance(item, Wake):
                poked = poked or self._worth_claiming(item)
            else:
                finished.append(item)
                endpoint = item[0]["endpoint_id"]
                self._busy[endpoint] -= 1
                if not self._busy[endpoint]:
                    del self._busy[endpoint]
            if self._arrivals.empty():
                return finished, poked
            item = self._arrivals.get_nowait()

    async def _settle_and_claim(
        self, finished: list, limit: int
    ) -> tuple[list[asyncpg.Record], list[float]]:
        """Settle the finished attempts, then claim up to `limit` due deliveries (capped per
        endpoint); deliveries whose endpoint was deleted are abandoned, not returned."""
        cap, claimed, delays, statuses = self.settings.webhook_endpoint_concurrency, [], [], []
        async with transaction(self.pool) as conn:
            if finished:
                delays, statuses = await delivery.settle(conn, self.settings, *zip(*finished))
            endpoints = await conn.fetch(
                queries["deliveries.claimable_endpoints"], limit, cap) if limit else []
            if endpoints:
                claimed = await conn.fetch(
                    queries["deliveries.claim"], limit, delivery.lease_seconds(self.settings),
                    cap, [row["workspace_id"] for row in endpoints],
                    [row["id"] for row in endpoints])
            gone = [row for row in claimed if not row["endpoint_enabled"]]
            if gone:  # the endpoint was deleted: nothing is owed to it any more
                await conn.execute(queries["deliveries.abandon"],
                                   [row["workspace_id"] for row in gone],
                                   [row["id"] for row in gone])
        # counted once committed, as the deliveries' rows say
        metrics.record_settled([outcome for _, outcome in finished], statuses, len(gone))
        if claimed:
            log.debug("claimed %d deliveries", len(claimed))
        return claimed, delays

    def _start(self, claimed: list[asyncpg.Record]) -> int:
        """Start an attempt for each claimed delivery whose endpoint is live; how many."""
        live = [row for row in claimed if row["endpoint_enabled"]]
        bodies: dict[str, bytes] = {}
        for row in live:
            body = bodies.get(row["event_id"]) or bodies.setdefault(
                row["event_id"], delivery.event_body(row))
            self._busy[row["endpoint_id"]] += 1
            task = asyncio.create_task(self._attempt(row, body))
            self._tasks.add(task)
            task.add_done_callback(self._tasks.discard)
        return len(live)

    async def _attempt(self, row: asyncpg.Record, body: bytes) -> None:
        outcome = await delivery.post_event(
            self.http, self.settings, row["url"], list(row["secrets"]), row["event_id"], body)
        self._arrivals.put_nowait((row, outcome))
