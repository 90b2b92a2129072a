"""The outbox: events appended in the writing transaction, and the change feed over them."""

from __future__ import annotations

from functools import lru_cache
from typing import Any

import asyncpg
import msgspec

from app.auth import Principal
from app.crud import keyset_sql
from app.db import APPLICATION_NAME, queries
from app.errors import not_found
from app.events.schemas import EventData
from app.ids import new_id, parse_reference
from app.requests import ListParams

INSERT_ATTEMPTS = 8


async def append_event(
    conn: asyncpg.Connection,
    principal: Principal,
    event_type: str,
    obj: msgspec.Struct,
    previous_attributes: dict[str, Any] | None = None,
) -> str:
    """Append `event_type` for `obj` (as it is after the change) to the outbox."""
    data = EventData(obj, previous_attributes)
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


@lru_cache(maxsize=64)
def _list_sql(type_filter: str | None, cursor: bool, descending: bool) -> str:
    conditions = ["e.workspace_id = $1", "e.livemode = $2"]
    if type_filter is not None:
        operator = "like" if type_filter == "prefix" else "="
        conditions.append(f"e.type {operator} ${len(conditions) + 1}")
    if not descending:
        # a tailing reader must never pass an event that an open transaction may still commit
        conditions.append(f"e.created_at < ${len(conditions) + 1}")
    return keyset_sql(queries["events.select"], "e", conditions, len(conditions), cursor,
                      descending)


async def list_events(
    conn: asyncpg.Connection, principal: Principal, params: ListParams, type_filter: str | None
) -> tuple[list[asyncpg.Record], bool]:
    """A page of the change feed; ascending pages stop at the commit horizon."""
    args: list[Any] = [principal.workspace_id, principal.livemode]
    kind = None
    if type_filter is not None:
        kind = "prefix" if type_filter.endswith(".*") else "exact"
        args.append(type_filter[:-1] + "%" if kind == "prefix" else type_filter)
    if not params.descending:
        args.append(await conn.fetchval(queries["events.horizon"], APPLICATION_NAME))
    if params.cursor is not None:
        args.append(params.cursor)
    args.append(params.limit + 1)
    rows = await conn.fetch(_list_sql(kind, params.cursor is not None, params.descending), *args)
    return rows[: params.limit], len(rows) > params.limit
