"""What the soak and the scenarios run on their own share: a scratch database with one live
key, and a report of what ran on it."""

from __future__ import annotations

import asyncio
import os
from collections.abc import Awaitable, Callable
from pathlib import Path
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


def run_and_report(name: str, run: Callable[[str, str, str], Awaitable[Any]],
                   report: Callable[[Any, str], str], results: Path) -> None:
    """`run` on scratch database `name` (on_scratch_database); `report(result, where)`, where
    names the services, the cores and the load average at the start, is written to `results`
    and printed."""
    load = os.getloadavg()[0]
    result, source = asyncio.run(on_scratch_database(name, run))
    text = report(result, f"{source}; {os.cpu_count()} cores, load average {load:.1f} at the start")
    results.write_text(text)
    print(text)
