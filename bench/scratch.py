"""What the soak and the webhook scenario share: a scratch database with one live key."""

from __future__ import annotations

import asyncpg

from app.workspaces.repo import create_key, create_workspace
from bench.stack import recreate_database


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
