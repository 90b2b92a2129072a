"""Pinned addresses: the worker connects only to addresses that passed the public-address
check, from the one lookup it makes per connection, keeping the host name for `Host` and
TLS SNI.

The worker runs in this process (a real SAQ worker on real PostgreSQL and Redis) so a test
can hand it a resolver. Nothing is ever sent beyond loopback: the "public" answers come from
the documentation range 192.0.2.0/24, which the check refuses before any connection.
"""

from __future__ import annotations

import asyncio
import shutil
import socket
import ssl
import subprocess
from contextlib import asynccontextmanager

import pytest
from aiohttp.abc import AbstractResolver
from saq import Worker

from app.settings import Settings
from tests.receiver import Receiver
from tests.test_webhook_delivery import _deliveries, stack, wait_until  # noqa: F401
from worker.main import worker_settings

DOCUMENTATION_ADDRESS = "192.0.2.10"  # TEST-NET-1: never routed, refused by the check


class ScriptedResolver(AbstractResolver):
    """Answers the n-th lookup with answers[n] (the last one from then on); counts lookups."""

    def __init__(self, *answers: list[str]) -> None:
        self.answers = answers
        self.lookups: list[str] = []

    async def resolve(self, host, port=0, family=socket.AF_INET):
        addresses = self.answers[min(len(self.lookups), len(self.answers) - 1)]
        self.lookups.append(host)
        return [{"hostname": host, "host": address, "port": port, "family": socket.AF_INET,
                 "proto": 0, "flags": socket.AI_NUMERICHOST} for address in addresses]

    async def close(self) -> None:
        pass


class Listener:
    """A loopback TCP port that counts the connections made to it and answers none."""

    def __init__(self) -> None:
        self.connections = 0

    async def __aenter__(self) -> Listener:
        def accepted(reader, writer) -> None:
            self.connections += 1
            writer.close()

        self.server = await asyncio.start_server(accepted, "127.0.0.1", 0)
        self.port = self.server.sockets[0].getsockname()[1]
        return self

    async def __aexit__(self, *exc) -> None:
        self.server.close()
        await self.server.wait_closed()


@asynccontextmanager
async def running_worker(stack, resolver: AbstractResolver, tls: ssl.SSLContext | None = None,
                         **env: str):
    settings = Settings.from_env({**stack.env, **env})
    worker = Worker(**worker_settings(settings, resolver, tls))
    worker.SIGNALS = []  # the test's process keeps its own signal handling
    task = asyncio.create_task(worker.start())
    try:
        yield worker
    finally:
        await worker.stop()
        task.cancel()
        await asyncio.gather(task, return_exceptions=True)


async def _attempts(stack, endpoint, count: int) -> list[dict]:
    for _ in range(600):
        deliveries = await _deliveries(stack, endpoint)
        if deliveries and len(deliveries[0]["attempts"]) >= count:
            return deliveries[0]["attempts"]
        await asyncio.sleep(0.05)
    raise AssertionError("the attempts were never made")


@pytest.mark.parametrize("answers", [
    # a rebinding name: a public-looking answer for the check, loopback for the connect
    [[DOCUMENTATION_ADDRESS], ["127.0.0.1"]],
    # one answer holding both: a connector falling back to the second must not reach it
    [[DOCUMENTATION_ADDRESS, "127.0.0.1"]],
])
async def test_rebinding_name_never_reaches_loopback_in_production(stack, answers):
    async with Listener() as listener:
        endpoint = await stack.endpoint(f"https://rebind.pivotal.test:{listener.port}/hooks")
        resolver = ScriptedResolver(*answers)
        async with running_worker(stack, resolver, PIVOTAL_ENV="production",
                                  PIVOTAL_WEBHOOK_ALLOWED_PORTS=str(listener.port),
                                  PIVOTAL_WEBHOOK_RETRY_SCHEDULE="0.1,0.1,0.1"):
            await stack.customers(1)
            attempts = await _attempts(stack, endpoint, 4)
        assert listener.connections == 0
        # tenants see the category; the worker's log has the address that was refused
        assert all(a["error"] == "url_refused" for a in attempts)
        assert all(a["status_code"] is None for a in attempts)
        # one lookup per attempt: the addresses checked are the addresses connected to
        assert resolver.lookups == ["rebind.pivotal.test"] * len(attempts)


async def test_connection_goes_to_the_resolved_address_with_the_host_name_kept(stack):
    receiver = stack.receiver()
    endpoint = await stack.endpoint(f"http://hooks.pivotal.test:{receiver.port}/hooks")
    resolver = ScriptedResolver(["127.0.0.1"])
    async with running_worker(stack, resolver):
        await stack.customers(1)
        await wait_until(lambda: receiver.received, 20, "the delivery")
    assert receiver.received[0].headers["Host"] == f"hooks.pivotal.test:{receiver.port}"
    assert resolver.lookups == ["hooks.pivotal.test"]
    assert (await _deliveries(stack, endpoint))[0]["status"] == "succeeded"


def _certificate(folder, name: str) -> tuple[str, str]:
    if shutil.which("openssl") is None:
        pytest.skip("openssl is needed to make a certificate")
    cert, key = str(folder / "cert.pem"), str(folder / "key.pem")
    subprocess.run(
        ["openssl", "req", "-x509", "-newkey", "rsa:2048", "-nodes", "-days", "1",
         "-keyout", key, "-out", cert, "-subj", f"/CN={name}", "-addext",
         f"subjectAltName=DNS:{name}"], check=True, capture_output=True)
    return cert, key


async def test_tls_connection_to_the_resolved_address_names_the_host_in_sni(stack, tmp_path):
    cert, key = _certificate(tmp_path, "hooks.pivotal.test")
    server = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
    server.load_cert_chain(cert, key)
    receiver = Receiver(tls=server).start()
    stack.receivers.append(receiver)
    await stack.endpoint(f"https://hooks.pivotal.test:{receiver.port}/hooks")
    trusted = ssl.create_default_context(cafile=cert)  # the test certificate is its own CA
    async with running_worker(stack, ScriptedResolver(["127.0.0.1"]), trusted):
        await stack.customers(1)
        await wait_until(lambda: receiver.received, 30, "the delivery over TLS")
    assert receiver.server_names[-1] == "hooks.pivotal.test"
    assert receiver.received[0].headers["Host"] == f"hooks.pivotal.test:{receiver.port}"
