"""Fan-out: what is owed to which endpoint, recorded in PostgreSQL (the worker's side).

PostgreSQL, not Redis, is the record of what is still owed: the relay turns each event into
one delivery row per matching endpoint in the same transaction that marks the event done,
and a delivery is settled only by recording its attempt (worker/delivery.py).
"""

from __future__ import annotations

from dataclasses import dataclass

import asyncpg

from app.core.db import queries
from app.core.ids import new_id
from app.registry import SUBJECT_ONLY_EVENT_TYPES

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


@dataclass(frozen=True)
class FanOut:
    """What one fan-out did: events claimed, deliveries recorded, and their endpoints."""

    events: int
    deliveries: int
    endpoints: frozenset[str]


async def fan_out(conn: asyncpg.Connection, batch: int) -> FanOut:
    """Claim up to `batch` events not yet fanned out and record their deliveries."""
    events = await conn.fetch(queries["deliveries.claim_events"], batch)
    if not events:
        return FanOut(0, 0, frozenset())
    keys = [[event["workspace_id"] for event in events], [event["id"] for event in events]]
    matches = await conn.fetch(queries["deliveries.matching_endpoints"], *keys, True,
                              list(SUBJECT_ONLY_EVENT_TYPES))
    delivery_ids = await record_deliveries(conn, matches)
    await conn.execute(queries["deliveries.mark_fanned_out"], *keys)
    return FanOut(len(events), len(delivery_ids), frozenset(m["endpoint_id"] for m in matches))


async def redeliver(conn: asyncpg.Connection, workspace_id: str, event_id: str) -> list[str]:
    """Fresh deliveries of one event to every endpoint that matches it now."""
    matches = await conn.fetch(queries["deliveries.matching_endpoints"], [workspace_id],
                              [event_id], False, list(SUBJECT_ONLY_EVENT_TYPES))
    delivery_ids = await record_deliveries(conn, matches, redelivery=True)
    if delivery_ids:
        await conn.execute("select pg_notify('pivotal_deliveries', '')")
    return delivery_ids
