"""The embedded PostgreSQL and Redis that `make dev` and `make test` use on a fresh machine.

Real servers, started under `.local/devstack-test/`; nothing is mocked.
"""

from __future__ import annotations

import asyncio
import os
import signal
import socket
import time
from collections.abc import Iterator

import asyncpg
import psutil
import pytest
import redis

from devtools import devstack

pytestmark = pytest.mark.skipif(
    os.environ.get("PIVOTAL_SKIP_DEVSTACK_TESTS") == "1",
    reason="PIVOTAL_SKIP_DEVSTACK_TESTS=1",
)

NAME = "devstack-test"


@pytest.fixture
def stack() -> Iterator[str]:
    """A stack name whose servers are stopped before and after the test, whatever happens."""
    devstack.down(NAME)
    try:
        yield NAME
    finally:
        devstack.down(NAME)


def answers(services: devstack.Services) -> bool:
    """Both servers take a real query: `select 1` in the pivotal database, and a PING."""

    async def select_one() -> int:
        conn = await asyncpg.connect(services.database_url, timeout=5)
        try:
            return await conn.fetchval("select 1")
        finally:
            await conn.close()

    client = redis.Redis.from_url(services.redis_url, socket_timeout=5)
    try:
        return asyncio.run(select_one()) == 1 and client.ping() is True
    finally:
        client.close()


def pids() -> tuple[int, int]:
    """The postmaster's and redis-server's pids, from the pid files the servers write."""
    folder = devstack.project_root() / ".local" / NAME
    postmaster = int((folder / "pg" / "postmaster.pid").read_text().split()[0])
    return postmaster, int((folder / "redis" / "redis.pid").read_text().split()[0])


def port_of(url: str) -> int:
    return int(url.rsplit(":", 1)[1].split("/")[0])


def refuses_connections(port: int) -> bool:
    try:
        socket.create_connection(("127.0.0.1", port), timeout=1).close()
    except OSError:
        return True
    return False


def wait_dead(pid: int) -> None:
    deadline = time.monotonic() + 10
    while psutil.pid_exists(pid) and psutil.Process(pid).status() != psutil.STATUS_ZOMBIE:
        assert time.monotonic() < deadline, f"pid {pid} still alive"
        time.sleep(0.05)


def test_up_twice_reuses_the_running_servers_on_the_same_ports(stack: str) -> None:
    first = devstack.up(stack)
    second = devstack.up(stack)

    assert second == first
    assert first.database_url.startswith("postgresql://postgres@127.0.0.1:")
    assert first.database_url.endswith("/pivotal")
    assert first.redis_url.startswith("redis://127.0.0.1:")
    assert answers(second)
    assert devstack.running(stack) == first


def test_up_restarts_servers_killed_with_sigkill(stack: str) -> None:
    devstack.up(stack)
    for pid in pids():
        os.kill(pid, signal.SIGKILL)
        wait_dead(pid)
    assert devstack.running(stack) is None

    services = devstack.up(stack)

    assert answers(services)
    assert devstack.running(stack) == services


def test_down_stops_both_servers_and_running_is_none_afterwards(stack: str) -> None:
    services = devstack.up(stack)

    devstack.down(stack)

    assert devstack.running(stack) is None
    assert refuses_connections(port_of(services.database_url))
    assert refuses_connections(port_of(services.redis_url))
    devstack.down(stack)  # a second down is a no-op, not an error


def test_up_moves_to_new_ports_when_the_old_ones_were_taken(stack: str) -> None:
    before = devstack.up(stack)
    devstack.down(stack)
    squatters = [socket.create_server(("127.0.0.1", port_of(url))) for url in vars(before).values()]
    try:
        after = devstack.up(stack)
    finally:
        for squatter in squatters:
            squatter.close()

    assert port_of(after.database_url) != port_of(before.database_url)
    assert port_of(after.redis_url) != port_of(before.redis_url)
    assert answers(after)


def test_local_services_stops_only_the_servers_it_started(stack: str) -> None:
    with devstack.local_services(stack) as services:
        assert answers(services)
    assert devstack.running(stack) is None

    started = devstack.up(stack)
    with devstack.local_services(stack) as services:
        assert services == started
    assert devstack.running(stack) == started


def test_free_port_never_hands_out_the_same_port_twice() -> None:
    # the system offers just-closed ports again: among a thousand, dozens would repeat
    ports = [devstack.free_port() for _ in range(1000)]
    assert len(set(ports)) == len(ports)
    for port in ports[-3:]:
        with socket.socket() as server:
            server.bind(("127.0.0.1", port))  # and each one is free to bind
