"""The webhook scenario: commit→receiver latency at a sustained event rate, and deliveries per
second draining a backlog to a fast receiver on loopback.

    .venv/bin/python -m bench.webhooks
    WEBHOOK_RATE=200 WEBHOOK_SECONDS=10 WEBHOOK_BACKLOG=2000 WEBHOOK_ENDPOINTS=5 ...

The API (`pivotal serve --workers 2`), one `pivotal worker` and the receiver (bench/receiver.py,
its own process) share the box with PostgreSQL and Redis. Latency is measured from the moment
the API's response to the write arrives (the transaction committed before it was sent) to the
moment the receiver reads the delivery. Writes bench/RESULTS-webhooks.md (with BENCH_QUICK=1,
bench/out/RESULTS-webhooks.quick.md).
"""

from __future__ import annotations

import asyncio
import os
import statistics
import sys
import time
from datetime import UTC, datetime
from pathlib import Path

import asyncpg
import httpx

from bench.config import BENCH_DIR, OUT_DIR
from bench.measure import percentile
from bench.scratch import on_scratch_database
from bench.stack import (
    running_server,
    server_env,
    spawn,
    stop_server,
)
from devtools.devstack import free_port

DATABASE = "pivotal_webhooks_bench"
# a quick development run (BENCH_QUICK=1) never replaces the committed full-run figures
RESULTS = (OUT_DIR / "RESULTS-webhooks.quick.md" if os.environ.get("BENCH_QUICK", "") not in ("", "0")
           else BENCH_DIR / "RESULTS-webhooks.md")


def _setting(name: str, default: float) -> float:
    return float(os.environ.get(name, default))


def _arrivals(path: Path) -> dict[str, float]:
    """object id -> first arrival time at the receiver."""
    first: dict[str, float] = {}
    if path.exists():
        for line in path.read_text().splitlines():
            _, object_id, at = line.split()
            first.setdefault(object_id, float(at))
    return first


async def _paced_writes(client: httpx.AsyncClient, rate: float, seconds: float) -> dict[str, float]:
    """POST customers open-loop at `rate` a second; object id -> when its response arrived."""
    committed: dict[str, float] = {}

    async def one(i: int) -> None:
        response = await client.post("/customers", json={"name": f"w{i}"})
        if response.status_code == 201:
            committed[response.json()["id"]] = time.time()

    tasks, started = [], time.monotonic()
    for i in range(int(rate * seconds)):
        delay = started + i / rate - time.monotonic()
        if delay > 0:
            await asyncio.sleep(delay)
        tasks.append(asyncio.create_task(one(i)))
    await asyncio.gather(*tasks)
    return committed


async def _wait_for(predicate, timeout: float) -> None:
    deadline = time.monotonic() + timeout
    while not predicate() and time.monotonic() < deadline:
        await asyncio.sleep(0.2)


async def _latency(client, arrivals_file: Path, rate: float, seconds: float) -> dict:
    committed = await _paced_writes(client, rate, seconds)
    await _wait_for(lambda: set(committed) <= set(_arrivals(arrivals_file)), 60)
    arrived = _arrivals(arrivals_file)
    latencies = [(arrived[k] - at) * 1000 for k, at in committed.items() if k in arrived]
    return {"events": len(committed), "arrived": len(latencies),
            "p50": statistics.median(latencies) if latencies else float("nan"),
            "p99": percentile(latencies, 0.99)}


async def _throughput(client, database_url: str, start_worker, backlog: int) -> dict:
    """Events written with the worker stopped, then the time a fresh worker takes to deliver."""
    for i in range(0, backlog, 50):
        await asyncio.gather(*(client.post("/customers", json={"name": f"b{j}"})
                               for j in range(i, min(i + 50, backlog))))
    conn = await asyncpg.connect(database_url)
    try:
        before = await conn.fetchval("select count(*) from webhook_deliveries where status = 'succeeded'")
        worker = start_worker()
        started = time.monotonic()
        total = 0
        while time.monotonic() - started < 300:
            pending = await conn.fetchval(
                "select (select count(*) from events where fanned_out_at is null)"
                " + (select count(*) from webhook_deliveries where status = 'pending')")
            if pending == 0:
                break
            await asyncio.sleep(0.1)
        elapsed = time.monotonic() - started
        total = await conn.fetchval(
            "select count(*) from webhook_deliveries where status = 'succeeded'") - before
    finally:
        await conn.close()
    return {"deliveries": total, "seconds": elapsed, "per_second": total / elapsed, "worker": worker}


async def _run(database_url: str, redis_url: str, key: str) -> dict:
    rate, seconds = _setting("WEBHOOK_RATE", 200), _setting("WEBHOOK_SECONDS", 10)
    backlog, endpoints = int(_setting("WEBHOOK_BACKLOG", 2000)), int(_setting("WEBHOOK_ENDPOINTS", 5))
    arrivals = OUT_DIR / "webhook-arrivals.txt"
    arrivals.unlink(missing_ok=True)
    env = server_env(database_url, redis_url)
    env.update(PIVOTAL_ENV="test", PIVOTAL_RATE_LIMIT_PER_SECOND="0",
               PIVOTAL_LOG_LEVEL=os.environ.get("PIVOTAL_LOG_LEVEL", "INFO"))
    pivotal = str(Path(sys.executable).parent / "pivotal")
    receiver_port, api_port = free_port(), free_port()
    receiver = spawn("receiver", [sys.executable, "-m", "bench.receiver", "--port",
                                   str(receiver_port), "--out", str(arrivals)], env)
    api_argv = [pivotal, "serve", "--port", str(api_port), "--workers", "2"]
    try:
        with running_server("webhooks-api", api_argv, env, api_port, "/api/v1/health") as api:
            headers = {"Authorization": f"Bearer {key}"}
            async with httpx.AsyncClient(base_url=f"{api.url}/api/v1", headers=headers,
                                         timeout=30) as client:
                url = f"http://127.0.0.1:{receiver_port}/hooks"
                await client.post("/webhook_endpoints", json={"url": url, "enabled_events": ["*"]})
                worker = spawn("webhooks-worker", [pivotal, "worker"], env)
                await asyncio.sleep(2)  # the worker is listening
                latency = await _latency(client, arrivals, rate, seconds)
                stop_server(worker)
                for _ in range(endpoints - 1):
                    await client.post("/webhook_endpoints", json={"url": url, "enabled_events": ["*"]})
                throughput = await _throughput(
                    client, database_url, lambda: spawn("webhooks-worker-2", [pivotal, "worker"], env),
                    backlog)
                stop_server(throughput.pop("worker"))
    finally:
        stop_server(receiver)
    return {"rate": rate, "seconds": seconds, "backlog": backlog, "endpoints": endpoints,
            "latency": latency, "throughput": throughput}


def _write(results: dict, source: str) -> str:
    latency, throughput = results["latency"], results["throughput"]
    text = f"""# Webhook benchmark

Generated by `python -m bench.webhooks` on {datetime.now(UTC):%Y-%m-%d %H:%M} UTC; services: {source}.
API `pivotal serve --workers 2`, one `pivotal worker` (SAQ, concurrency 50), a bare ASGI receiver
on loopback (bench/receiver.py), PostgreSQL and Redis on the same 2-core box.

| measurement | value |
|---|--:|
| commit → receiver, {results['rate']:g} events/s for {results['seconds']:g} s: p50 | {latency['p50']:.0f} ms |
| commit → receiver: p99 | {latency['p99']:.0f} ms |
| events written / delivered in that run | {latency['events']} / {latency['arrived']} |
| backlog drained: deliveries ({results['backlog']} events × {results['endpoints']} endpoints) | {throughput['deliveries']} in {throughput['seconds']:.1f} s |
| deliveries per second (one worker) | {throughput['per_second']:.0f} |

Targets (issue 5): p99 commit→receiver ≤ 250 ms at 200 events/s; ≥ 1,000 deliveries/s.
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
