"""The service's connections, direct or through PgBouncer in transaction mode (make test-pgbouncer)."""

from __future__ import annotations

import asyncio

import asyncpg
import pytest

from app.core.db import APPLICATION_NAME, FeedHorizonUnsafe, check_session, create_pool
from app.settings import Settings, SettingsError
from tests.conftest import POOLED, make_settings


def test_the_direct_url_defaults_to_the_database_url():
    env = {"DATABASE_URL": "postgresql://pooler/db", "REDIS_URL": "redis://r"}
    assert Settings.from_env(env).direct_url == "postgresql://pooler/db"
    assert Settings.from_env(env).db_pooler == ""
    env |= {"DATABASE_DIRECT_URL": "postgresql://primary/db", "PIVOTAL_DB_POOLER": "transaction"}
    assert Settings.from_env(env).direct_url == "postgresql://primary/db"
    assert Settings.from_env(env).db_pooler == "transaction"
    with pytest.raises(SettingsError, match="PIVOTAL_DB_POOLER"):
        Settings.from_env(env | {"PIVOTAL_DB_POOLER": "session"})


async def test_every_transaction_runs_with_the_timeouts_and_the_service_name(database_url, servers):
    settings = make_settings(database_url, servers.redis_url, statement_timeout_ms=4321,
                             idle_in_transaction_timeout_ms=5432)
    pool = await create_pool(settings, min_size=1, max_size=2)
    try:
        async with pool.acquire() as conn, conn.transaction():
            seen = await conn.fetchrow(
                "select current_setting('statement_timeout') as statement,"
                " current_setting('idle_in_transaction_session_timeout') as idle,"
                " current_setting('application_name') as name")
    finally:
        await pool.close()
    assert dict(seen) == {"statement": "4321ms", "idle": "5432ms", "name": APPLICATION_NAME}


async def test_a_transaction_left_idle_is_ended_by_the_server(database_url, servers):
    """What bounds the feed's horizon: through a pooler too, an abandoned transaction ends."""
    settings = make_settings(database_url, servers.redis_url, idle_in_transaction_timeout_ms=200)
    pool = await create_pool(settings, min_size=1, max_size=1)
    try:
        async with pool.acquire() as conn:
            transaction = conn.transaction()
            await transaction.start()
            await conn.fetchval("select 1")
            # through PgBouncer the ended session reaches asyncpg as an error between queries,
            # which it reports as an InternalClientError (app.core.db.is_unavailable knows)
            ended = (asyncpg.PostgresError, asyncpg.InterfaceError, asyncpg.InternalClientError,
                     OSError)
            with pytest.raises(ended):
                for _ in range(300):  # at most a minute; the server ends it in 200 ms
                    await asyncio.sleep(0.2)
                    await conn.fetchval("select 1")
    finally:
        pool.terminate()


async def test_a_pooled_session_without_the_service_name_is_refused(database_url, servers):
    settings = make_settings(database_url, servers.redis_url)
    pool = await create_pool(settings, min_size=1, max_size=1,
                             server_settings={"application_name": "not-pivotal"})
    try:
        async with pool.acquire() as conn:
            with pytest.raises(FeedHorizonUnsafe):
                await check_session(conn)
    finally:
        await pool.close()


@pytest.mark.skipif(not POOLED, reason="only behind PgBouncer (make test-pgbouncer)")
async def test_the_service_pool_goes_through_the_pooler(database_url, servers):
    pool = await create_pool(make_settings(database_url, servers.redis_url), min_size=1, max_size=1)
    try:
        async with pool.acquire() as conn, conn.transaction():
            backend = await conn.fetchval("select pg_backend_pid()")
            # PgBouncer hands its clients a cancel key of its own, not the server session's pid
            assert conn.get_server_pid() != backend
    finally:
        await pool.close()
