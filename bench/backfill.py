"""The backfill scenario: batch upserts against single POSTs, in one run, on one workspace.

    .venv/bin/python -m bench.backfill          # 100,000 customers, then 100,000 contacts
    BACKFILL_OBJECTS=10000 BACKFILL_CLIENTS=8 .venv/bin/python -m bench.backfill

1. The single-POST rate: wrk posting one customer per request into the workspace (the same
   load script as `make bench`'s POST scenario), for a few seconds.
2. The backfill: N customers, then N contacts that name their customer by
   `customer_external_id`, in batches of 100 from 8 concurrent clients.
3. The same backfill again: every item `unchanged`, and no event written.
The API is `pivotal serve --workers 2` with the rate limit off (a batch is one request).
Writes bench/RESULTS-backfill.md (with BENCH_QUICK=1, bench/out/RESULTS-backfill.quick.md).
"""

from __future__ import annotations

import asyncio
import os
import statistics
import sys
import time
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import aiohttp
import asyncpg
import msgspec

from bench.config import BENCH_DIR, OUT_DIR, BenchConfig
from bench.measure import percentile
from bench.scratch import on_scratch_database
from bench.seed import SeedData, Tenant
from bench.stack import RssSampler, running_server, server_env
from bench.wrk import find_wrk, run_wrk, write_script, wrk_argv
from devtools.devstack import free_port

DATABASE = "pivotal_backfill_bench"
QUICK = os.environ.get("BENCH_QUICK", "") not in ("", "0")
RESULTS = OUT_DIR / "RESULTS-backfill.quick.md" if QUICK else BENCH_DIR / "RESULTS-backfill.md"
BATCH = 100
encode = msgspec.json.encode


def _customer_batches(count: int) -> list[bytes]:
    items = [{"name": f"Company {i}", "domain": f"c{i}.example.com", "external_id": f"hs-co-{i}",
              "lifecycle_stage": "active", "metadata": {"source": "hubspot"}}
             for i in range(count)]
    return [encode({"items": items[i:i + BATCH]}) for i in range(0, count, BATCH)]


def _contact_batches(count: int) -> list[bytes]:
    items = [{"customer_external_id": f"hs-co-{i}", "email": f"person{i}@c{i}.example.com",
              "name": f"Person {i}", "external_id": f"hs-ct-{i}"} for i in range(count)]
    return [encode({"items": items[i:i + BATCH]}) for i in range(0, count, BATCH)]


async def _analyze(database_url: str, table: str) -> None:
    conn = await asyncpg.connect(database_url)
    try:
        await conn.execute(f"analyze {table}")
    finally:
        await conn.close()


async def _send(url: str, key: str, bodies: list[bytes], clients: int,
                analyze: Any = None) -> dict:
    """POST every body from `clients` concurrent connections; objects/s and call latencies.

    `analyze` runs once the first round of bodies (one per client) is in: a deployment's
    tables hold statistics from their other tenants' rows (autovacuum analyzes a new table
    once 50 rows are in), and until a table has them, PostgreSQL's default estimates pick a
    workspace-wide index scan for the external_id lookups (see the README's benchmarks).
    """
    queue = list(reversed(bodies))
    analyze_at = len(bodies) - clients
    latencies: list[float] = []
    results: dict[str, int] = {}
    headers = {"Authorization": f"Bearer {key}", "Content-Type": "application/json"}

    async def client(session: aiohttp.ClientSession) -> None:
        nonlocal analyze
        while queue:
            if analyze is not None and len(queue) <= analyze_at:
                pending, analyze = analyze, None
                await pending()
            body = queue.pop()
            started = time.perf_counter()
            async with session.post(url, data=body, headers=headers) as response:
                answer = await response.read()
                if response.status != 200:
                    raise RuntimeError(f"batch answered {response.status}: {answer[:300]!r}")
            latencies.append((time.perf_counter() - started) * 1000)
            for kind in ("created", "updated", "unchanged", "error"):
                results[kind] = results.get(kind, 0) + answer.count(b'"result":"%s"' % kind.encode())

    connector = aiohttp.TCPConnector(limit=clients)
    async with aiohttp.ClientSession(connector=connector) as session:
        started = time.perf_counter()
        await asyncio.gather(*(client(session) for _ in range(clients)))
        seconds = time.perf_counter() - started
    objects = sum(results.values())
    return {"objects": objects, "seconds": seconds, "per_second": objects / seconds,
            "p50": statistics.median(latencies), "p99": percentile(latencies, 0.99),
            "results": results}


def _single_post_rate(api_url: str, key: str, workspace_id: str, seconds: float) -> float:
    tenant = Tenant("backfill", workspace_id, [key], 0)
    data = SeedData([tenant], tenant, {}, 0.0)
    script = write_script("backfill-single-post", "/api/v1", data, (("post_customer", 1),),
                          nonce=f"bf{int(time.time())}")
    config = BenchConfig.from_env()
    measured = run_wrk(wrk_argv(find_wrk(), config, api_url, script, seconds))
    if measured.errors:
        raise RuntimeError(f"single POSTs failed: {measured.errors} errors")
    return measured.rate


async def _events(database_url: str) -> int:
    conn = await asyncpg.connect(database_url)
    try:
        return await conn.fetchval("select count(*) from events")
    finally:
        await conn.close()


async def _run(database_url: str, redis_url: str, key: str) -> dict:
    count = int(os.environ.get("BACKFILL_OBJECTS") or (10_000 if QUICK else 100_000))
    clients = int(os.environ.get("BACKFILL_CLIENTS") or 8)
    env = server_env(database_url, redis_url)
    env.update(PIVOTAL_RATE_LIMIT_PER_SECOND="0")
    port = free_port()
    pivotal = str(Path(sys.executable).parent / "pivotal")
    argv = [pivotal, "serve", "--port", str(port), "--workers", "2"]
    conn = await asyncpg.connect(database_url)
    workspace_id = await conn.fetchval("select workspace_id from api_keys limit 1")
    await conn.close()
    with running_server("backfill-api", argv, env, port, "/api/v1/health") as api, \
            RssSampler([api]) as rss:
        single = _single_post_rate(api.url, key, workspace_id, 3 if QUICK else 5)
        runs = {}
        for label, path, bodies in (("customers", "customers", _customer_batches(count)),
                                    ("contacts", "contacts", _contact_batches(count))):
            runs[label] = await _send(f"{api.url}/api/v1/{path}/batch", key, bodies, clients,
                                      lambda path=path: _analyze(database_url, path))
        before = await _events(database_url)
        for label, path, bodies in (("customers again", "customers", _customer_batches(count)),
                                    ("contacts again", "contacts", _contact_batches(count))):
            runs[label] = await _send(f"{api.url}/api/v1/{path}/batch", key, bodies, clients)
        new_events = await _events(database_url) - before
    return {"count": count, "clients": clients, "single": single, "runs": runs,
            "new_events": new_events, "rss": rss.peak_mb("backfill-api")}


def _write(results: dict, source: str) -> str:
    single = results["single"]
    rows = []
    for label, run in results["runs"].items():
        outcome = ", ".join(f"{n:,} {kind}" for kind, n in run["results"].items() if n)
        rows.append(f"| {label} | {run['objects']:,} | {run['seconds']:.1f} s | "
                    f"{run['per_second']:,.0f} | {run['per_second'] / single:.1f}× | "
                    f"{run['p50']:.0f} / {run['p99']:.0f} ms | {outcome} |")
    created = min(results["runs"]["customers"]["per_second"],
                  results["runs"]["contacts"]["per_second"]) / single
    again = min(results["runs"]["customers again"]["per_second"],
                results["runs"]["contacts again"]["per_second"]) / single
    rss = ", ".join(f"{mb:.0f} MB" for mb in results["rss"])
    text = f"""# Backfill benchmark

Generated by `python -m bench.backfill` on {datetime.now(UTC):%Y-%m-%d %H:%M} UTC; services:
{source}. API `pivotal serve --workers 2` (rate limit off), {results['clients']} concurrent
clients posting batches of {BATCH}; PostgreSQL and Redis on the same 2-core box.

Single POST /customers into the same workspace, same run (wrk): **{single:,.0f} objects/s**.

| run | objects | time | objects/s | ÷ single POST | p50 / p99 per batch call | results |
|---|--:|--:|--:|--:|--:|---|
{chr(10).join(rows)}

Events written by the two unchanged runs: {results['new_events']}. API workers' peak RSS: {rss}.

| target (issue 11) | measured | met |
|---|--:|:-:|
| backfill objects/s ≥ 10× single POST | {created:.1f}× | {'yes' if created >= 10 else '**no**'} |
| unchanged resend ≥ 20× single POST | {again:.1f}× | {'yes' if again >= 20 else '**no**'} |
| no events from unchanged items | {results['new_events']} | {'yes' if results['new_events'] == 0 else '**no**'} |
| API worker RSS ≤ 150 MB | {max(results['rss'] or [0]):.0f} MB | {'yes' if max(results['rss'] or [0]) <= 150 else '**no**'} |
"""
    RESULTS.parent.mkdir(parents=True, exist_ok=True)
    RESULTS.write_text(text)
    return text


async def main() -> int:
    results, source = await on_scratch_database(DATABASE, _run)
    print(_write(results, source))
    return 0


if __name__ == "__main__":
    sys.exit(asyncio.run(main()))
