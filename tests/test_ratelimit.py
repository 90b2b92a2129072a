"""Rate limiting per API key, in Redis; open (and quiet) when Redis is unreachable."""

from __future__ import annotations

import logging
import socket
import time
from collections.abc import Iterator

import pytest
from litestar.testing import AsyncTestClient

from app.main import create_app
from app.settings import Settings
from tests.conftest import make_settings
from tests.test_errors import assert_error

CLOSED_PORT = "redis://127.0.0.1:1/0"


@pytest.fixture
async def limited(database_url, servers):
    """An app allowing each key bursts of 3 requests, refilled at one every 5 seconds."""
    settings = make_settings(database_url, servers.redis_url, rate_limit_per_second=0.2,
                             rate_limit_burst=3)
    async with AsyncTestClient(app=create_app(settings), base_url="http://testserver/api/v1") as c:
        yield c


async def test_a_key_over_its_limit_gets_429_with_retry_after(limited, workspace):
    remaining = []
    for _ in range(3):
        response = await limited.get("/customers", headers=workspace.live)
        assert response.status_code == 200
        assert response.headers["ratelimit-limit"] == "3"
        remaining.append(response.headers["ratelimit-remaining"])
    assert remaining == ["2", "1", "0"]

    refused = await limited.get("/customers", headers=workspace.live)
    error = assert_error(refused, 429, "rate_limited")
    assert error["type"] == "rate_limit_error"
    assert refused.headers["retry-after"] == "5"
    assert refused.headers["ratelimit-remaining"] == "0"
    assert int(refused.headers["ratelimit-reset"]) >= 1


async def test_each_key_has_its_own_allowance(limited, workspace):
    for _ in range(4):
        await limited.get("/customers", headers=workspace.live)
    assert (await limited.get("/customers", headers=workspace.test)).status_code == 200


async def test_every_authenticated_response_reports_the_allowance(client, auth):
    for path in ("/customers", "/customers/999", "/events"):
        response = await client.get(path, headers=auth)
        assert response.headers["ratelimit-limit"] == "2000"
        assert int(response.headers["ratelimit-remaining"]) <= 1999
    assert "ratelimit-limit" not in (await client.get("/health")).headers


async def test_unreachable_redis_leaves_the_api_serving_and_warns_once(
    database_url, workspace, caplog
):
    app = create_app(make_settings(database_url, CLOSED_PORT))
    async with AsyncTestClient(app=app, base_url="http://testserver/api/v1") as client:
        with caplog.at_level(logging.WARNING, logger="pivotal.ratelimit"):
            responses = [await client.get("/customers", headers=workspace.live) for _ in range(5)]
    assert [r.status_code for r in responses] == [200] * 5
    assert "ratelimit-limit" not in responses[0].headers
    warnings = [r for r in caplog.records if r.name == "pivotal.ratelimit"]
    assert len(warnings) == 1


@pytest.fixture
def silent_redis() -> Iterator[socket.socket]:
    """A loopback port that accepts connections and never answers: a hung Redis."""
    with socket.socket() as listener:
        listener.bind(("127.0.0.1", 0))
        listener.listen(64)
        yield listener


def accepted_connections(listener: socket.socket) -> int:
    """How many connections reached `listener` (the kernel completed them; none was read)."""
    listener.setblocking(False)
    count = 0
    while True:
        try:
            connection, _ = listener.accept()
        except BlockingIOError:
            return count
        connection.close()
        count += 1


async def test_a_hung_redis_is_asked_once_and_no_request_waits_out_its_deadline(
    database_url, workspace, silent_redis, caplog
):
    port = silent_redis.getsockname()[1]
    # a limiter waiting on Redis as long as the request may run would turn requests into 503s
    settings = make_settings(database_url, f"redis://127.0.0.1:{port}/0", request_timeout_seconds=5)
    async with AsyncTestClient(app=create_app(settings), base_url="http://testserver/api/v1") as c:
        with caplog.at_level(logging.WARNING, logger="pivotal.ratelimit"):
            responses = [await c.get("/customers", headers=workspace.live) for _ in range(5)]
    assert [r.status_code for r in responses] == [200] * 5
    # after one failed attempt the limit stays open without trying Redis again
    assert accepted_connections(silent_redis) == 1
    assert len([r for r in caplog.records if r.name == "pivotal.ratelimit"]) == 1


def test_limits_are_configured_from_the_environment():
    env = {"DATABASE_URL": "postgresql://db", "REDIS_URL": "redis://r",
           "PIVOTAL_RATE_LIMIT_PER_SECOND": "50", "PIVOTAL_RATE_LIMIT_BURST": "80"}
    settings = Settings.from_env(env)
    assert (settings.rate_limit_per_second, settings.rate_limit_burst) == (50, 80)
    default = Settings.from_env({"DATABASE_URL": "postgresql://db", "REDIS_URL": "redis://r"})
    assert (default.rate_limit_per_second, default.rate_limit_burst) == (1000, 2000)


async def test_a_zero_rate_turns_the_limit_off(database_url, servers, workspace):
    settings = make_settings(database_url, servers.redis_url, rate_limit_per_second=0)
    async with AsyncTestClient(app=create_app(settings), base_url="http://testserver/api/v1") as c:
        response = await c.get("/customers", headers=workspace.live)
    assert response.status_code == 200 and "ratelimit-limit" not in response.headers


async def test_openapi_documents_429_for_every_authenticated_operation(client):
    document = (await client.get("/openapi.json")).json()
    for path, item in document["paths"].items():
        for method, operation in item.items():
            if method == "parameters" or operation.get("security") == []:
                continue
            refused = operation["responses"]["429"]
            assert "Retry-After" in refused["headers"], (method, path)
            assert refused["content"]["application/json"]["example"]["error"]["code"] == (
                "rate_limited"
            )


async def test_a_process_takes_tokens_in_batches_and_spends_them_locally(servers, database_url):
    import redis.asyncio as aioredis

    from app.http.ratelimit import RateLimiter

    settings = make_settings(database_url, servers.redis_url, rate_limit_per_second=1000,
                             rate_limit_burst=2000)
    limiter = RateLimiter(settings)
    redis = aioredis.Redis.from_url(servers.redis_url)
    key = f"batch-{time.monotonic_ns()}"
    try:
        assert limiter.batch == 50
        first = await limiter.hit(key)
        stored = await redis.get(f"pivotal:ratelimit:{key}")
        for _ in range(49):
            await limiter.hit(key)
        assert await redis.get(f"pivotal:ratelimit:{key}") == stored  # all served locally
        await limiter.hit(key)
        assert await redis.get(f"pivotal:ratelimit:{key}") != stored  # the next batch
        assert first.remaining == 1999
    finally:
        await limiter.close()
        await redis.aclose()


async def test_processes_together_never_exceed_the_shared_bucket(servers, database_url):
    from app.core.errors import RateLimited
    from app.http.ratelimit import RateLimiter

    settings = make_settings(database_url, servers.redis_url, rate_limit_per_second=200,
                             rate_limit_burst=100)
    limiters = [RateLimiter(settings), RateLimiter(settings)]
    assert limiters[0].batch == 5
    key = f"shared-{time.monotonic_ns()}"
    allowed = 0
    started = time.monotonic()
    try:
        for i in range(400):
            try:
                await limiters[i % 2].hit(key)
                allowed += 1
            except RateLimited:
                pass
        elapsed = time.monotonic() - started
        # never more than the burst plus what refilled (200/s) while the loop ran
        assert 100 <= allowed <= 100 + 200 * elapsed + 1
    finally:
        for limiter in limiters:
            await limiter.close()


async def test_a_limit_above_a_million_a_second_still_counts(database_url, servers, workspace):
    # Redis keeps microseconds: the interval between tokens cannot round down to zero
    settings = make_settings(database_url, servers.redis_url, rate_limit_per_second=5_000_000,
                             rate_limit_burst=50)
    async with AsyncTestClient(app=create_app(settings), base_url="http://testserver/api/v1") as c:
        for _ in range(20):
            response = await c.get("/customers", headers=workspace.live)
            assert response.status_code == 200
            assert 0 <= int(response.headers["ratelimit-remaining"]) < 50
            assert 0 <= int(response.headers["ratelimit-reset"]) <= 1
