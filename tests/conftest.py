"""Test fixtures: real PostgreSQL and Redis, a migrated template database, fresh workspaces.

With DATABASE_URL / REDIS_URL set, tests use those servers; otherwise they start the embedded
ones (devtools.devstack) for the session and stop them afterwards.

With PIVOTAL_DB_POOLER=transaction (`make test-pgbouncer`), DATABASE_URL is a PgBouncer and
DATABASE_DIRECT_URL the PostgreSQL behind it: databases are made, and checked, on PostgreSQL
itself, and the service under test (make_settings, service_env) reaches them through PgBouncer.
"""

from __future__ import annotations

import os
import secrets
from collections.abc import AsyncIterator, Iterator
from dataclasses import dataclass
from urllib.parse import urlsplit, urlunsplit

import asyncpg
import pytest
from litestar.testing import AsyncTestClient

from app.core.db import init_connection
from app.main import create_app
from app.ops.migrations import migrate
from app.settings import Settings
from app.workspaces.repo import create_key, create_workspace


def _take_pooler() -> str | None:
    """The pooler's URL, when tests run behind one; the environment then names PostgreSQL
    itself, so a process started with os.environ and its own DATABASE_URL is never half-pooled."""
    if os.environ.get("PIVOTAL_DB_POOLER") != "transaction":
        return None
    pooler = os.environ["DATABASE_URL"]
    os.environ["DATABASE_URL"] = os.environ.pop("DATABASE_DIRECT_URL")
    del os.environ["PIVOTAL_DB_POOLER"]
    return pooler


POOLER_URL = _take_pooler()
POOLED = POOLER_URL is not None


def pooled(database_url: str) -> str:
    """`database_url` as the service under test reaches it: through the pooler, if any."""
    if POOLER_URL is None:
        return database_url
    return urlunsplit(urlsplit(database_url)._replace(netloc=urlsplit(POOLER_URL).netloc))


def service_env(database_url: str, redis_url: str, **extra: str) -> dict[str, str]:
    """The environment for a `pivotal` process serving the database at `database_url`."""
    env = dict(os.environ, DATABASE_URL=pooled(database_url), REDIS_URL=redis_url, **extra)
    if POOLED:
        env.update(DATABASE_DIRECT_URL=database_url, PIVOTAL_DB_POOLER="transaction")
    return env


def with_database(url: str, name: str) -> str:
    parts = urlsplit(url)
    return urlunsplit(parts._replace(path="/" + name))


@dataclass
class Servers:
    database_url: str  # the server's maintenance database
    redis_url: str


@pytest.fixture(scope="session")
def servers() -> Iterator[Servers]:
    database_url, redis_url = os.environ.get("DATABASE_URL"), os.environ.get("REDIS_URL")
    if database_url and redis_url:
        yield Servers(database_url, redis_url)
        return
    from devtools.devstack import local_services

    with local_services("test") as services:
        yield Servers(database_url or services.database_url, redis_url or services.redis_url)


class Databases:
    """Creates databases cloned from one migrated template, and drops them at the end."""

    def __init__(self, server_url: str) -> None:
        self.server_url = server_url
        self.prefix = f"pivotal_test_{secrets.token_hex(4)}"
        self.template = f"{self.prefix}_template"
        self.created: list[str] = []

    async def _admin(self, sql: str) -> None:
        conn = await asyncpg.connect(self.server_url)
        try:
            await conn.execute(sql)
        finally:
            await conn.close()

    async def create_template(self) -> None:
        await self._admin(f'create database "{self.template}"')
        self.created.append(self.template)
        migrate(with_database(self.server_url, self.template))

    async def clone(self) -> str:
        name = f"{self.prefix}_{len(self.created)}"
        await self._admin(f'create database "{name}" template "{self.template}"')
        self.created.append(name)
        return with_database(self.server_url, name)

    async def drop_all(self) -> None:
        for name in reversed(self.created):
            await self._admin(f'drop database if exists "{name}" with (force)')


@pytest.fixture(scope="session")
async def databases(servers: Servers) -> AsyncIterator[Databases]:
    databases = Databases(servers.database_url)
    await databases.create_template()
    yield databases
    await databases.drop_all()


def make_settings(database_url: str, redis_url: str, **overrides) -> Settings:
    values = {"env": "test", "auth_cache_seconds": 1.0, **overrides}
    if POOLED:
        values.update(database_direct_url=database_url, db_pooler="transaction")
    return Settings(database_url=pooled(database_url), redis_url=redis_url, **values)


@pytest.fixture(scope="session")
async def database_url(databases: Databases) -> str:
    """One database shared by ordinary tests; each test isolates itself in a fresh workspace."""
    return await databases.clone()


@pytest.fixture(scope="session")
def settings(database_url: str, servers: Servers) -> Settings:
    return make_settings(database_url, servers.redis_url)


@pytest.fixture(scope="session")
async def client(settings: Settings) -> AsyncIterator[AsyncTestClient]:
    app = create_app(settings)
    async with AsyncTestClient(app=app, base_url="http://testserver/api/v1") as client:
        yield client


@pytest.fixture(scope="session")
async def admin(database_url: str) -> AsyncIterator[asyncpg.Pool]:
    """A direct pool on the test database, for setup and for checking what was stored."""
    pool = await asyncpg.create_pool(
        database_url, min_size=1, max_size=20, init=init_connection
    )
    yield pool
    await pool.close()


@dataclass
class Workspace:
    id: str
    name: str
    live_key: str
    test_key: str
    live_key_id: str
    test_key_id: str

    @property
    def live(self) -> dict[str, str]:
        return {"Authorization": f"Bearer {self.live_key}"}

    @property
    def test(self) -> dict[str, str]:
        return {"Authorization": f"Bearer {self.test_key}"}


async def new_workspace(pool: asyncpg.Pool) -> Workspace:
    async with pool.acquire() as conn:
        workspace = await create_workspace(conn, f"ws-{secrets.token_hex(6)}")
        live = await create_key(conn, workspace["id"], livemode=True)
        test = await create_key(conn, workspace["id"], livemode=False)
    return Workspace(
        workspace["id"], workspace["name"], live["key"], test["key"], live["id"], test["id"]
    )


@pytest.fixture
async def workspace(admin: asyncpg.Pool) -> Workspace:
    return await new_workspace(admin)


@pytest.fixture
def auth(workspace: Workspace) -> dict[str, str]:
    """Headers for the fresh workspace's live key."""
    return workspace.live
