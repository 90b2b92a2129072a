"""Made-up keys cannot each cost a database query: an address past its failed lookups is
answered 429 before the lookup."""

from __future__ import annotations

import secrets
import time

import pytest
from litestar.testing import AsyncTestClient

from app.core.errors import AuthenticationFailed, RateLimited
from app.http import auth
from app.main import create_app
from app.settings import Settings, SettingsError
from tests.conftest import make_settings
from tests.test_errors import assert_error
from tests.test_key_lookup import SpyCache, SpyPool


def made_up_key() -> dict[str, str]:
    return {"Authorization": f"Bearer pivotal_{secrets.token_hex(20)}"}


@pytest.fixture
async def guarded(database_url, servers):
    """An app allowing each address 3 failed lookups, then one every 100 seconds."""
    settings = make_settings(database_url, servers.redis_url, auth_failures_per_second=0.01,
                             auth_failures_burst=3)
    async with AsyncTestClient(app=create_app(settings), base_url="http://testserver/api/v1") as c:
        yield c


async def test_an_address_past_its_failed_lookups_gets_429_with_retry_after(guarded, workspace):
    known = await guarded.get("/customers", headers=workspace.live)  # now in the key cache
    assert known.status_code == 200
    for _ in range(3):
        assert_error(await guarded.get("/customers", headers=made_up_key()), 401, "invalid_api_key")
    refused = await guarded.get("/customers", headers=made_up_key())
    error = assert_error(refused, 429, "rate_limited")
    assert error["type"] == "rate_limit_error"
    assert int(refused.headers["retry-after"]) >= 1
    # a key the process already resolved needs no lookup, and keeps working from there
    assert (await guarded.get("/customers", headers=workspace.live)).status_code == 200


async def test_a_refused_address_costs_no_database_query(admin, workspace):
    failures = auth.FailedLookups(per_second=0.01, burst=2)
    pool, cache = SpyPool(admin), SpyCache()
    for _ in range(2):
        with pytest.raises(AuthenticationFailed):
            await auth.resolve_key(pool, cache, made_up_key()["Authorization"][7:], failures,
                                   "203.0.113.7")
    assert len(pool.calls) == 2
    with pytest.raises(RateLimited) as refused:
        await auth.resolve_key(pool, cache, made_up_key()["Authorization"][7:], failures,
                               "203.0.113.7")
    assert int(refused.value.headers["Retry-After"]) >= 1
    assert len(pool.calls) == 2  # refused before the lookup
    # another address, and a valid key from it, are looked up as usual
    principal = await auth.resolve_key(pool, cache, workspace.live_key, failures, "203.0.113.8")
    assert principal.key_id == workspace.live_key_id and len(pool.calls) == 3


async def test_successful_lookups_do_not_count(admin, workspace):
    failures = auth.FailedLookups(per_second=0.01, burst=1)
    for _ in range(3):  # a fresh cache each time: every call is a lookup
        await auth.resolve_key(admin, auth.KeyCache(ttl=60), workspace.live_key, failures, "a")
    assert failures.retry_after("a") is None


def test_failed_lookup_limits_are_configured_from_the_environment():
    env = {"DATABASE_URL": "postgresql://db", "REDIS_URL": "redis://r"}
    default = Settings.from_env(env)
    assert (default.auth_failures_per_second, default.auth_failures_burst) == (10, 20)
    env.update(PIVOTAL_AUTH_FAILURES_PER_SECOND="2", PIVOTAL_AUTH_FAILURES_BURST="5")
    settings = Settings.from_env(env)
    assert (settings.auth_failures_per_second, settings.auth_failures_burst) == (2, 5)
    with pytest.raises(SettingsError):
        Settings.from_env({**env, "PIVOTAL_AUTH_FAILURES_BURST": "-1"})


def test_a_zero_rate_turns_the_check_off():
    failures = auth.FailedLookups(per_second=0, burst=1)
    for _ in range(5):
        failures.failed("a")
    assert failures.retry_after("a") is None


async def test_made_up_keys_from_one_address_are_cut_off_by_default(database_url, servers):
    # the defaults: 20 failed lookups, then 10 a second
    app = create_app(make_settings(database_url, servers.redis_url))
    async with AsyncTestClient(app=app, base_url="http://testserver/api/v1") as client:
        started = time.monotonic()
        statuses = [(await client.get("/customers", headers=made_up_key())).status_code
                    for _ in range(60)]
        elapsed = time.monotonic() - started
    assert set(statuses) == {401, 429}
    assert 20 <= statuses.count(401) <= 20 + 10 * elapsed + 1
