"""`pivotal dev` (`make dev`): the whole stack on a developer's machine until Ctrl-C."""

from __future__ import annotations

import asyncio
import json
import os
import signal
import subprocess
import sys
from contextlib import ExitStack
from pathlib import Path

import asyncpg

from app.ops.migrations import migrate
from app.workspaces.repo import (
    WorkspaceError,
    create_key,
    create_workspace,
    find_workspace,
    hash_key,
)
from devtools import devstack

WORKSPACE_NAME = "development"


def _key_file() -> Path:
    return devstack.project_root() / ".local" / "dev_key.json"


async def _development_key(database_url: str) -> str:
    """The development workspace's test key: the saved one while it is valid, else a new one.

    Keys are stored only as hashes, so the key is kept in the git-ignored .local/ folder to
    be shown again on the next run.
    """
    conn = await asyncpg.connect(database_url)
    try:
        saved = _saved_key(database_url)
        if saved and await conn.fetchval(
            "select 1 from api_keys where key_hash = $1 and revoked_at is null", hash_key(saved)
        ):
            return saved
        try:
            workspace = await find_workspace(conn, WORKSPACE_NAME)
        except WorkspaceError:
            workspace = await create_workspace(conn, WORKSPACE_NAME)
        key = (await create_key(conn, workspace["id"], livemode=False))["key"]
    finally:
        await conn.close()
    _key_file().parent.mkdir(parents=True, exist_ok=True)
    _key_file().write_text(json.dumps({"database_url": database_url, "key": key}))
    return key


def _saved_key(database_url: str) -> str | None:
    try:
        saved = json.loads(_key_file().read_text())
    except (OSError, ValueError):
        return None
    return saved.get("key") if saved.get("database_url") == database_url else None


def _banner(key: str, port: int) -> str:
    base = f"http://127.0.0.1:{port}/api/v1"
    return f"""
Pivotal is running: {base}  (reference: {base}/docs)
Test key: {key}

  curl -s {base}/customers \\
    -H "Authorization: Bearer {key}" \\
    -H "Content-Type: application/json" \\
    -d '{{"name": "Acme", "domain": "acme.com"}}'

The webhook worker runs beside the API.
Ctrl-C stops the API, the worker and the services this command started.
"""


def run_dev(port: int) -> None:
    """Start services (unless configured), migrate, print a key and a curl, serve until Ctrl-C."""
    with ExitStack() as stack:
        database_url, redis_url = os.environ.get("DATABASE_URL"), os.environ.get("REDIS_URL")
        if not (database_url and redis_url):
            services = stack.enter_context(devstack.local_services("dev"))
            database_url = database_url or services.database_url
            redis_url = redis_url or services.redis_url
        migrate(database_url)
        key = asyncio.run(_development_key(database_url))
        env = dict(os.environ, DATABASE_URL=database_url, REDIS_URL=redis_url)
        env.setdefault("PIVOTAL_ENV", "development")
        print(_banner(key, port), flush=True)
        _run_until_interrupted(
            [
                [sys.executable, "-m", "app.ops.cli", "serve", "--port", str(port)],
                [sys.executable, "-m", "app.ops.cli", "worker"],
            ],
            env,
        )


def _interrupt(signum: int, frame: object) -> None:
    raise KeyboardInterrupt


def _run_until_interrupted(commands: list[list[str]], env: dict[str, str]) -> None:
    # SIGTERM (a closing terminal, a supervisor) stops everything as cleanly as Ctrl-C does;
    # SIGINT is set explicitly because a shell starts background jobs with it ignored
    signal.signal(signal.SIGTERM, _interrupt)
    signal.signal(signal.SIGINT, _interrupt)
    processes = [subprocess.Popen(command, env=env) for command in commands]
    try:
        while all(process.poll() is None for process in processes):
            try:
                processes[0].wait(timeout=0.5)
            except subprocess.TimeoutExpired:
                continue
    except KeyboardInterrupt:
        pass
    finally:
        for process in processes:
            if process.poll() is None:
                process.send_signal(signal.SIGTERM)
        for process in processes:
            try:
                process.wait(timeout=25)
            except subprocess.TimeoutExpired:
                process.kill()
