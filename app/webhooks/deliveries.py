"""Deliveries as the API shows them: an endpoint's deliveries, each with its attempts."""

from __future__ import annotations

import asyncpg

from app.core.db import queries
from app.core.pagination import ListParams, SqlArgs, fetch_page
from app.core.principal import Principal
from app.webhooks.schemas import WebhookAttempt, WebhookDelivery


async def _with_attempts(conn: asyncpg.Connection, principal: Principal,
                         rows: list[asyncpg.Record]) -> list[WebhookDelivery]:
    attempts: dict[str, list[WebhookAttempt]] = {}
    for row in await conn.fetch(queries["deliveries.attempts"], principal.workspace_id,
                                [r["id"] for r in rows]):
        attempts.setdefault(row["delivery_id"], []).append(WebhookAttempt(*tuple(row)[1:]))
    return [WebhookDelivery(*tuple(row)[:-1], attempts.get(row["id"], [])) for row in rows]


async def list_deliveries(
    conn: asyncpg.Connection, principal: Principal, endpoint_id: str, params: ListParams
) -> tuple[list[WebhookDelivery], bool, str | None]:
    """A page of an endpoint's deliveries, each with its attempts."""
    args = SqlArgs(principal.workspace_id, principal.livemode, endpoint_id)
    conditions = ["t.workspace_id = $1", "t.livemode = $2", "t.endpoint_id = $3"]
    rows, has_more = await fetch_page(
        conn, queries["deliveries.select"], "t", conditions, args, params)
    cursor = rows[-1]["cursor"] if rows else None
    return await _with_attempts(conn, principal, rows), has_more, cursor


async def get_deliveries(
    conn: asyncpg.Connection, principal: Principal, delivery_ids: list[str]
) -> list[WebhookDelivery]:
    """These deliveries of the caller's scope, oldest first, each with its attempts."""
    sql = (f"{queries['deliveries.select']} where t.workspace_id = $1 and t.livemode = $2 "
           "and t.id = any($3::text[]) order by t.created_at")
    rows = await conn.fetch(sql, principal.workspace_id, principal.livemode, delivery_ids)
    return await _with_attempts(conn, principal, rows)
