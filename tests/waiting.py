"""Waiting for a condition with a generous timeout, never for a fixed time."""

from __future__ import annotations

import asyncio
import inspect
import time
from collections.abc import Callable

import asyncpg

from worker.main import WORK_FOR_CHANNEL


async def wait_until(predicate: Callable[[], object], timeout: float, what: str) -> None:
    """Until `predicate` (sync or async) holds; fails after `timeout` seconds."""
    deadline = time.monotonic() + timeout
    while True:
        result = predicate()
        if inspect.isawaitable(result):
            result = await result
        if result:
            return
        if time.monotonic() > deadline:
            raise AssertionError(f"timed out after {timeout}s waiting for {what}")
        await asyncio.sleep(0.05)


async def wait_until_listening(database_url: str, workers: int = 1) -> None:
    """Until `workers` worker processes listen for the database's commits: whatever is
    committed from now on wakes them at once."""
    statements = [f'LISTEN "{channel}"' for channel in WORK_FOR_CHANNEL]
    query = ("select count(*) from pg_stat_activity "
             "where datname = current_database() and query = $1")
    conn = await asyncpg.connect(database_url)

    async def listening() -> bool:
        # asyncpg listens on each channel in turn: the last one means all of them
        return await conn.fetchval(query, statements[-1]) >= workers

    try:
        await wait_until(listening, 60, f"{workers} listening worker(s)")
    finally:
        await conn.close()
