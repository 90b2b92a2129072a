"""The rate limit under concurrency: requests in flight together share a key's tokens, none
are thrown away, and the limit still holds. Driven through a real server process and real
Redis, and through the limiter itself."""

from __future__ import annotations

import asyncio
import contextlib
import json
import time
from collections import Counter
from typing import NamedTuple

from tests.apiserver import start_api, wait_until_serving
from tests.conftest import make_settings


@contextlib.asynccontextmanager
async def api_server(database_url: str, redis_url: str, log_path, **env: str):
    """`pivotal serve` (one process) on a port of its own choosing (tests/apiserver.py);
    yields the port."""
    server = start_api(database_url, redis_url, log_path, **env)
    try:
        await wait_until_serving(server)
        yield server.port
    finally:
        server.process.terminate()
        await asyncio.to_thread(server.process.wait, 30)


class Answer(NamedTuple):
    status: int
    headers: dict[str, str]
    body: bytes


async def get_many(port: int, path: str, headers: dict[str, str], count: int,
                   connections: int = 40) -> list[Answer]:
    """`count` GETs over `connections` concurrent keep-alive connections, each sending its next
    request once the previous one is answered.

    Plain sockets rather than an HTTP client library: the client must cost far less than the
    server, or it, not the server, decides how many requests are in flight.
    """
    lines = [f"GET {path} HTTP/1.1", "Host: 127.0.0.1", *(f"{k}: {v}" for k, v in headers.items())]
    request = ("\r\n".join(lines) + "\r\n\r\n").encode()

    async def connection(requests: int) -> list[Answer]:
        reader, writer = await asyncio.open_connection("127.0.0.1", port)
        answers = []
        try:
            for _ in range(requests):
                writer.write(request)
                head = (await reader.readuntil(b"\r\n\r\n")).decode("latin-1").split("\r\n")
                fields = dict(line.split(": ", 1) for line in head[1:] if line)
                fields = {name.lower(): value for name, value in fields.items()}
                body = await reader.readexactly(int(fields["content-length"]))
                answers.append(Answer(int(head[0].split()[1]), fields, body))
        finally:
            writer.close()
        return answers

    shares = [count // connections + (i < count % connections) for i in range(connections)]
    results = await asyncio.gather(*(connection(share) for share in shares))
    return [answer for answers in results for answer in answers]


async def test_a_thousand_requests_over_forty_connections_from_a_full_bucket_get_no_429(
    database_url, servers, workspace, tmp_path
):
    # the defaults: 1,000 a second, bursts of 2,000
    async with api_server(database_url, servers.redis_url, tmp_path / "api.log") as port:
        answers = await get_many(port, "/api/v1/customers", workspace.live, 1000)
    assert Counter(answer.status for answer in answers) == {200: 1000}


async def test_requests_over_forty_connections_past_the_burst_are_429_with_retry_after(
    database_url, servers, workspace, tmp_path
):
    # bursts of 10, refilled at one every 100 seconds: nothing refills during the test
    env = {"PIVOTAL_RATE_LIMIT_PER_SECOND": "0.01", "PIVOTAL_RATE_LIMIT_BURST": "10"}
    async with api_server(database_url, servers.redis_url, tmp_path / "api.log", **env) as port:
        answers = await get_many(port, "/api/v1/customers", workspace.live, 100)
    assert Counter(answer.status for answer in answers) == {200: 10, 429: 90}
    for refused in (answer for answer in answers if answer.status == 429):
        assert json.loads(refused.body)["error"]["code"] == "rate_limited"
        assert int(refused.headers["retry-after"]) >= 1
        assert refused.headers["ratelimit-remaining"] == "0"


async def test_concurrent_hits_in_one_process_share_one_batch(servers, database_url):
    from app.http.ratelimit import RateLimiter

    limiter = RateLimiter(make_settings(database_url, servers.redis_url))
    key = f"concurrent-{time.monotonic_ns()}"
    try:
        allowances = await asyncio.gather(*(limiter.hit(key) for _ in range(40)))
        # one batch of 50 taken from the full bucket of 2,000, spent 40 times
        assert sorted(a.remaining for a in allowances) == list(range(1960, 2000))
        # 10 left in the lease, then one more batch shared by the other 30
        later = await asyncio.gather(*(limiter.hit(key) for _ in range(40)))
        assert None not in later
        assert set(range(1950, 1960)) <= {a.remaining for a in later}
    finally:
        await limiter.close()


async def test_a_request_cancelled_while_awaiting_a_refill_leaves_it_to_the_others(
    servers, database_url
):
    from app.http.ratelimit import RateLimiter

    limiter = RateLimiter(make_settings(database_url, servers.redis_url))
    key = f"cancelled-{time.monotonic_ns()}"
    try:
        first = asyncio.ensure_future(limiter.hit(key))
        await asyncio.sleep(0)  # it found the lease empty and started the refill
        others = [asyncio.ensure_future(limiter.hit(key)) for _ in range(5)]
        await asyncio.sleep(0)
        first.cancel()  # as the request deadline does
        allowances = await asyncio.gather(*others)
        assert sorted(a.remaining for a in allowances) == list(range(1995, 2000))
    finally:
        await limiter.close()


async def test_concurrent_processes_never_exceed_the_shared_bucket(servers, database_url):
    from app.core.errors import RateLimited
    from app.http.ratelimit import RateLimiter

    settings = make_settings(database_url, servers.redis_url, rate_limit_per_second=100,
                             rate_limit_burst=200)
    limiters = [RateLimiter(settings), RateLimiter(settings)]
    assert limiters[0].batch == 5
    key = f"shared-concurrent-{time.monotonic_ns()}"
    slots = asyncio.Semaphore(40)

    async def hit(limiter) -> bool:
        async with slots:
            try:
                await limiter.hit(key)
                return True
            except RateLimited:
                return False

    started = time.monotonic()
    try:
        allowed = sum(await asyncio.gather(*(hit(limiters[i % 2]) for i in range(1000))))
        elapsed = time.monotonic() - started
        # the whole burst, and never more than it plus what refilled (100/s) meanwhile
        assert 200 <= allowed <= 200 + 100 * elapsed + 1
    finally:
        for limiter in limiters:
            await limiter.close()
