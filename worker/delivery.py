"""One delivery attempt: claim it, POST the signed event, record what happened."""

from __future__ import annotations

import asyncio
import logging
import random
import time
from dataclasses import dataclass
from email.utils import parsedate_to_datetime

import asyncpg
import httpx

from app.db import queries
from app.events.schemas import Event
from app.responses import encode
from app.settings import Settings
from app.webhooks import signing, urls

log = logging.getLogger("pivotal.webhooks")
RESPONSE_KEEP_BYTES = 1024
MAX_RETRY_AFTER_SECONDS = 24 * 3600
LEASE_MARGIN_SECONDS = 5


@dataclass
class Outcome:
    """What one attempt produced."""

    status_code: int | None
    latency_ms: int
    error: str | None = None
    response_body: str | None = None
    retry_after: float | None = None

    @property
    def succeeded(self) -> bool:
        return self.status_code is not None and 200 <= self.status_code < 300


def lease_seconds(settings: Settings) -> float:
    """How long a claim lasts: well past any attempt (timeout plus database work), so only a
    crashed worker lets it lapse, after which the sweep hands the delivery to another."""
    return settings.webhook_timeout * 2 + LEASE_MARGIN_SECONDS


def retry_delay(settings: Settings, attempts_made: int, outcome: Outcome) -> float | None:
    """Seconds until the next attempt, or None when the schedule is exhausted.

    The schedule is the configured delays with ±20% jitter, so a receiver that comes back
    is not hit by every owed delivery at the same instant; a Retry-After is honoured.
    """
    schedule = settings.webhook_retry_schedule
    if attempts_made > len(schedule):
        return None
    delay = schedule[attempts_made - 1] * random.uniform(0.8, 1.2)
    if outcome.retry_after is not None:
        delay = max(delay, min(outcome.retry_after, MAX_RETRY_AFTER_SECONDS))
    return delay


def _retry_after(header: str | None) -> float | None:
    if not header:
        return None
    if header.strip().isdigit():
        return float(header.strip())
    try:
        return max(0.0, parsedate_to_datetime(header).timestamp() - time.time())
    except (TypeError, ValueError):
        return None


async def _read_capped(response: httpx.Response) -> str:
    body = b""
    async for chunk in response.aiter_bytes():
        body += chunk
        if len(body) >= RESPONSE_KEEP_BYTES:
            break
    return body[:RESPONSE_KEEP_BYTES].decode("utf-8", "replace")


async def post_event(
    http: httpx.AsyncClient, settings: Settings, url: str, secret: str, event_id: str, body: bytes
) -> Outcome:
    """POST the exact bytes, signed per Standard Webhooks; redirects are not followed."""
    timestamp = int(time.time())
    headers = {
        "content-type": "application/json",
        "webhook-id": event_id,
        "webhook-timestamp": str(timestamp),
        "webhook-signature": signing.sign(secret, event_id, timestamp, body),
        "user-agent": "Pivotal-Webhooks/1",
    }
    started = time.monotonic()
    try:
        await urls.check_url(url, settings.production)
        async with asyncio.timeout(settings.webhook_timeout):
            async with http.stream("POST", url, content=body, headers=headers) as response:
                text = await _read_capped(response)
    except urls.UnsafeUrl as exc:
        return Outcome(None, _ms(started), f"refused: {exc}")
    except (httpx.HTTPError, TimeoutError, OSError) as exc:
        return Outcome(None, _ms(started), f"{type(exc).__name__}: {exc}"[:500] or "error")
    error = None if 200 <= response.status_code < 300 else f"HTTP {response.status_code}"
    return Outcome(
        response.status_code, _ms(started), error, text,
        _retry_after(response.headers.get("retry-after")),
    )


def _ms(started: float) -> int:
    return int((time.monotonic() - started) * 1000)


async def event_body(conn: asyncpg.Connection, event_id: str) -> bytes:
    row = await conn.fetchrow(f"{queries['events.select']} where e.id = $1", event_id)
    return encode(Event.from_row(row))


async def attempt(
    pool: asyncpg.Pool, http: httpx.AsyncClient, settings: Settings, delivery_id: str
) -> tuple[str, float | None] | None:
    """Make one attempt at a delivery if it is due and unclaimed.

    Returns (status, seconds until the next attempt) once settled or rescheduled, None when
    there was nothing to do (already delivered, not yet due, or another worker holds it).
    """
    claimed = await pool.fetchrow(queries["deliveries.claim"], delivery_id, lease_seconds(settings))
    if claimed is None:
        return None
    if not claimed["endpoint_enabled"]:
        await pool.execute(queries["deliveries.abandon"], delivery_id)
        return "failed", None
    body = await event_body(pool, claimed["event_id"])
    outcome = await post_event(http, settings, claimed["url"], claimed["secret"],
                               claimed["event_id"], body)
    return await settle(pool, settings, delivery_id, claimed["attempt_count"] + 1, outcome)


async def settle(
    pool: asyncpg.Pool, settings: Settings, delivery_id: str, attempts_made: int, outcome: Outcome
) -> tuple[str, float | None]:
    """Record the attempt and the delivery's new state in one statement."""
    delay = None if outcome.succeeded else retry_delay(settings, attempts_made, outcome)
    status = "succeeded" if outcome.succeeded else ("pending" if delay is not None else "failed")
    if outcome.status_code == 410:
        status, delay = "failed", None
    async with pool.acquire() as conn, conn.transaction():
        await conn.execute(
            queries["deliveries.record_attempt"], delivery_id, outcome.status_code,
            outcome.latency_ms, outcome.error, status, delay or 0.0, outcome.response_body,
        )
        if outcome.status_code == 410:
            await conn.execute(queries["deliveries.disable_endpoint"], delivery_id)
    log.info("delivery %s attempt %d: %s %s", delivery_id, attempts_made,
             outcome.status_code or outcome.error, status)
    return status, delay
