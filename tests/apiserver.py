"""`pivotal serve` in a subprocess, for tests that need the real server.

The server binds port 0 and the test reads the port it got from its log: a port probed free
beforehand could be taken by anything else on the machine before the server binds it. Its
output goes to a file, not a pipe a busy server could fill while nobody reads it.
"""

from __future__ import annotations

import asyncio
import json
import re
import subprocess
import sys
import time
from dataclasses import dataclass
from pathlib import Path

import httpx

from tests.conftest import service_env

# uvicorn's line for one worker, the supervisor's for several
PORT_LINE = re.compile(r"(?:Uvicorn running on http://|serving on )127\.0\.0\.1:(\d+)")
START_TIMEOUT = 60.0


@dataclass
class ApiServer:
    process: subprocess.Popen
    output: Path
    port: int | None = None

    @property
    def base(self) -> str:
        return f"http://127.0.0.1:{self.port}/api/v1"

    def text(self) -> str:
        return self.output.read_text()

    def lines(self) -> list[dict]:
        """The JSON log lines written so far (not a line still being written)."""
        complete = self.text().split("\n")[:-1]
        return [json.loads(line) for line in complete if line.startswith("{")]

    def messages(self) -> list[str]:
        return [line.get("message") for line in self.lines()]

    def stop(self) -> None:
        if self.process.poll() is None:
            self.process.kill()
            self.process.wait()


def start_api(
    database_url: str, redis_url: str, output: Path, *, workers: int = 1, port: int = 0,
    extra_args: tuple[str, ...] = (), **env: str,
) -> ApiServer:
    """Start `pivotal serve` (with `extra_args`); `wait_until_serving` then learns its port."""
    # through the pooler when the suite runs behind one (tests/conftest.py)
    environment = service_env(database_url, redis_url, **{"PIVOTAL_ENV": "test", **env})
    argv = [sys.executable, "-m", "app.ops.cli", "serve", "--port", str(port),
            "--workers", str(workers), *extra_args]
    with open(output, "w") as sink:
        process = subprocess.Popen(argv, env=environment, stdout=sink, stderr=subprocess.STDOUT)
    return ApiServer(process, output, port or None)


async def wait_until_serving(server: ApiServer, statuses: tuple[int, ...] = (200,)) -> str:
    """The server's base url once /health answers with one of `statuses`."""
    deadline = time.monotonic() + START_TIMEOUT
    async with httpx.AsyncClient(timeout=2) as probe:
        while time.monotonic() < deadline:
            assert server.process.poll() is None, server.text()
            if server.port is None and (found := PORT_LINE.search(server.text())):
                server.port = int(found.group(1))
            if server.port is not None:
                try:
                    if (await probe.get(server.base + "/health")).status_code in statuses:
                        return server.base
                except httpx.TransportError:
                    pass
            await asyncio.sleep(0.05)
    raise AssertionError(f"pivotal serve did not start:\n{server.text()}")


async def wait_for_message(server: ApiServer, message: str, count: int = 1) -> None:
    """Until the server has logged `message` `count` times."""
    deadline = time.monotonic() + START_TIMEOUT
    while server.messages().count(message) < count:
        assert time.monotonic() < deadline, f"never logged {message!r}:\n{server.text()}"
        await asyncio.sleep(0.05)
