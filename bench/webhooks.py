"""The webhook scenarios: commit→receiver latency at a sustained event rate, deliveries per
second draining a backlog to a fast receiver on loopback, fan-out of each event to 100
endpoints, and a fast endpoint's latency while 20 slow (1 s) endpoints are busy.

    .venv/bin/python -m bench.webhooks
    WEBHOOK_RATE=200 WEBHOOK_SECONDS=10 WEBHOOK_BACKLOG=2000 WEBHOOK_ENDPOINTS=5 ...
    WEBHOOK_FANOUT_ENDPOINTS=100 WEBHOOK_FANOUT_EVENTS=20 WEBHOOK_SLOW_ENDPOINTS=20 ...

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


def _arrivals(path: Path, key: int = 1) -> dict[str, float]:
    """object id (key=0: event id) -> first arrival time at the receiver."""
    first: dict[str, float] = {}
    if path.exists():
        for line in path.read_text().splitlines():
            fields = line.split()
            first.setdefault(fields[key], float(fields[2]))
    return first


# where an event's time goes, from the rows it left: the event written (in the API's
# transaction), fanned out by the relay (its delivery recorded), read by the receiver, and
# the attempt recorded by the worker
STAGES_SQL = """
select e.id, extract(epoch from e.created_at)::float8 as written,
       extract(epoch from e.fanned_out_at)::float8 as relayed,
       extract(epoch from a.attempted_at)::float8 as settled
from events e
join webhook_deliveries d on d.event_id = e.id
join webhook_attempts a on a.delivery_id = d.id
where e.id = any($1::text[])
"""


async def _stages(database_url: str, arrivals_file: Path) -> dict[str, tuple[float, float]]:
    """p50 and p99 (ms) of each stage between an event's write and its attempt's record."""
    arrived = _arrivals(arrivals_file, key=0)
    conn = await asyncpg.connect(database_url)
    try:
        rows = await conn.fetch(STAGES_SQL, list(arrived))
    finally:
        await conn.close()
    spans: dict[str, list[float]] = {"written → received": [], "written → relayed": [],
                                     "relayed → received": [], "received → attempt recorded": []}
    for row in rows:
        received = arrived[row["id"]]
        spans["written → received"].append((received - row["written"]) * 1000)
        spans["written → relayed"].append((row["relayed"] - row["written"]) * 1000)
        spans["relayed → received"].append((received - row["relayed"]) * 1000)
        spans["received → attempt recorded"].append((row["settled"] - received) * 1000)
    return {name: (statistics.median(values) if values else float("nan"),
                   percentile(values, 0.99)) for name, values in spans.items()}


async def _paced_writes(client: httpx.AsyncClient, rate: float, seconds: float) -> dict[str, float]:
    """POST customers open-loop at `rate` a second; object id -> when its response arrived."""
    committed: dict[str, float] = {}
    # at most this many requests open at once: past ~100 queued requests httpx's pool spends
    # its CPU scanning its queue, and on a busy box the client then falls behind the API
    open_requests = asyncio.Semaphore(64)

    async def one(i: int) -> None:
        async with open_requests:
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


async def _latency(client, arrivals_file: Path, rate: float, seconds: float,
                   database_url: str | None = None) -> dict:
    committed = await _paced_writes(client, rate, seconds)
    await _wait_for(lambda: set(committed) <= set(_arrivals(arrivals_file)), 60)
    arrived = _arrivals(arrivals_file)
    latencies = [(arrived[k] - at) * 1000 for k, at in committed.items() if k in arrived]
    stages = await _stages(database_url, arrivals_file) if database_url else {}
    return {"events": len(committed), "arrived": len(latencies),
            "p50": statistics.median(latencies) if latencies else float("nan"),
            "p99": percentile(latencies, 0.99), "stages": stages}


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


def _lines(path: Path) -> int:
    return len(path.read_text().splitlines()) if path.exists() else 0


async def _endpoints(client, url: str, count: int) -> list[str]:
    ids = []
    for _ in range(count):
        response = await client.post("/webhook_endpoints", json={"url": url, "enabled_events": ["*"]})
        ids.append(response.json()["id"])
    return ids


async def _disable(client, ids: list[str]) -> None:
    for endpoint_id in ids:
        await client.patch(f"/webhook_endpoints/{endpoint_id}", json={"status": "disabled"})


async def _fan_out(client, receiver_url: str, arrivals: Path, start_worker, endpoints: int,
                   events: int) -> dict:
    """One event to `endpoints` endpoints, then a burst of `events`: deliveries per second."""
    ids = await _endpoints(client, receiver_url, endpoints)
    worker = start_worker()
    await asyncio.sleep(2)  # the worker is listening
    started = time.monotonic()
    await client.post("/customers", json={"name": "fan-out"})
    await _wait_for(lambda: _lines(arrivals) >= endpoints, 60)
    one_event = time.monotonic() - started
    started = time.monotonic()
    await asyncio.gather(*(client.post("/customers", json={"name": f"f{i}"}) for i in range(events)))
    await _wait_for(lambda: _lines(arrivals) >= endpoints * (events + 1), 120)
    elapsed = time.monotonic() - started
    stop_server(worker)
    await _disable(client, ids)
    delivered = _lines(arrivals) - endpoints
    return {"endpoints": endpoints, "events": events, "one_event_seconds": one_event,
            "deliveries": delivered, "seconds": elapsed, "per_second": delivered / elapsed}


async def _beside_slow(client, fast_url: str, fast_arrivals: Path, slow_url: str,
                       start_worker, slow_endpoints: int, rate: float, seconds: float) -> dict:
    """A fast endpoint's commit→receiver latency while `slow_endpoints` endpoints, answering
    after 1 s each, receive the same events."""
    ids = await _endpoints(client, slow_url, slow_endpoints)
    ids += await _endpoints(client, fast_url, 1)
    worker = start_worker()
    await asyncio.sleep(2)
    result = await _latency(client, fast_arrivals, rate, seconds)
    stop_server(worker)
    await _disable(client, ids)
    return {"slow_endpoints": slow_endpoints, "rate": rate, "seconds": seconds, **result}


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
    # the fan-out and slow-endpoint scenarios get receivers of their own: their own counts
    fanout_arrivals, fast_arrivals = OUT_DIR / "webhook-fanout.txt", OUT_DIR / "webhook-fast.txt"
    for path in (fanout_arrivals, fast_arrivals, OUT_DIR / "webhook-slow.txt"):
        path.unlink(missing_ok=True)
    fanout_port, fast_port, slow_port = free_port(), free_port(), free_port()
    fanout_receiver = spawn("receiver-fanout", [sys.executable, "-m", "bench.receiver", "--port",
                                                str(fanout_port), "--out", str(fanout_arrivals)], env)
    fast_receiver = spawn("receiver-fast", [sys.executable, "-m", "bench.receiver", "--port",
                                            str(fast_port), "--out", str(fast_arrivals)], env)
    slow_receiver = spawn("receiver-slow", [sys.executable, "-m", "bench.receiver", "--port",
                                            str(slow_port), "--out", str(OUT_DIR / "webhook-slow.txt"),
                                            "--delay", "1"], env)
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
                latency = await _latency(client, arrivals, rate, seconds, database_url)
                stop_server(worker)
                for _ in range(endpoints - 1):
                    await client.post("/webhook_endpoints", json={"url": url, "enabled_events": ["*"]})
                throughput = await _throughput(
                    client, database_url, lambda: spawn("webhooks-worker-2", [pivotal, "worker"], env),
                    backlog)
                stop_server(throughput.pop("worker"))
                ids = (await client.get("/webhook_endpoints", params={"limit": 100})).json()["data"]
                await _disable(client, [e["id"] for e in ids])
                fan_out = await _fan_out(
                    client, f"http://127.0.0.1:{fanout_port}/hooks", fanout_arrivals, lambda: spawn("webhooks-worker-3", [pivotal, "worker"], env),
                    int(_setting("WEBHOOK_FANOUT_ENDPOINTS", 100)),
                    int(_setting("WEBHOOK_FANOUT_EVENTS", 20)))
                slow_url = f"http://127.0.0.1:{slow_port}/hooks"
                beside_slow = await _beside_slow(
                    client, f"http://127.0.0.1:{fast_port}/hooks", fast_arrivals, slow_url,
                    lambda: spawn("webhooks-worker-4", [pivotal, "worker"], env),
                    int(_setting("WEBHOOK_SLOW_ENDPOINTS", 20)),
                    _setting("WEBHOOK_SLOW_RATE", 20), _setting("WEBHOOK_SLOW_SECONDS", 10))
    finally:
        for server in (receiver, fanout_receiver, fast_receiver, slow_receiver):
            stop_server(server)
    return {"rate": rate, "seconds": seconds, "backlog": backlog, "endpoints": endpoints,
            "latency": latency, "throughput": throughput, "fan_out": fan_out,
            "beside_slow": beside_slow}


def _write(results: dict, source: str) -> str:
    latency, throughput = results["latency"], results["throughput"]
    fan_out, slow = results["fan_out"], results["beside_slow"]
    stages = "".join(f"| {name} (from the rows): p50 / p99 | {p50:.0f} / {p99:.0f} ms |\n"
                     for name, (p50, p99) in latency["stages"].items())
    text = f"""# Webhook benchmark

Generated by `python -m bench.webhooks` on {datetime.now(UTC):%Y-%m-%d %H:%M} UTC; services: {source}.
API `pivotal serve --workers 2`, one `pivotal worker` (SAQ, concurrency 50), a bare ASGI receiver
on loopback (bench/receiver.py), PostgreSQL and Redis on the same 2-core box.

| measurement | value |
|---|--:|
| commit → receiver, {results['rate']:g} events/s for {results['seconds']:g} s: p50 | {latency['p50']:.0f} ms |
| commit → receiver: p99 | {latency['p99']:.0f} ms |
| events written / delivered in that run | {latency['events']} / {latency['arrived']} |
{stages}| backlog drained: deliveries ({results['backlog']} events × {results['endpoints']} endpoints) | {throughput['deliveries']} in {throughput['seconds']:.1f} s |
| deliveries per second (one worker) | {throughput['per_second']:.0f} |
| fan-out: one event to {fan_out['endpoints']} endpoints, commit → last arrival | {fan_out['one_event_seconds'] * 1000:.0f} ms |
| fan-out: {fan_out['events']} events × {fan_out['endpoints']} endpoints, deliveries per second | {fan_out['per_second']:.0f} ({fan_out['deliveries']} in {fan_out['seconds']:.1f} s) |
| fast endpoint beside {slow['slow_endpoints']} slow (1 s) endpoints, {slow['rate']:g} events/s for {slow['seconds']:g} s: p50 | {slow['p50']:.0f} ms |
| fast endpoint beside slow endpoints: p99 | {slow['p99']:.0f} ms |
| events written / delivered to the fast endpoint in that run | {slow['events']} / {slow['arrived']} |

Targets: p99 commit→receiver ≤ 250 ms at 200 events/s; ≥ 1,000 deliveries/s (issue 5); a fast
endpoint's p99 ≤ 250 ms while 20 slow endpoints are busy (webhooks, second round).
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
