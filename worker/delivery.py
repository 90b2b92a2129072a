"""One delivery attempt: claim it, POST the signed event, record what happened."""

from __future__ import annotations

import asyncio
import logging
import random
import ssl
import time
from dataclasses import dataclass
from email.utils import parsedate_to_datetime
from urllib.parse import urlsplit

import aiohttp
import asyncpg
import msgspec

from app.core.db import queries
from app.core.principal import Principal
from app.core.validation import ascii_int
from app.events.repo import append_event
from app.events.schemas import Event
from app.http.responses import encode
from app.resources import repo
from app.settings import Settings
from app.webhooks import signing, urls
from app.webhooks.resource import webhook_endpoints
from worker.resolver import check_literal_host

log = logging.getLogger("pivotal.webhooks")
RESPONSE_KEEP_BYTES = 1024
MAX_RETRY_AFTER_SECONDS = 24 * 3600
LEASE_MARGIN_SECONDS = 5
# what an attempt without an HTTP answer records as its error (one answered non-2xx records
# "HTTP <status>")
CONNECTION_FAILED, TLS_ERROR, TIMEOUT = "connection_failed", "tls_error", "timeout"
URL_REFUSED = "url_refused"  # the URL failed the public-address check at delivery time


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

    @property
    def kind(self) -> str:
        """success, http_error (any other answer), or the category of no answer."""
        if self.succeeded:
            return "success"
        return "http_error" if self.status_code is not None else self.error or CONNECTION_FAILED


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
    if (seconds := ascii_int(header)) is not None:
        return float(seconds)
    try:
        return max(0.0, parsedate_to_datetime(header).timestamp() - time.time())
    except (TypeError, ValueError):
        return None


async def _read_capped(response: aiohttp.ClientResponse) -> str:
    body = b""
    while len(body) < RESPONSE_KEEP_BYTES:
        chunk = await response.content.read(RESPONSE_KEEP_BYTES - len(body))
        if not chunk:
            break
        body += chunk
    return body.decode("utf-8", "replace")


async def post_event(
    http: aiohttp.ClientSession, settings: Settings, url: str, secrets: list[str], event_id: str,
    body: bytes,
) -> Outcome:
    """POST the exact bytes, signed per Standard Webhooks with every live secret; redirects
    are not followed. In production the connection goes only to addresses that passed the
    public-address check (worker/resolver.py).

    The caller holds one of the worker's HTTP slots, so the timeout measures the receiver,
    never a wait for a free connection."""
    timestamp = int(time.time())
    headers = {
        "content-type": "application/json",
        "webhook-id": event_id,
        "webhook-timestamp": str(timestamp),
        "webhook-signature": signing.signature_header(secrets, event_id, timestamp, body),
        "user-agent": "Pivotal-Webhooks/1",
    }
    started = time.monotonic()
    try:
        check_literal_host(url, settings)
        async with asyncio.timeout(settings.webhook_timeout):
            async with http.post(url, data=body, headers=headers, allow_redirects=False) as response:
                text = await _read_capped(response)
    except urls.UnsafeUrl as exc:
        log.warning("event %s not sent to %s: %s", event_id, _host(url), exc)
        return Outcome(None, _ms(started), URL_REFUSED)
    except (aiohttp.ClientError, TimeoutError, OSError) as exc:
        category = failure_category(exc)
        log.warning("event %s to %s: %s (%r)", event_id, _host(url), category, exc)
        return Outcome(None, _ms(started), category)
    error = None if 200 <= response.status < 300 else f"HTTP {response.status}"
    return Outcome(
        response.status, _ms(started), error, text,
        _retry_after(response.headers.get("retry-after")),
    )


def failure_category(exc: BaseException) -> str:
    """What a failed attempt records for the tenant to see: a category, never the text of
    the exception (addresses, resolver and TLS details stay in the server's log)."""
    if isinstance(exc, TimeoutError):
        return TIMEOUT
    if isinstance(exc, aiohttp.ClientSSLError | ssl.SSLError):
        return TLS_ERROR
    return CONNECTION_FAILED


def _host(url: str) -> str:
    return urlsplit(url).netloc


def _ms(started: float) -> int:
    return int((time.monotonic() - started) * 1000)


def event_body(row: asyncpg.Record) -> bytes:
    """The event exactly as the feed serves it: the bytes that are signed and sent."""
    fields = (row["object"], row["event_id"], row["display_id"], row["type"], row["livemode"],
              row["created_at"], msgspec.Raw(row["data"].encode()))
    return encode(Event(*fields))


def _next_state(settings: Settings, attempts_made: int, outcome: Outcome) -> tuple[str, float | None]:
    """The delivery's status after this attempt, and the seconds until the next one.

    `attempts_made` counts this attempt in the current schedule (a recovered delivery starts
    the schedule again)."""
    if outcome.succeeded:
        return "succeeded", None
    if outcome.status_code == 410:
        return "failed", None
    delay = retry_delay(settings, attempts_made, outcome)
    return ("pending", delay) if delay is not None else ("failed", None)


async def settle(
    conn: asyncpg.Connection, settings: Settings, rows: list[asyncpg.Record],
    outcomes: list[Outcome],
) -> tuple[list[float], list[str]]:
    """Record a batch of attempts and each delivery's new state in one statement, track each
    endpoint's health, and disable (with a webhook_endpoint.disabled event) endpoints that
    answered 410 or have failed for too long, in the caller's transaction; returns the retry
    delays it scheduled and each delivery's new status."""
    columns: list[list] = [[], [], [], [], [], [], [], []]
    delays, statuses, gone = [], [], []
    for row, outcome in zip(rows, outcomes, strict=True):
        status, delay = _next_state(settings, row["attempt_count"] + 1 - row["retry_base"], outcome)
        values = (row["workspace_id"], row["id"], outcome.status_code, outcome.latency_ms,
                  outcome.error, outcome.response_body, status, delay or 0.0)
        for column, value in zip(columns, values, strict=True):
            column.append(value)
        statuses.append(status)
        if delay is not None:
            delays.append(delay)
        if outcome.status_code == 410:
            gone.append(row)
        log.info("delivery %s attempt %d: %s %s", row["id"], row["attempt_count"] + 1,
                 outcome.status_code or outcome.error, status)
    endpoints = [[row["workspace_id"] for row in rows], [row["endpoint_id"] for row in rows]]
    succeeded = [outcome.succeeded for outcome in outcomes]
    health = await conn.fetch(queries["deliveries.settle_attempts"], *columns, *endpoints,
                              succeeded, settings.webhook_disable_after)
    disabled = [row for row in health if row["disable"]]
    if gone:
        disabled += await conn.fetch(queries["deliveries.disable_endpoints"],
                                     [row["workspace_id"] for row in gone],
                                     [row["endpoint_id"] for row in gone])
    for row in disabled:
        await announce_disabled(conn, row)
    return delays, statuses


async def announce_disabled(conn: asyncpg.Connection, row: asyncpg.Record) -> None:
    """Record webhook_endpoint.disabled in the feed (and for the endpoints that want it)."""
    principal = Principal("worker", row["workspace_id"], row["livemode"])
    endpoint = webhook_endpoints.render(
        await repo.fetch(conn, webhook_endpoints, principal, row["id"]))
    log.warning("webhook endpoint %s disabled", endpoint.id)
    await append_event(conn, principal, "webhook_endpoint.disabled", endpoint)
