"""Bounded work: a deadline on every request, and a server that drains on SIGTERM."""

from __future__ import annotations

import asyncio
import json
import os
import signal
import socket
import subprocess
import sys
import time

import httpx
import psutil
import pytest
from litestar.testing import AsyncTestClient

from app.main import create_app
from app.resources import repo
from app.settings import Settings
from devtools.devstack import free_port
from tests.conftest import make_settings, service_env
from tests.test_errors import assert_error


async def test_a_request_past_its_deadline_is_503_in_the_error_shape(
    database_url, servers, workspace, monkeypatch
):
    async def stuck(*args, **kwargs):
        await asyncio.sleep(30)

    monkeypatch.setattr(repo, "list_page", stuck)
    settings = make_settings(database_url, servers.redis_url, request_timeout_seconds=0.2)
    async with AsyncTestClient(app=create_app(settings), base_url="http://testserver/api/v1") as c:
        started = time.monotonic()
        response = await c.get("/customers", headers=workspace.live)
        assert time.monotonic() - started < 2
        error = assert_error(response, 503, "service_unavailable")
        assert error["type"] == "api_error"
        # the pooled connection the cancelled request held is usable again
        monkeypatch.undo()
        assert (await c.get("/customers", headers=workspace.live)).status_code == 200


def test_request_timeout_is_configured_from_the_environment():
    env = {"DATABASE_URL": "postgresql://db", "REDIS_URL": "redis://r"}
    assert Settings.from_env(env).request_timeout_seconds == 30
    env["PIVOTAL_REQUEST_TIMEOUT_SECONDS"] = "2.5"
    assert Settings.from_env(env).request_timeout_seconds == 2.5



async def wait_until_serving(base: str, server: subprocess.Popen) -> None:
    async with httpx.AsyncClient(base_url=base, timeout=2) as probe:
        for _ in range(300):
            assert server.poll() is None, server.stdout.read()
            try:
                if (await probe.get("/health")).status_code == 200:
                    return
            except httpx.TransportError:
                await asyncio.sleep(0.05)
    raise AssertionError("pivotal serve did not start")


def start_server(database_url: str, redis_url: str, port: int, workers: int = 1) -> subprocess.Popen:
    """`pivotal serve`, its log lines on a pipe."""
    env = service_env(database_url, redis_url, PIVOTAL_ENV="test")
    return subprocess.Popen(
        [sys.executable, "-m", "app.ops.cli", "serve", "--port", str(port), "--workers", str(workers)],
        env=env, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True,
    )


@pytest.mark.parametrize("workers", [1, 2])
async def test_sigterm_lets_the_request_in_flight_finish(
    database_url, servers, workspace, admin, workers
):
    port = free_port()
    server = start_server(database_url, servers.redis_url, port, workers)
    base = f"http://127.0.0.1:{port}/api/v1"
    try:
        await wait_until_serving(base, server)
        async with httpx.AsyncClient(base_url=base, timeout=20) as client:
            created = await client.post("/customers", json={"name": "A"}, headers=workspace.live)
            customer = created.json()["id"]
            # a row lock held elsewhere keeps the PATCH in flight while SIGTERM arrives
            async with admin.acquire() as conn, conn.transaction():
                await conn.execute("select 1 from customers where id = $1 for update", customer)
                patch = asyncio.create_task(
                    client.patch(f"/customers/{customer}", json={"name": "B"}, headers=workspace.live)
                )
                await asyncio.sleep(0.5)
                server.send_signal(signal.SIGTERM)
                await asyncio.sleep(0.3)
                assert server.poll() is None, "exited with a request in flight"
            response = await patch
        assert response.status_code == 200 and response.json()["name"] == "B"
        assert await asyncio.to_thread(server.wait, 10) == 0
    finally:
        if server.poll() is None:
            server.kill()
            server.wait()
    lines = [json.loads(line) for line in server.stdout.read().splitlines() if line.startswith("{")]
    requests = [line for line in lines if line.get("message") == "request"]
    assert [(r["method"], r["status"]) for r in requests if r["route"] != "/api/v1/health"] == [
        ("POST", 201), ("PATCH", 200)
    ]
    assert all(r["key_id"] == workspace.live_key_id for r in requests if r["method"] != "GET")


def _listening_sockets(port: int) -> list[psutil._common.sconn]:
    return [c for c in psutil.net_connections("tcp")
            if c.status == psutil.CONN_LISTEN and c.laddr.port == port]


async def test_each_worker_listens_on_its_own_socket_and_a_dead_one_is_replaced(
    database_url, servers
):
    port = free_port()
    server = start_server(database_url, servers.redis_url, port, workers=2)
    base = f"http://127.0.0.1:{port}/api/v1"
    try:
        await wait_until_serving(base, server)
        supervisor = psutil.Process(server.pid)
        workers = _workers(supervisor)
        assert len(workers) == 2
        for _ in range(100):  # both are listening once both have started
            listening = _listening_sockets(port)
            if len(listening) == 2:
                break
            await asyncio.sleep(0.1)
        # one socket per worker (SO_REUSEPORT): the kernel spreads connections over them
        assert {c.pid for c in listening} == workers

        killed = workers.pop()
        os.kill(killed, signal.SIGKILL)
        for _ in range(150):
            current = _workers(supervisor)
            if len(current) == 2 and killed not in current and len(_listening_sockets(port)) == 2:
                break
            await asyncio.sleep(0.1)
        else:
            raise AssertionError(f"no worker replaced {killed}: {current}")
        async with httpx.AsyncClient(base_url=base, timeout=5) as client:
            for _ in range(10):
                response = await client.get("/health")
                assert response.status_code == 200
                assert "server" not in response.headers  # no "server: uvicorn" advertised
        server.send_signal(signal.SIGTERM)
        assert await asyncio.to_thread(server.wait, 20) == 0
        assert not [pid for pid in current if _alive(pid)], "a worker outlived the server"
    finally:
        if server.poll() is None:
            server.kill()
            server.wait()


def _workers(supervisor: psutil.Process) -> set[int]:
    """The live worker processes (not the multiprocessing resource tracker, not zombies)."""
    found = set()
    for child in supervisor.children():
        try:
            if child.status() != psutil.STATUS_ZOMBIE and "spawn_main" in " ".join(child.cmdline()):
                found.add(child.pid)
        except psutil.Error:
            continue
    return found


def _alive(pid: int) -> bool:
    try:
        return psutil.Process(pid).status() != psutil.STATUS_ZOMBIE
    except psutil.NoSuchProcess:
        return False


async def test_a_port_in_use_fails_at_once(database_url, servers):
    with socket.socket() as taken:
        taken.bind(("127.0.0.1", 0))
        taken.listen()
        server = start_server(database_url, servers.redis_url, taken.getsockname()[1], workers=2)
        try:
            assert await asyncio.to_thread(server.wait, 30) == 3
        finally:
            if server.poll() is None:
                server.kill()
                server.wait()
    assert "address already in use" in server.stdout.read().lower()
