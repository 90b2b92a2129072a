"""Inserts per second into ONE workspace: the real create path (sequence-based display_id)
against the same transaction with a counter row locked until commit.

    .venv/bin/python -m bench.display_ids [seconds] [connections]

Uses DATABASE_URL's server (or the local stack) and a scratch database it drops afterwards.
"""

from __future__ import annotations

import asyncio
import secrets
import sys
import time

import asyncpg

from app.core.db import init_connection
from app.core.principal import Principal
from app.customers.resource import customers
from app.customers.schemas import CustomerCreate
from app.ops.migrations import migrate
from app.resources import writes
from app.settings import Settings
from app.workspaces.repo import create_workspace

COUNTER_DDL = "create table if not exists bench_counters (name text primary key, n bigint)"


async def _insert_loop(pool, principal, deadline: float, counter: bool) -> int:
    done = 0
    while time.monotonic() < deadline:
        async with pool.acquire() as conn, conn.transaction():
            if counter:
                # the alternative design: a counter row that stays locked until commit
                await conn.fetchval(
                    "update bench_counters set n = n + 1 where name = 'c' returning n"
                )
            await writes.create_object(conn, customers, principal, CustomerCreate(name="x"))
        done += 1
    return done


async def _rate(pool, principal, seconds: float, connections: int, counter: bool) -> float:
    deadline = time.monotonic() + seconds
    counts = await asyncio.gather(
        *(_insert_loop(pool, principal, deadline, counter) for _ in range(connections))
    )
    return sum(counts) / seconds


async def main(seconds: float, connections: int) -> None:
    server = Settings.from_env().database_url
    name = f"bench_ids_{secrets.token_hex(3)}"
    admin = await asyncpg.connect(server)
    await admin.execute(f'create database "{name}"')
    url = server.rsplit("/", 1)[0] + "/" + name
    try:
        migrate(url)
        pool = await asyncpg.create_pool(url, min_size=connections, max_size=connections,
                                         init=init_connection)
        async with pool.acquire() as conn:
            workspace = await create_workspace(conn, "bench")
            await conn.execute(COUNTER_DDL)
            await conn.execute("insert into bench_counters values ('c', 0)")
        principal = Principal("bench", workspace["id"], True)
        for round_ in range(3):
            sequence = await _rate(pool, principal, seconds, connections, counter=False)
            counter = await _rate(pool, principal, seconds, connections, counter=True)
            print(f"round {round_ + 1}: sequence {sequence:,.0f}/s  counter row {counter:,.0f}/s"
                  f"  ratio {sequence / counter:.2f}")
        await pool.close()
    finally:
        await admin.execute(f'drop database "{name}" with (force)')
        await admin.close()


if __name__ == "__main__":
    args = sys.argv[1:]
    asyncio.run(main(float(args[0]) if args else 5.0, int(args[1]) if len(args) > 1 else 16))
