"""What the soak and the webhook scenario share: a scratch database with one live key."""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from typing import Any

import asyncpg

from app.workspaces.repo import create_key, create_workspace
from bench.stack import drop_database, recreate_database, services


async def fresh_database(server_url: str, name: str) -> tuple[str, str]:
    """Database `name` dropped and created again, migrated, with one workspace and its live
    key; returns (database url, key)."""
    database_url = await recreate_database(server_url, name)
    conn = await asyncpg.connect(database_url)
    try:
        workspace = await create_workspace(conn, name)
        key = await create_key(conn, workspace["id"], livemode=True)
    finally:
        await conn.close()
    return database_url, key["key"]


async def on_scratch_database(name: str, run: Callable[[str, str, str], Awaitable[Any]]
                              ) -> tuple[Any, str]:
    """`run(database_url, redis_url, key)` on database `name`, made afresh by fresh_database on
    the bench's services and dropped afterwards; its result, and where the services came from."""
    with services() as (found, source):
        database_url, key = await fresh_database(found.database_url, name)
        try:
            return await run(database_url, found.redis_url, key), source
        finally:
            await drop_database(found.database_url, name)
