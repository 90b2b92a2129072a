"""`python -m bench.pooler`: what a request costs PostgreSQL, and the API behind PgBouncer.

1. PostgreSQL transactions per request, counted: the scratch database's xact_commit +
   xact_rollback (pg_stat_database) across N requests of one kind through the app, minus what
   the app's startup and shutdown alone cost.
2. GET and POST through PgBouncer (transaction pooling, devtools/pgbouncer.py) beside direct:
   `pivotal serve --workers 2` under wrk, the two alternating round by round.

Writes bench/RESULTS-pooler.md. Needs wrk, and pgbouncer for part 2 (skipped without it).
"""

from __future__ import annotations

import asyncio
import contextlib
import shutil
import sys
import time
from collections.abc import Awaitable, Callable
from dataclasses import replace
from datetime import UTC, datetime
from pathlib import Path

import asyncpg
import psutil
from litestar.testing import AsyncTestClient

from app.main import create_app
from app.settings import Settings
from bench.config import BENCH_DIR
from bench.scratch import run_and_report
from bench.stack import running_server, server_env, with_database
from bench.wrk import find_wrk, plain_script, run_plain
from devtools import pgbouncer
from devtools.devstack import free_port

NAME = "pivotal_bench_pooler"
REQUESTS = 200
ROUNDS, SECONDS, CONNECTIONS = 3, 5, 32
RESULTS = BENCH_DIR / "RESULTS-pooler.md"

Call = Callable[[AsyncTestClient, dict[str, str], int], Awaitable[object]]


async def _get_display(client, auth, i):
    return await client.get(f"/customers/{i % 50 + 1}", headers=auth)


async def _list(client, auth, i):
    return await client.get("/customers?limit=10", headers=auth)


async def _post(client, auth, i):
    return await client.post("/customers", json={"name": f"p{i}"}, headers=auth)


async def _post_idempotent(client, auth, i):
    return await client.post("/customers", json={"name": f"i{i}"},
                             headers={**auth, "Idempotency-Key": f"k{i}-{time.time_ns()}"})


async def _patch(client, auth, i):
    return await client.patch(f"/customers/{i % 50 + 1}", json={"name": f"q{i}"}, headers=auth)


async def _batch(client, auth, i):
    items = [{"name": f"b{i}-{n}", "external_id": f"b{i}-{n}-{time.time_ns()}"} for n in range(100)]
    return await client.post("/customers/batch", json={"items": items}, headers=auth)


async def _feed(client, auth, i):
    return await client.get("/events?order=asc&limit=10", headers=auth)


# (label, request, auth cache seconds): a cached key costs no lookup; the uncached kind shows
# what the lookup adds (once per key per PIVOTAL_AUTH_CACHE_SECONDS in each API process)
KINDS: list[tuple[str, Call, float]] = [
    ("GET /customers/{display_id}", _get_display, 3600.0),
    ("GET /customers/{display_id}, key not cached", _get_display, 0.0),
    ("GET /customers?limit=10", _list, 3600.0),
    ("GET /events?order=asc (feed tail)", _feed, 3600.0),
    ("POST /customers", _post, 3600.0),
    ("POST /customers with Idempotency-Key", _post_idempotent, 3600.0),
    ("PATCH /customers/{display_id}", _patch, 3600.0),
    ("POST /customers/batch (100 items)", _batch, 3600.0),
]


async def _transactions(server_url: str, database: str) -> int:
    conn = await asyncpg.connect(with_database(server_url, "postgres"))
    try:
        # a backend reports its counts when it exits: wait until the app's have gone
        for _ in range(200):
            left = await conn.fetchval(
                "select count(*) from pg_stat_activity where datname = $1", database)
            if left == 0:
                break
            await asyncio.sleep(0.05)
        await asyncio.sleep(0.2)
        return await conn.fetchval(
            "select xact_commit + xact_rollback from pg_stat_database where datname = $1",
            database)
    finally:
        await conn.close()


async def _count(server_url: str, settings: Settings, key: str, call: Call, n: int) -> int:
    before = await _transactions(server_url, NAME)
    auth = {"Authorization": f"Bearer {key}"}
    async with AsyncTestClient(create_app(settings), base_url="http://bench.local/api/v1") as client:
        # the key's first lookup (and its caching) belongs to both counts, so it cancels out
        await _get_display(client, auth, 0)
        for i in range(n):
            response = await call(client, auth, i)
            assert response.status_code < 300, response.text
    return await _transactions(server_url, NAME) - before


async def transactions_per_request(database_url: str, redis_url: str, key: str) -> list[tuple]:
    server_url = with_database(database_url, "postgres")
    rows = []
    base = Settings(database_url=database_url, redis_url=redis_url, env="production",
                    rate_limit_per_second=0)
    async with AsyncTestClient(create_app(base), base_url="http://bench.local/api/v1") as client:
        for i in range(50):  # display ids 1..50 for the GET and PATCH kinds
            await client.post("/customers", json={"name": f"seed{i}"},
                              headers={"Authorization": f"Bearer {key}"})
    for label, call, cache_seconds in KINDS:
        settings = replace(base, auth_cache_seconds=cache_seconds)
        startup = await _count(server_url, settings, key, call, 0)
        total = await _count(server_url, settings, key, call, REQUESTS)
        rows.append((label, (total - startup) / REQUESTS))
    return rows


def _cpu(processes: list[psutil.Process]) -> float:
    """CPU seconds (user + system) the processes have used so far."""
    total = 0.0
    for process in processes:
        with contextlib.suppress(psutil.Error):
            times = process.cpu_times()
            total += times.user + times.system
    return total


def _backends(database: str) -> dict[int, float]:
    """CPU seconds so far of each PostgreSQL backend on `database` (its process title names it)."""
    used = {}
    for process in psutil.process_iter(["cmdline"]):
        title = " ".join(process.info["cmdline"] or [])
        if title.startswith("postgres:") and f" {database} " in title:
            used[process.pid] = _cpu([process])
    return used


def _measure(wrk: str, kind: str, key: str, server, bouncer: list[psutil.Process]) -> tuple:
    """wrk's figures, with the API workers', PgBouncer's and PostgreSQL's CPU µs per request."""
    workers = server.workers()
    before = _cpu(workers), _cpu(bouncer), _backends(NAME)
    rate, p50, p99, errors, requests = run_plain(
        wrk, plain_script("pooler", kind, key), server.port, CONNECTIONS, SECONDS)
    backends = _backends(NAME)
    postgres = sum(used - before[2].get(pid, 0.0) for pid, used in backends.items())
    per_request = [(_cpu(workers) - before[0]), (_cpu(bouncer) - before[1]), postgres]
    return rate, p50, p99, errors, *(seconds / requests * 1e6 for seconds in per_request)


async def direct_and_pooled(database_url: str, redis_url: str, key: str) -> list[tuple]:
    wrk = find_wrk()
    results: dict[tuple[str, str], list[tuple]] = {}
    pivotal = [sys.executable, "-m", "app.ops.cli", "serve", "--workers", "2"]
    with pgbouncer.running(database_url) as pooler:
        bouncer = [psutil.Process(int((pooler.folder / "pgbouncer.pid").read_text()))]
        envs = {"direct": server_env(database_url, redis_url),
                "PgBouncer": {**server_env(pooler.url(database_url), redis_url),
                              "DATABASE_DIRECT_URL": database_url,
                              "PIVOTAL_DB_POOLER": "transaction"}}
        for round_ in range(ROUNDS):
            modes = list(envs) if round_ % 2 == 0 else list(reversed(envs))
            for mode in modes:
                env = {**envs[mode], "PIVOTAL_RATE_LIMIT_PER_SECOND": "0"}
                port = free_port()
                argv = [*pivotal, "--port", str(port)]
                with running_server(f"pooler-{mode}", argv, env, port,
                                    "/api/v1/health") as server:
                    for kind in ("get", "post"):
                        results.setdefault((kind, mode), []).append(
                            _measure(wrk, kind, key, server, bouncer if mode != "direct" else []))
    # the median of each column over the rounds
    return [(kind, mode, *(sorted(column)[len(column) // 2] for column in zip(*runs, strict=True)))
            for (kind, mode), runs in results.items()]


async def _run(database_url: str, redis_url: str, key: str) -> dict:
    transactions = await transactions_per_request(database_url, redis_url, key)
    pooled = None
    if shutil.which("pgbouncer") or Path("/usr/sbin/pgbouncer").exists():
        pooled = await direct_and_pooled(database_url, redis_url, key)
    return {"transactions": transactions, "pooled": pooled}


def report(result: dict, source: str) -> str:
    lines = [
        "# PostgreSQL transactions per request, and the API behind PgBouncer", "",
        (f"Generated by `python -m bench.pooler` on {datetime.now(UTC):%Y-%m-%d %H:%M} UTC; "
        f"services: {source}."), "",
        (f"Transactions: pg_stat_database's xact_commit + xact_rollback for the scratch database "
        f"across {REQUESTS} requests of each kind (in-process app, one workspace), less what "
        "starting and stopping the app with one request alone costs (so the key's first lookup "
        "cancels out). A cached key costs no lookup; uncached, the lookup is one more "
        "transaction, once per key per PIVOTAL_AUTH_CACHE_SECONDS in each API process."), "",
        "| request | PostgreSQL transactions per request |", "|---|--:|",
        *(f"| {label} | {value:.2f} |" for label, value in result["transactions"]), "",
    ]
    if result["pooled"] is None:
        lines.append("PgBouncer: not installed, not measured.")
        return "\n".join(lines) + "\n"
    lines += [
        (f"Direct and through PgBouncer 1.18 (transaction pooling, default_pool_size 20): "
        f"`pivotal serve --workers 2`, wrk {CONNECTIONS} keep-alive connections, {ROUNDS} rounds "
        f"× {SECONDS} s alternating the two, medians; rate limit off."), "",
        ("| request | path | req/s | p50 ms | p99 ms | non-2xx | CPU µs/req: API | PgBouncer "
        "| PostgreSQL |"), "|---|---|--:|--:|--:|--:|--:|--:|--:|",
    ]
    names = {"get": "GET /customers/{display_id}", "post": "POST /customers"}
    for kind, mode, rate, p50, p99, errors, api_us, bouncer_us, pg_us in sorted(result["pooled"]):
        bouncer = f"{bouncer_us:.0f}" if mode != "direct" else "—"
        lines.append(f"| {names[kind]} | {mode} | {rate:,.0f} | {p50:.1f} | {p99:.1f} | {errors} "
                     f"| {api_us:.0f} | {bouncer} | {pg_us:.0f} |")
    lines += ["", ("CPU µs per request is the CPU time (user + system) over the wrk run, divided by "
              "its requests, of the API's worker processes, of PgBouncer, and of the PostgreSQL "
              "backends on the bench database: unlike the rates, it hardly depends on what else "
              "the box is doing.")]
    return "\n".join(lines) + "\n"


def main() -> None:
    run_and_report(NAME, _run, report, RESULTS)


if __name__ == "__main__":
    main()
