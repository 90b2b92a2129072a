"""Bounded work: a deadline on every request, and a server that drains on SIGTERM."""

from __future__ import annotations

import asyncio
import logging
import os
import signal
import socket

import httpx
import psutil
import pytest
from litestar.testing import AsyncTestClient

from app.main import create_app
from app.resources import repo
from app.settings import Settings
from tests.apiserver import start_api, wait_for_message, wait_until_serving
from tests.conftest import make_settings
from tests.test_errors import assert_error

# uvicorn's lines: draining the requests in flight after SIGTERM, and done
DRAINING = "Waiting for connections to close. (CTRL+C to force quit)"
FINISHED = "Finished server process"


async def test_a_request_past_its_deadline_is_503_in_the_error_shape(
    database_url, servers, workspace, monkeypatch, caplog
):
    cancelled = []

    async def stuck(*args, **kwargs):
        try:
            await asyncio.sleep(30)  # far past the deadline, which alone can end it sooner
        except asyncio.CancelledError:
            cancelled.append(True)
            raise

    monkeypatch.setattr(repo, "list_page", stuck)
    settings = make_settings(database_url, servers.redis_url, request_timeout_seconds=0.2)
    async with AsyncTestClient(app=create_app(settings), base_url="http://testserver/api/v1") as c:
        with caplog.at_level(logging.WARNING, logger="pivotal.http"):
            response = await c.get("/customers", headers=workspace.live)
        error = assert_error(response, 503, "service_unavailable")
        assert error["type"] == "api_error"
        assert error["message"] == "The request did not complete within 0.2 seconds"
        assert cancelled == [True]  # the handler itself was stopped, not left running
        assert [r.getMessage() for r in caplog.records if r.name == "pivotal.http"] == [
            "request cancelled after 0.2 s: GET /api/v1/customers"
        ]
        # the pooled connection the cancelled request held is usable again
        monkeypatch.undo()
        assert (await c.get("/customers", headers=workspace.live)).status_code == 200


def test_request_timeout_is_configured_from_the_environment():
    env = {"DATABASE_URL": "postgresql://db", "REDIS_URL": "redis://r"}
    assert Settings.from_env(env).request_timeout_seconds == 30
    env["PIVOTAL_REQUEST_TIMEOUT_SECONDS"] = "2.5"
    assert Settings.from_env(env).request_timeout_seconds == 2.5


async def wait_until_blocked_on_a_lock(admin) -> None:
    """Until some session of the test database waits for a row lock."""
    query = ("select count(*) from pg_stat_activity "
             "where datname = current_database() and wait_event_type = 'Lock'")
    for _ in range(600):
        if await admin.fetchval(query):
            return
        await asyncio.sleep(0.05)
    raise AssertionError("the request never reached the locked row")


@pytest.mark.parametrize("workers", [1, 2])
async def test_sigterm_lets_the_request_in_flight_finish(
    database_url, servers, workspace, admin, workers, tmp_path
):
    server = start_api(database_url, servers.redis_url, tmp_path / "serve.log", workers=workers)
    try:
        base = await wait_until_serving(server)
        async with httpx.AsyncClient(base_url=base, timeout=60) as client:
            created = await client.post("/customers", json={"name": "A"}, headers=workspace.live)
            customer = created.json()["id"]
            # a row lock held elsewhere keeps the PATCH in flight while SIGTERM arrives
            async with admin.acquire() as conn, conn.transaction():
                await conn.execute("select 1 from customers where id = $1 for update", customer)
                patch = asyncio.create_task(client.patch(
                    f"/customers/{customer}", json={"name": "B"}, headers=workspace.live
                ))
                await wait_until_blocked_on_a_lock(admin)
                server.process.send_signal(signal.SIGTERM)
                await wait_for_message(server, DRAINING)
                assert server.process.poll() is None, "exited with a request in flight"
            response = await patch
        assert response.status_code == 200 and response.json()["name"] == "B"
        assert await asyncio.to_thread(server.process.wait, 30) == 0
    finally:
        server.stop()
    lines = server.lines()
    requests = [line for line in lines if line.get("message") == "request"]
    assert [(r["method"], r["status"]) for r in requests if r["route"] != "/api/v1/health"] == [
        ("POST", 201), ("PATCH", 200)
    ]
    assert all(r["key_id"] == workspace.live_key_id for r in requests if r["method"] != "GET")
    # the PATCH was answered while the server drained, before its last process finished
    order = milestones(lines)
    last_finished = max(i for i, milestone in enumerate(order) if milestone == FINISHED)
    assert order.index(DRAINING) < order.index("PATCH") < last_finished


def milestones(lines: list[dict]) -> list[str]:
    """The methods of the logged requests, and uvicorn's draining and finishing, in order."""
    found = []
    for line in lines:
        if line["message"] == "request":
            found.append(line["method"])
        elif line["message"].startswith((DRAINING, FINISHED)):
            found.append(DRAINING if line["message"] == DRAINING else FINISHED)
    return found


def _listening_sockets(port: int) -> list[psutil._common.sconn]:
    return [c for c in psutil.net_connections("tcp")
            if c.status == psutil.CONN_LISTEN and c.laddr.port == port]


async def test_each_worker_listens_on_its_own_socket_and_a_dead_one_is_replaced(
    database_url, servers, tmp_path
):
    server = start_api(database_url, servers.redis_url, tmp_path / "serve.log", workers=2)
    try:
        base = await wait_until_serving(server)
        port = server.port
        supervisor = psutil.Process(server.process.pid)
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
        server.process.send_signal(signal.SIGTERM)
        assert await asyncio.to_thread(server.process.wait, 30) == 0
        assert not [pid for pid in current if _alive(pid)], "a worker outlived the server"
    finally:
        server.stop()


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


async def test_a_port_in_use_fails_at_once(database_url, servers, tmp_path):
    with socket.socket() as taken:
        taken.bind(("127.0.0.1", 0))
        taken.listen()
        server = start_api(database_url, servers.redis_url, tmp_path / "serve.log", workers=2,
                           port=taken.getsockname()[1])
        try:
            assert await asyncio.to_thread(server.process.wait, 30) == 3
        finally:
            server.stop()
    assert "address already in use" in server.text().lower()
