"""What the soak and the webhook scenario share: a scratch database with one live key, and
helper processes whose output goes to bench/out/."""

from __future__ import annotations

import subprocess

import asyncpg

from app.migrations import migrate
from app.workspaces.repo import create_key, create_workspace
from bench.config import OUT_DIR, ROOT
from bench.stack import Server, _admin, with_database


async def fresh_database(server_url: str, name: str) -> tuple[str, str]:
    """Database `name` dropped and created again, migrated, with one workspace and its live
    key; returns (database url, key)."""
    await _admin(server_url, f'drop database if exists "{name}" with (force)')
    await _admin(server_url, f'create database "{name}"')
    database_url = with_database(server_url, name)
    migrate(database_url)
    conn = await asyncpg.connect(database_url)
    try:
        workspace = await create_workspace(conn, name)
        key = await create_key(conn, workspace["id"], livemode=True)
    finally:
        await conn.close()
    return database_url, key["key"]


async def drop_database(server_url: str, name: str) -> None:
    await _admin(server_url, f'drop database if exists "{name}" with (force)')


def spawn(name: str, argv: list[str], env: dict[str, str]) -> Server:
    """A helper process in its own session (stop it with bench.stack.stop_server)."""
    OUT_DIR.mkdir(parents=True, exist_ok=True)
    log = OUT_DIR / f"{name}.log"
    with open(log, "wb") as output:
        process = subprocess.Popen(argv, env=env, cwd=ROOT, stdout=output,
                                   stderr=subprocess.STDOUT, start_new_session=True)
    return Server(name, process, 0, log)
