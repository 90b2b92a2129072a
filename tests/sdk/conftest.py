"""A real `pivotal serve` for the SDK and example tests: one process per session on its own
cloned database; each test takes a fresh workspace in it."""

from __future__ import annotations

import asyncio
import os
import subprocess
import sys
import tempfile
from collections.abc import AsyncIterator, Iterator
from dataclasses import dataclass
from pathlib import Path

import asyncpg
import httpx
import pivotal
import pytest

from app.core.db import init_connection
from tests import apiserver
from tests.conftest import Workspace, new_workspace, service_env


@dataclass
class Api:
    """A served API: its base URL, its database, and the server's recent output."""

    base_url: str
    database_url: str
    redis_url: str
    process: subprocess.Popen
    pool: asyncpg.Pool | None = None

    def openapi(self) -> dict:
        return httpx.get(f"{self.base_url}/openapi.json", timeout=10).json()

    def has_path(self, path: str) -> bool:
        return path in self.openapi()["paths"]

    def client(self, workspace: Workspace, **options) -> pivotal.Client:
        return pivotal.Client(workspace.live_key, base_url=self.base_url, **options)

    def async_client(self, workspace: Workspace, **options) -> pivotal.AsyncClient:
        return pivotal.AsyncClient(workspace.live_key, base_url=self.base_url, **options)

    def start_worker(self) -> subprocess.Popen:
        """`pivotal worker` on this API's database, retrying failed deliveries fast."""
        env = service_env(self.database_url, self.redis_url,
                          PIVOTAL_ENV="test", PIVOTAL_WEBHOOK_RETRY_SCHEDULE="0.2,0.4",
                          PIVOTAL_WEBHOOK_TIMEOUT="2")
        return subprocess.Popen([sys.executable, "-m", "app.ops.cli", "worker"], env=env,
                                stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)

    def env(self, workspace: Workspace) -> dict[str, str]:
        """The environment an example or the backfill command runs with."""
        return dict(os.environ, PIVOTAL_API_KEY=workspace.live_key, PIVOTAL_BASE_URL=self.base_url)


async def start_api(database_url: str, redis_url: str, **env: str) -> Api:
    """`pivotal serve` on a port of its own choosing (tests/apiserver.py), with extra
    PIVOTAL_* settings from `env`; its output goes to a file under a temporary folder."""
    output = Path(tempfile.mkdtemp(prefix="pivotal-sdk-api-")) / "serve.log"
    server = apiserver.start_api(database_url, redis_url, output, **env)
    base_url = await apiserver.wait_until_serving(server)
    api = Api(base_url, database_url, redis_url, server.process)
    api.pool = await asyncpg.create_pool(database_url, min_size=1, max_size=4, init=init_connection)
    return api


async def stop_api(api: Api) -> None:
    await api.pool.close()
    api.process.terminate()
    try:
        await asyncio.to_thread(api.process.wait, 15)
    except subprocess.TimeoutExpired:
        api.process.kill()
        api.process.wait()


@pytest.fixture(scope="session")
async def api(databases, servers) -> AsyncIterator[Api]:
    served = await start_api(await databases.clone(), servers.redis_url)
    yield served
    await stop_api(served)


@pytest.fixture(scope="session")
async def worker(api: Api) -> AsyncIterator[subprocess.Popen]:
    """A webhook worker delivering the served API's events, for the session."""
    process = api.start_worker()
    yield process
    process.kill()
    await asyncio.to_thread(process.wait)


@pytest.fixture
async def ws(api: Api) -> Workspace:
    """A fresh workspace in the served database."""
    return await new_workspace(api.pool)


@pytest.fixture
def pv(api: Api, ws: Workspace) -> Iterator[pivotal.Client]:
    """A synchronous client on a fresh workspace's live key."""
    with api.client(ws) as client:
        yield client


@pytest.fixture(scope="session")
async def serves_batches(api: Api) -> bool:
    """Whether the server has the batch endpoints (§7): documented, or answering an empty batch
    with a 400 on `items` (a server without them answers 405: /customers/{id} takes no POST)."""
    if api.has_path("/customers/batch"):
        return True
    workspace = await new_workspace(api.pool)
    answer = await asyncio.to_thread(
        httpx.post, f"{api.base_url}/customers/batch", json={"items": []}, headers=workspace.live)
    return answer.status_code == 400 and answer.json()["error"].get("field") == "items"


@pytest.fixture
def batch_api(api: Api, serves_batches: bool) -> Api:
    """The served API, when it has the batch endpoints; the test is skipped otherwise."""
    if not serves_batches:
        pytest.skip("batch API not on this server yet")
    return api
