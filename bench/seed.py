"""Realistic data, seeded set-based (generate_series) while keeping the schema's invariants.

- created_at is unique per (workspace, mode) in every table: object i of a scope is stamped
  `base + i * 10 s`, its contacts at +1 s, +2 s ..., its onboarding at +5 s, all in the past
  so objects the benchmark creates sort after them.
- display_id counts from 1 per scope and type; each sequence is moved past the rows with setval.
- every object has its `*.created` event, whose data is the object as `<table>.select` serves
  it (a customer's primary_contact was still null when it was created), ids are cuid-shaped;
  the events are history, so the webhook relay has fanned them out already.
"""

from __future__ import annotations

import asyncio
import time
from dataclasses import dataclass, field

import asyncpg

from app.core.db import init_connection, queries
from app.workspaces.repo import create_key, create_workspace
from bench.config import BenchConfig

STEP_SECONDS = 10  # between two customers of a scope; every child fits inside the step
CUID_SAMPLE = 2_000  # cuids per workspace the get-by-cuid scenario picks from
# requests spread over several keys per workspace, so that no key reaches the per-key rate
# limit (PIVOTAL_RATE_LIMIT_PER_SECOND) while every request still pays for its check
KEYS_PER_WORKSPACE = 8
SESSION = (
    "set synchronous_commit = off",  # the seed is redone on failure: no need to wait for disk
    "set work_mem = '256MB'",
    "set maintenance_work_mem = '512MB'",
)

# a cuid-shaped id: a letter and 23 of [0-9a-f]; '-' separators (':' reads as a pgbench variable)
CUSTOMER_ID = "'c' || substr(md5($1 || '-c-' || i), 1, 23)"

CUSTOMERS = f"""
insert into customers (id, workspace_id, livemode, display_id, name, domain, lifecycle_stage,
                       owner_email, external_id, metadata, created_at, updated_at)
select {CUSTOMER_ID}, $1, true, i, 'Customer ' || i, 'customer-' || i || '.example.com',
       (array['onboarding', 'active', 'at_risk', 'churned'])[1 + i % 4],
       'csm' || i % 40 || '@pivotal.example',
       case when i % 2 = 0 then 'crm-' || i end,
       jsonb_build_object('plan', (array['free', 'pro', 'enterprise'])[1 + i % 3],
                          'region', (array['eu', 'us', 'apac', 'latam'])[1 + i % 4]),
       $3::timestamptz + i * interval '{STEP_SECONDS} seconds',
       $3::timestamptz + i * interval '{STEP_SECONDS} seconds'
from generate_series(1, $2::int) as i
"""

CONTACTS = f"""
insert into contacts (id, workspace_id, livemode, display_id, customer_id, email,
                      email_normalized, name, title, phone, is_primary, external_id, metadata,
                      created_at, updated_at)
select 'k' || substr(md5($1 || '-k-' || i || '-' || j), 1, 23), $1, true, (i - 1) * $4 + j,
       {CUSTOMER_ID}, 'person' || j || '@customer-' || i || '.example.com',
       'person' || j || '@customer-' || i || '.example.com', 'Person ' || j,
       case when j = 1 then 'CTO' else 'Engineer' end, '+1 555 0100', j = 1,
       null, '{{}}'::jsonb,
       $3::timestamptz + i * interval '{STEP_SECONDS} seconds' + j * interval '1 second',
       $3::timestamptz + i * interval '{STEP_SECONDS} seconds' + j * interval '1 second'
from generate_series(1, $2::int) as i, generate_series(1, $4::int) as j
"""

# half active, the rest paused, completed or cancelled; each created in that status, so its
# timestamps are the ones `onboardings.insert` sets for it
ONBOARDINGS = f"""
insert into onboardings (id, workspace_id, livemode, display_id, customer_id, name, status,
                         owner_email, target_date, started_at, completed_at, cancelled_at,
                         external_id, metadata, created_at, updated_at)
select 'o' || substr(md5($1 || '-o-' || i), 1, 23), $1, true, i, {CUSTOMER_ID},
       'Go-live ' || i, status, 'csm' || i % 40 || '@pivotal.example',
       (ts + interval '60 days')::date,
       case when status = 'active' then ts end,
       case when status = 'completed' then ts end,
       case when status = 'cancelled' then ts end,
       'deal-' || i, '{{}}'::jsonb, ts, ts
from (select i,
             $3::timestamptz + i * interval '{STEP_SECONDS} seconds' + interval '5 seconds' as ts,
             (array['active', 'active', 'active', 'active', 'active', 'paused', 'completed',
                    'completed', 'completed', 'cancelled'])[1 + i % 10] as status
      from generate_series(1, $2::int) as i) as s
"""


def _created_events(table: str, object_type: str, override: str = "") -> str:
    """The `<type>.created` events of one scope's objects, rendered by `<table>.select`."""
    rendered = f"(to_jsonb(o) - 'cursor'){override}"
    return f"""
select '{object_type}.created' as type, o.id as object_id,
       jsonb_build_object('object', {rendered}) as data, o.cursor::timestamptz as created_at
from ({queries[table + '.select']} where t.workspace_id = $1 and t.livemode) as o"""


# a customer is created before its contacts: its created event has no primary contact yet
NO_PRIMARY_CONTACT = " || '{\"primary_contact\": null}'::jsonb"
EVENTS = f"""
insert into events (id, workspace_id, livemode, display_id, type, object_id, data, created_at,
                    fanned_out_at)
select 'e' || substr(md5(type || '-' || object_id), 1, 23), $1, true,
       row_number() over (order by created_at), type, object_id, data, created_at,
       created_at + interval '5 milliseconds'
from ({_created_events('customers', 'customer', NO_PRIMARY_CONTACT)}
      union all {_created_events('contacts', 'contact')}
      union all {_created_events('onboardings', 'onboarding')}) as created
"""

SET_SEQUENCE = """
select setval(display_id_sequence($1, true, $2)::regclass, greatest(count(*), 1), count(*) > 0)
from {table} where workspace_id = $1 and livemode
"""
SEQUENCE_TABLES = {"customer": "customers", "contact": "contacts", "onboarding": "onboardings",
                   "event": "events"}


@dataclass
class Tenant:
    """A seeded workspace's live scope, and what the load scripts need to address it."""

    name: str
    workspace_id: str
    keys: list[str]
    customers: int
    cuids: list[str] = field(default_factory=list)
    deep_cursor: str = ""
    # created_at of the customer 5% of the way up: with deep_cursor, a window of 5% of them
    range_start: str = ""


@dataclass
class SeedData:
    workspaces: list[Tenant]  # ordinary workspaces: customers, contacts, onboardings
    big: Tenant  # the million-customer scope: customers only
    rows: dict[str, int]
    seconds: float


async def _connect(database_url: str) -> asyncpg.Connection:
    conn = await asyncpg.connect(database_url)
    await init_connection(conn)
    for statement in SESSION:
        await conn.execute(statement)
    return conn


async def create_tenant(conn: asyncpg.Connection, name: str, customers: int) -> Tenant:
    """A workspace made as `pivotal workspaces create` makes it, with live keys."""
    workspace = await create_workspace(conn, name)
    keys = [await create_key(conn, workspace["id"], livemode=True)
            for _ in range(KEYS_PER_WORKSPACE)]
    return Tenant(name, workspace["id"], [key["key"] for key in keys], customers)


async def seed_scope(
    conn: asyncpg.Connection, tenant: Tenant, contacts: int, children: bool
) -> None:
    """One live scope: customers, and with `children` their contacts and an onboarding each."""
    base = await conn.fetchval(
        f"select now() - ($1::int + 1) * interval '{STEP_SECONDS} seconds'", tenant.customers
    )
    scope = (tenant.workspace_id, tenant.customers, base)
    await conn.execute(CUSTOMERS, *scope)
    if children:
        await conn.execute(CONTACTS, *scope, contacts)
        await conn.execute(ONBOARDINGS, *scope)
    await conn.execute(EVENTS, tenant.workspace_id)
    for object_type, table in SEQUENCE_TABLES.items():
        await conn.execute(SET_SEQUENCE.format(table=table), tenant.workspace_id, object_type)


async def describe_scope(conn: asyncpg.Connection, tenant: Tenant) -> None:
    """Sample cuids to fetch, and the cursor of a page 90% of the way down the list."""
    rows = await conn.fetch(
        "select id from customers where workspace_id = $1 and livemode "
        "and display_id % greatest($2::int / $3::int, 1) = 0 limit $3",
        tenant.workspace_id, tenant.customers, CUID_SAMPLE,
    )
    tenant.cuids = [row["id"] for row in rows]
    tenant.deep_cursor = await conn.fetchval(
        "select api_cursor(created_at) from customers where workspace_id = $1 and livemode "
        "and display_id = greatest($2::int / 10, 1)",
        tenant.workspace_id, tenant.customers,
    )
    tenant.range_start = await conn.fetchval(
        "select api_cursor(created_at) from customers where workspace_id = $1 and livemode "
        "and display_id = greatest($2::int / 20, 1)",
        tenant.workspace_id, tenant.customers,
    )


async def _seed_workspaces(database_url: str, tenants: list[Tenant], contacts: int) -> None:
    conn = await _connect(database_url)
    try:
        for tenant in tenants:
            await seed_scope(conn, tenant, contacts, children=True)
    finally:
        await conn.close()


async def _seed_big(database_url: str, tenant: Tenant) -> None:
    conn = await _connect(database_url)
    try:
        await seed_scope(conn, tenant, 0, children=False)
    finally:
        await conn.close()


async def count_rows(conn: asyncpg.Connection) -> dict[str, int]:
    """How many rows the seeded tables hold, for the report."""
    tables = ("customers", "contacts", "onboardings", "events")
    return {table: await conn.fetchval(f"select count(*) from {table}") for table in tables}


async def seed(database_url: str, config: BenchConfig) -> SeedData:
    """Create the workspaces and fill them; two sessions work side by side (two cores)."""
    started = time.monotonic()
    conn = await _connect(database_url)
    try:
        workspaces = [
            await create_tenant(conn, f"bench-{index}", config.customers_per_workspace)
            for index in range(1, config.workspaces + 1)
        ]
        big = await create_tenant(conn, "bench-big", config.big_customers)
        await asyncio.gather(
            _seed_workspaces(database_url, workspaces, config.contacts_per_customer),
            _seed_big(database_url, big),
        )
        # a production database is vacuumed and analysed: plans and visibility maps as there
        await conn.execute("vacuum (analyze) customers, contacts, onboardings, events")
        for tenant in (*workspaces, big):
            await describe_scope(conn, tenant)
        rows = await count_rows(conn)
    finally:
        await conn.close()
    return SeedData(workspaces, big, rows, time.monotonic() - started)
