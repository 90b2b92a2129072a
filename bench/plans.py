"""`python -m bench.plans`: the plan PostgreSQL runs for each dashboard page, and which index
serves it.

Seeds the bench's data (BENCH_QUICK=1 for the small shape) into a scratch database, serves
each filtered-page request of bench/scenarios.py through the app in-process, records the SQL
the app sends for it (text and parameters, as asyncpg sends them), then runs that SQL again
under `EXPLAIN (ANALYZE, BUFFERS)`: warm, as a page read twice in a row is. Writes the table to
bench/RESULTS-dashboards.md (or BENCH_PLANS_RESULTS) and every plan in full to
bench/out/plans/<scenario>.txt.
"""

from __future__ import annotations

import asyncio
import json
import os
import re
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import asyncpg
from litestar.testing import TestClient

from app.core.db import init_connection
from app.main import create_app
from app.settings import Settings
from bench import seed
from bench.config import BENCH_DIR, OUT_DIR, BenchConfig
from bench.seed import SeedData, Tenant
from bench.stack import drop_database, recreate_database, services

DATABASE = "pivotal_plans"
# the tables a page reads; auth, rate limits and the like are not the page's cost
PAGE_TABLES = re.compile(r"\bfrom (customers|contacts|onboardings)\b")


@dataclass(frozen=True)
class Page:
    name: str
    title: str
    path: str
    big: bool  # the 1M-customer scope, else a 25k-customer workspace


def pages(data: SeedData) -> list[Page]:
    big = data.big
    return [
        Page("list_first", "customers, plain page of 100 (1M scope)", "/customers?limit=100", True),
        Page("list_range", "customers, created[gte] & created[lt], 5% window (1M scope)",
             f"/customers?limit=100&created[gte]={big.range_start}&created[lt]={big.deep_cursor}",
             True),
        Page("list_multi", "customers, lifecycle_stage=at_risk,churned (1M scope)",
             "/customers?limit=100&lifecycle_stage=at_risk,churned", True),
        Page("list_search", "customers, q=ustomer 424 (1M scope)",
             "/customers?limit=100&q=ustomer%20424", True),
        Page("onboardings_active", "onboardings?status=active, page of 100",
             "/onboardings?status=active&limit=100", False),
        Page("onboardings_multi", "onboardings?status=active,paused, page of 100",
             "/onboardings?status=active,paused&limit=100", False),
        Page("onboardings_expand", "onboardings?status=active&expand=customer, page of 100",
             "/onboardings?status=active&limit=100&expand=customer", False),
    ]


@contextmanager
def recording() -> Iterator[list[tuple[str, tuple]]]:
    """Every query any asyncpg connection runs meanwhile, with its arguments."""
    sent: list[tuple[str, tuple]] = []
    original = asyncpg.connection.Connection._execute

    async def record(self, query, args, *rest, **options):
        sent.append((query, tuple(args)))
        return await original(self, query, args, *rest, **options)

    asyncpg.connection.Connection._execute = record
    try:
        yield sent
    finally:
        asyncpg.connection.Connection._execute = original


def page_queries(client: TestClient, page: Page, tenant: Tenant) -> list[tuple[str, tuple]]:
    """The queries the API sends for one page, read from a second request (the first warms
    the key cache)."""
    headers = {"Authorization": f"Bearer {tenant.keys[0]}"}
    assert client.get("/api/v1" + page.path, headers=headers).status_code == 200
    with recording() as sent:
        response = client.get("/api/v1" + page.path, headers=headers)
    assert response.status_code == 200, response.text
    return [(sql, args) for sql, args in sent if PAGE_TABLES.search(sql)]


def _nodes(plan: dict[str, Any]) -> Iterator[dict[str, Any]]:
    yield plan
    for child in plan.get("Plans", []):
        yield from _nodes(child)


def summary(explained: dict[str, Any]) -> dict[str, Any]:
    """What the table shows of one plan: how it reads, how much, how long."""
    top = explained["Plan"]
    scans = [f"{node['Node Type']} on {node['Index Name']}" if "Index Name" in node
             else f"{node['Node Type']} on {node['Relation Name']}"
             for node in _nodes(top) if "Relation Name" in node or "Index Name" in node]
    return {"scans": scans, "rows": top["Actual Rows"],
            "hit": top.get("Shared Hit Blocks", 0), "read": top.get("Shared Read Blocks", 0),
            "ms": explained["Execution Time"]}


async def explain(database_url: str, queries: list[tuple[str, tuple]]) -> list[tuple[dict, str]]:
    """Each query's plan as JSON (for the table) and as text (for the file), warm."""
    conn = await asyncpg.connect(database_url)
    await init_connection(conn)
    try:
        plans = []
        for sql, args in queries:
            await conn.fetch(sql, *args)  # warm, as the page read just before
            [as_json] = await conn.fetchval(
                f"explain (analyze, buffers, format json) {sql}", *args)
            as_text = await conn.fetch(f"explain (analyze, buffers) {sql}", *args)
            plans.append((json.loads(as_json) if isinstance(as_json, str) else as_json,
                          sql + "\n\n" + "\n".join(row[0] for row in as_text)))
        return plans
    finally:
        await conn.close()


def report(config: BenchConfig, data: SeedData, rows: list[tuple[Page, list[dict]]]) -> str:
    lines = [
        "# Dashboard pages: the plans behind them",
        "",
        f"`python -m bench.plans` ({'BENCH_QUICK' if config.quick else 'full shape'}: "
        f"{config.workspaces} workspaces of {config.customers_per_workspace:,} customers with "
        f"contacts and an onboarding each, one scope of {config.big_customers:,} customers; "
        f"seeded in {data.seconds:.0f} s, then VACUUM ANALYZE). Each page is served through "
        "the app, the SQL it sent is run again under EXPLAIN (ANALYZE, BUFFERS), warm. "
        "Full plans: bench/out/plans/.",
        "",
        "| page | query | how PostgreSQL reads it | rows | buffers hit / read | ms |",
        "|---|---|---|---:|---:|---:|",
    ]
    for page, summaries in rows:
        for index, found in enumerate(summaries, 1):
            lines.append(
                f"| {page.title} | {index} of {len(summaries)} | {'; '.join(found['scans'])} "
                f"| {found['rows']} | {found['hit']} / {found['read']} | {found['ms']:.2f} |")
    return "\n".join(lines) + "\n"


def run(config: BenchConfig) -> str:
    with services() as (found, source):
        database_url = asyncio.run(recreate_database(found.database_url, DATABASE))
        try:
            started = time.monotonic()
            data = asyncio.run(seed.seed(database_url, config))
            print(f"seeded {data.rows} in {time.monotonic() - started:.0f} s", flush=True)
            settings = Settings.from_env({"DATABASE_URL": database_url,
                                          "REDIS_URL": found.redis_url,
                                          "PIVOTAL_ENV": "production"})
            rows = []
            with TestClient(create_app(settings)) as client:
                for page in pages(data):
                    tenant = data.big if page.big else data.workspaces[0]
                    queries = page_queries(client, page, tenant)
                    plans = asyncio.run(explain(database_url, queries))
                    folder = OUT_DIR / "plans"
                    folder.mkdir(parents=True, exist_ok=True)
                    (folder / f"{page.name}.txt").write_text(
                        "\n\n---\n\n".join(text for _, text in plans))
                    rows.append((page, [summary(plan) for plan, _ in plans]))
        finally:
            if not os.environ.get("BENCH_KEEP"):
                asyncio.run(drop_database(found.database_url, DATABASE))
    return report(config, data, rows)


def main() -> int:
    config = BenchConfig.from_env()
    default = OUT_DIR / "RESULTS-dashboards.quick.md" if config.quick else \
        BENCH_DIR / "RESULTS-dashboards.md"
    target = Path(os.environ.get("BENCH_PLANS_RESULTS", default))
    text = run(config)
    target.parent.mkdir(parents=True, exist_ok=True)
    target.write_text(text)
    print(text)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
