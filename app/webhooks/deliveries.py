"""Deliveries: what is owed to which endpoint, recorded in PostgreSQL.

PostgreSQL, not Redis, is the record of what is still owed: the relay turns each event into
one delivery row per matching endpoint in the same transaction that marks the event done,
and a delivery is settled only by recording its attempt.
"""

from __future__ import annotations

from functools import lru_cache
from typing import Any

import asyncpg

from app.auth import Principal
from app.crud import keyset_sql
from app.db import queries
from app.ids import new_id
from app.requests import ListParams
from app.webhooks.schemas import WebhookAttempt, WebhookDelivery

INSERT_ATTEMPTS = 8


async def record_deliveries(
    conn: asyncpg.Connection, matches: list[asyncpg.Record], redelivery: bool = False
) -> list[str]:
    """Insert one delivery per (event, endpoint) match; returns the new delivery ids.

    created_at is unique per endpoint (the list cursor); rows that land on a taken
    microsecond insert nothing and are inserted again with a fresh timestamp.
    """
    pending = [(new_id(), m["workspace_id"], m["livemode"], m["event_id"], m["endpoint_id"])
               for m in matches]
    inserted: list[str] = []
    for _ in range(INSERT_ATTEMPTS):
        if not pending:
            return inserted
        rows = await conn.fetch(
            queries["deliveries.insert_deliveries"], *map(list, zip(*pending, strict=True)),
            redelivery,
        )
        done = {row["id"] for row in rows}
        inserted += done
        pending = [(new_id(), *row[1:]) for row in pending if row[0] not in done]
    raise RuntimeError("could not find free created_at values for new deliveries")


async def fan_out(conn: asyncpg.Connection, batch: int) -> tuple[int, list[str]]:
    """Claim up to `batch` events not yet fanned out and record their deliveries.

    Returns how many events were claimed and the new delivery ids.
    """
    events = await conn.fetch(queries["deliveries.claim_events"], batch)
    if not events:
        return 0, []
    event_ids = [event["id"] for event in events]
    matches = await conn.fetch(queries["deliveries.matching_endpoints"], event_ids, True)
    delivery_ids = await record_deliveries(conn, matches)
    await conn.execute(queries["deliveries.mark_fanned_out"], event_ids)
    return len(events), delivery_ids


async def redeliver(conn: asyncpg.Connection, event_id: str) -> list[str]:
    """Fresh deliveries of one event to every endpoint that matches it now."""
    matches = await conn.fetch(queries["deliveries.matching_endpoints"], [event_id], False)
    delivery_ids = await record_deliveries(conn, matches, redelivery=True)
    if delivery_ids:
        await conn.execute("select pg_notify('pivotal_deliveries', '')")
    return delivery_ids


@lru_cache(maxsize=8)
def _list_sql(cursor: bool, descending: bool, by_ids: bool) -> str:
    key = "t.id = any($3::text[])" if by_ids else "t.endpoint_id = $3"
    conditions = ["t.workspace_id = $1", "t.livemode = $2", key]
    return keyset_sql(queries["deliveries.select"], "t", conditions, 3, cursor, descending)


async def _with_attempts(conn: asyncpg.Connection, rows: list[asyncpg.Record]) -> list[WebhookDelivery]:
    attempts: dict[str, list[WebhookAttempt]] = {}
    for row in await conn.fetch(queries["deliveries.attempts"], [r["id"] for r in rows]):
        attempts.setdefault(row["delivery_id"], []).append(WebhookAttempt(*tuple(row)[1:]))
    return [WebhookDelivery(*tuple(row)[:-1], attempts.get(row["id"], [])) for row in rows]


async def list_deliveries(
    conn: asyncpg.Connection, principal: Principal, endpoint_id: str, params: ListParams
) -> tuple[list[WebhookDelivery], bool, str | None]:
    """A page of an endpoint's deliveries, each with its attempts."""
    args: list[Any] = [principal.workspace_id, principal.livemode, endpoint_id]
    if params.cursor is not None:
        args.append(params.cursor)
    args.append(params.limit + 1)
    rows = await conn.fetch(_list_sql(params.cursor is not None, params.descending, False), *args)
    has_more = len(rows) > params.limit
    rows = rows[: params.limit]
    cursor = rows[-1]["cursor"] if rows else None
    return await _with_attempts(conn, rows), has_more, cursor


async def get_deliveries(
    conn: asyncpg.Connection, principal: Principal, delivery_ids: list[str]
) -> list[WebhookDelivery]:
    sql = _list_sql(False, False, True)
    rows = await conn.fetch(sql, principal.workspace_id, principal.livemode, delivery_ids, 100)
    return await _with_attempts(conn, rows)
