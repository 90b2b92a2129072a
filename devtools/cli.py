"""`pivotal stack`: the embedded PostgreSQL and Redis of devtools.devstack, from the shell."""

from __future__ import annotations

import json
import shlex
from dataclasses import asdict

import click

from devtools import devstack

name_option = click.option(
    "--name", default="dev", show_default=True, help="Which stack: its data lives in .local/NAME/."
)


@click.group()
def stack() -> None:
    """Local PostgreSQL and Redis for machines without DATABASE_URL / REDIS_URL."""


@stack.command()
@name_option
def up(name: str) -> None:
    """Start both servers (or reuse running ones) and print their urls as JSON."""
    click.echo(json.dumps(asdict(_up(name))))


@stack.command()
@name_option
def env(name: str) -> None:
    """Print `export` lines for the shell: eval "$(pivotal stack env)"."""
    services = _up(name)
    click.echo(f"export DATABASE_URL={shlex.quote(services.database_url)}")
    click.echo(f"export REDIS_URL={shlex.quote(services.redis_url)}")


@stack.command()
@name_option
def down(name: str) -> None:
    """Stop both servers; the data stays for the next `up`."""
    try:
        devstack.down(name)
    except devstack.DevstackError as error:
        raise click.ClickException(str(error)) from None
    click.echo(json.dumps({"stopped": True}))


def _up(name: str) -> devstack.Services:
    # ClickException prints "Error: ..." on stderr and exits 1, the CLI's error contract.
    try:
        return devstack.up(name)
    except devstack.DevstackError as error:
        raise click.ClickException(str(error)) from None


@click.command()
@click.option("--port", default=8000, show_default=True, type=int)
def dev(port: int) -> None:
    """Start the local stack, migrate, create a dev key, and run the API and worker."""
    from devtools.devrun import run_dev

    run_dev(port)
