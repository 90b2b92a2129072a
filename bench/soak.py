"""`make soak`: a bounded load run with mixed writes and a worker delivering webhooks, then a
reconciliation of what was written against what was announced and delivered.

    SOAK_SECONDS=180 SOAK_CLIENTS=16 .venv/bin/python -m bench.soak

Checks, once the load stops and the worker has drained: every object has exactly one
`*.created` event (and one `*.deleted` when deleted), every successful PATCH produced exactly
one `*.updated` event, every event reached the receiver, and no request got a 5xx. Exits 1
if any of that fails. Uses DATABASE_URL / REDIS_URL when set, else an embedded stack.
"""

from __future__ import annotations

import asyncio
import os
import random
import sys
import time
from collections import Counter
from dataclasses import dataclass, field
from pathlib import Path

import asyncpg
import httpx

from bench.config import OUT_DIR
from bench.scratch import on_scratch_database
from bench.stack import (
    running_server,
    server_env,
    spawn,
    stop_server,
)
from devtools.devstack import free_port

DATABASE = "pivotal_soak"
DRAIN_TIMEOUT = 120.0


@dataclass
class Tally:
    """What the clients saw: statuses per operation and the objects they made."""

    statuses: Counter = field(default_factory=Counter)
    customers: list[str] = field(default_factory=list)
    onboardings: dict[str, str] = field(default_factory=dict)  # id -> last known status
    busy: set[str] = field(default_factory=set)  # onboardings with a PATCH in flight
    patches: Counter = field(default_factory=Counter)  # resource -> successful changes

    def record(self, operation: str, response: httpx.Response) -> None:
        self.statuses[(operation, response.status_code)] += 1


async def _create_customer(client, tally: Tally) -> None:
    response = await client.post("/customers", json={"name": f"c{random.random():.6f}"})
    tally.record("POST /customers", response)
    if response.status_code == 201:
        tally.customers.append(response.json()["id"])


async def _rename_customer(client, tally: Tally) -> None:
    if not tally.customers:
        return
    target = random.choice(tally.customers)
    response = await client.patch(f"/customers/{target}", json={"name": f"r{random.random()}"})
    tally.record("PATCH /customers", response)
    if response.status_code == 200:
        tally.patches["customer"] += 1


async def _create_child(client, tally: Tally) -> None:
    if not tally.customers:
        return
    customer = random.choice(tally.customers)
    if random.random() < 0.5:
        body = {"customer": customer, "email": f"p{random.random():.9f}@example.com"}
        tally.record("POST /contacts", await client.post("/contacts", json=body))
        return
    response = await client.post("/onboardings", json={"customer": customer, "name": "Go"})
    tally.record("POST /onboardings", response)
    if response.status_code == 201:
        tally.onboardings[response.json()["id"]] = "active"


async def _toggle_onboarding(client, tally: Tally) -> None:
    idle = [key for key in tally.onboardings if key not in tally.busy]
    if not idle:
        return
    target = random.choice(idle)
    status = "paused" if tally.onboardings[target] == "active" else "active"
    # one toggle at a time per onboarding, or two could arrive in either order and one would
    # change nothing (and rightly announce nothing)
    tally.busy.add(target)
    try:
        response = await client.patch(f"/onboardings/{target}", json={"status": status})
    finally:
        tally.busy.discard(target)
    tally.onboardings[target] = status
    tally.record("PATCH /onboardings", response)
    if response.status_code == 200:
        tally.patches["onboarding"] += 1
    elif response.status_code == 404:
        tally.onboardings.pop(target, None)


async def _delete_customer(client, tally: Tally) -> None:
    if len(tally.customers) < 20:
        return
    target = tally.customers.pop(random.randrange(len(tally.customers)))
    tally.record("DELETE /customers", await client.delete(f"/customers/{target}"))


async def _read(client, tally: Tally) -> None:
    if random.random() < 0.5 and tally.customers:
        response = await client.get(f"/customers/{random.choice(tally.customers)}")
        tally.record("GET /customers/{id}", response)
    else:
        tally.record("GET /onboardings", await client.get("/onboardings?status=active&limit=50"))


OPERATIONS = [
    (_create_customer, 30), (_rename_customer, 15), (_create_child, 20),
    (_toggle_onboarding, 10), (_delete_customer, 5), (_read, 20),
]


async def _client_loop(base: str, key: str, tally: Tally, deadline: float) -> None:
    functions, weights = zip(*OPERATIONS, strict=True)
    headers = {"Authorization": f"Bearer {key}"}
    async with httpx.AsyncClient(base_url=base, headers=headers, timeout=30) as client:
        while time.monotonic() < deadline:
            operation = random.choices(functions, weights)[0]
            try:
                await operation(client, tally)
            except httpx.HTTPError as exc:
                tally.statuses[("transport error", type(exc).__name__)] += 1


async def _drain(conn: asyncpg.Connection) -> float:
    """Seconds until nothing is left to fan out or deliver (or the timeout)."""
    started = time.monotonic()
    while time.monotonic() - started < DRAIN_TIMEOUT:
        owed = await conn.fetchval(
            "select (select count(*) from events where fanned_out_at is null)"
            " + (select count(*) from webhook_deliveries where status = 'pending')"
        )
        if owed == 0:
            break
        await asyncio.sleep(0.5)
    return time.monotonic() - started


# one pass over the events, joined by hash: a per-object subquery would scan them per object
EVENT_COUNTS = """
select count(*) filter (where coalesce(e.created, 0) <> 1) as bad_created,
       count(*) filter (where t.deleted_at is not null and coalesce(e.deleted, 0) <> 1)
           as bad_deleted,
       count(*) filter (where t.deleted_at is null and coalesce(e.deleted, 0) <> 0)
           as stray_deleted,
       count(*) as objects
from {table} t
left join (select object_id, count(*) filter (where type = $1) as created,
                  count(*) filter (where type = $2) as deleted
           from events group by object_id) as e on e.object_id = t.id
"""


async def _reconcile(conn: asyncpg.Connection, tally: Tally, received: set[str]) -> dict:
    report: dict = {"problems": []}
    for kind, table in (("customer", "customers"), ("contact", "contacts"),
                        ("onboarding", "onboardings")):
        row = await conn.fetchrow(EVENT_COUNTS.format(table=table), f"{kind}.created",
                                  f"{kind}.deleted")
        report[table] = row["objects"]
        for column in ("bad_created", "bad_deleted", "stray_deleted"):
            if row[column]:
                report["problems"].append(f"{row[column]} {table} with {column}")
    updated = dict(await conn.fetch(
        "select split_part(type, '.', 1), count(*) from events where type like '%.updated' "
        "group by 1"))
    for kind in ("customer", "onboarding"):
        if updated.get(kind, 0) != tally.patches[kind]:
            report["problems"].append(
                f"{kind}.updated events {updated.get(kind, 0)} != successful PATCHes "
                f"{tally.patches[kind]}")
    events = {row["id"] for row in await conn.fetch("select id from events")}
    report.update(events=len(events), delivered=len(events & received),
                  lost=len(events - received))
    report["failed_deliveries"] = await conn.fetchval(
        "select count(*) from webhook_deliveries where status <> 'succeeded'")
    return report


def _print_report(seconds: float, drain: float, tally: Tally, report: dict) -> bool:
    by_status = Counter()
    for (_, status), count in tally.statuses.items():
        by_status[status] += count
    server_errors = sum(c for s, c in by_status.items() if isinstance(s, int) and s >= 500)
    transport = sum(c for s, c in by_status.items() if not isinstance(s, int))
    print(f"\nsoak: {seconds:.0f} s of load, drained in {drain:.1f} s")
    print(f"requests: {sum(by_status.values()):,}  by status: "
          + ", ".join(f"{s}: {c:,}" for s, c in sorted(by_status.items(), key=str)))
    for (operation, status), count in sorted(tally.statuses.items(), key=str):
        print(f"  {operation:22} {status}: {count:,}")
    print(f"objects: {report['customers']:,} customers, {report['contacts']:,} contacts, "
          f"{report['onboardings']:,} onboardings")
    print(f"events written: {report['events']:,}  delivered: {report['delivered']:,}  "
          f"lost: {report['lost']:,}  deliveries not succeeded: {report['failed_deliveries']:,}")
    problems = list(report["problems"])
    if server_errors or transport:
        problems.append(f"{server_errors} responses were 5xx, {transport} transport errors")
    if report["lost"] or report["failed_deliveries"]:
        problems.append("some events were not delivered")
    print("reconciliation: " + ("OK" if not problems else "FAILED: " + "; ".join(problems)))
    return not problems


def _received(arrivals: Path) -> set[str]:
    """The event ids the receiver got (bench/receiver.py writes one line per delivery)."""
    if not arrivals.exists():
        return set()
    return {line.split()[0] for line in arrivals.read_text().splitlines() if line}


async def _soak(database_url: str, redis_url: str, key: str, seconds: float, clients: int) -> bool:
    OUT_DIR.mkdir(parents=True, exist_ok=True)
    arrivals = OUT_DIR / "soak-arrivals.txt"
    arrivals.unlink(missing_ok=True)
    receiver_port = free_port()
    receiver = spawn(
        "soak-receiver",
        [sys.executable, "-m", "bench.receiver", "--port", str(receiver_port), "--out",
         str(arrivals)],
        dict(os.environ),
    )
    receiver_url = f"http://127.0.0.1:{receiver_port}/hooks"
    env = server_env(database_url, redis_url)
    # loopback receivers are refused in production; the rate limit would refuse one key's load
    env.update(PIVOTAL_ENV="test", PIVOTAL_RATE_LIMIT_PER_SECOND="0")
    port = free_port()
    pivotal = str(os.path.join(os.path.dirname(sys.executable), "pivotal"))
    api_argv = [pivotal, "serve", "--port", str(port), "--workers", "2"]
    with running_server("soak-api", api_argv, env, port, "/api/v1/health") as api:
        worker = spawn("soak-worker", [pivotal, "worker"], env)
        try:
            base = f"{api.url}/api/v1"
            async with httpx.AsyncClient(base_url=base) as client:
                response = await client.post(
                    "/webhook_endpoints", json={"url": receiver_url, "enabled_events": ["*"]},
                    headers={"Authorization": f"Bearer {key}"})
                response.raise_for_status()
            tally = Tally()
            deadline = time.monotonic() + seconds
            await asyncio.gather(*(_client_loop(base, key, tally, deadline) for _ in range(clients)))
            conn = await asyncpg.connect(database_url)
            try:
                drain = await _drain(conn)
                await asyncio.sleep(1.0)  # the last deliveries' responses reach the receiver
                report = await _reconcile(conn, tally, _received(arrivals))
            finally:
                await conn.close()
        finally:
            stop_server(worker)
            stop_server(receiver)
    return _print_report(seconds, drain, tally, report)


async def main() -> int:
    seconds = float(os.environ.get("SOAK_SECONDS", "180"))
    clients = int(os.environ.get("SOAK_CLIENTS", "16"))
    print(f"soak: {seconds:.0f} s, {clients} clients")
    ok, source = await on_scratch_database(
        DATABASE, lambda url, redis_url, key: _soak(url, redis_url, key, seconds, clients))
    print(f"services: {source}")
    return 0 if ok else 1


if __name__ == "__main__":
    sys.exit(asyncio.run(main()))
