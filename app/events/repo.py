"""The outbox: events appended in the writing transaction, and the change feed over them."""

from __future__ import annotations

from typing import Any

import asyncpg
import msgspec

from app.core.db import APPLICATION_NAME, queries
from app.core.errors import not_found
from app.core.ids import new_id, parse_reference
from app.core.pagination import ListParams, SqlArgs, fetch_page
from app.core.principal import Principal
from app.events.schemas import EventData
from app.events.wakeups import wake_worker_after_commit

INSERT_ATTEMPTS = 8


async def append_event(
    conn: asyncpg.Connection,
    principal: Principal,
    event_type: str,
    obj: msgspec.Struct,
    previous_attributes: dict[str, Any] | None = None,
) -> str:
    """Append `event_type` for `obj` (as it is after the change) to the outbox.

    `conn` must come from app.core.db.create_pool: the feed's horizon only waits for the open
    transactions of connections named APPLICATION_NAME. Inside app.core.db.transaction, the
    webhook worker is woken once it has committed (else its sweep finds the event).
    """
    data = EventData(obj, previous_attributes)
    wake_worker_after_commit()
    for _ in range(INSERT_ATTEMPTS):
        event_id = await conn.fetchval(
            queries["events.insert"],
            new_id(),
            principal.workspace_id,
            principal.livemode,
            event_type,
            obj.id,
            data,
        )
        if event_id is not None:
            return event_id
    raise RuntimeError("could not find a free created_at for a new event")


async def append_events(
    conn: asyncpg.Connection,
    principal: Principal,
    events: list[tuple[str, msgspec.Struct, dict[str, Any] | None]],
) -> None:
    """Append (event type, object, previous attributes) events in one statement, in order."""
    scope = {"workspace_id": principal.workspace_id, "livemode": principal.livemode}
    rows = [{"id": new_id(), "type": kind, "object_id": obj.id, "data": EventData(obj, previous)}
            for kind, obj, previous in events]
    wake_worker_after_commit()
    for _ in range(INSERT_ATTEMPTS):
        if not rows:
            return
        arrays = {column: [row[column] for row in rows]
                  for column in ("id", "type", "object_id", "data")}
        sql = queries["events.insert_many"]
        done = {r["id"] for r in await conn.fetch(
            sql, *queries.arguments("events.insert_many", {**scope, **arrays}))}
        # the rare event that landed on a taken microsecond goes again, a moment later
        rows = [{**row, "id": new_id()} for row in rows if row["id"] not in done]
    raise RuntimeError("could not find free created_at values for new events")


async def get_event(conn: asyncpg.Connection, principal: Principal, reference: str) -> asyncpg.Record:
    key = parse_reference(reference)
    row = None
    if key is not None:
        column = "display_id" if isinstance(key, int) else "id"
        row = await conn.fetchrow(
            f"{queries['events.select']} where e.workspace_id = $1 and e.livemode = $2 "
            f"and e.{column} = $3",
            principal.workspace_id,
            principal.livemode,
            key,
        )
    if row is None:
        raise not_found("event", reference)
    return row


async def list_events(
    conn: asyncpg.Connection, principal: Principal, params: ListParams, type_filter: str | None
) -> tuple[list[asyncpg.Record], bool]:
    """A page of the change feed; ascending pages stop at the commit horizon."""
    args = SqlArgs(principal.workspace_id, principal.livemode)
    conditions = ["e.workspace_id = $1", "e.livemode = $2"]
    if type_filter is not None and type_filter.endswith(".*"):
        conditions.append(f"e.type like {args.add(type_filter[:-1] + '%')}")
    elif type_filter is not None:
        conditions.append(f"e.type = {args.add(type_filter)}")
    if not params.descending:
        # a tailing reader must never pass an event that an open transaction may still commit
        horizon = await conn.fetchval(queries["events.horizon"], APPLICATION_NAME)
        conditions.append(f"e.created_at < {args.add(horizon)}")
    return await fetch_page(conn, queries["events.select"], "e", conditions, args, params)
