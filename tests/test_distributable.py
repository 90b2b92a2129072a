"""The schema stays distributable by workspace: the Citus multi-tenant model (SPEC §11).

In that model the tenant's column is the distribution column: each distributed table is split
into shards by workspace_id, and a statement that pins workspace_id to one value runs on one
node as it runs here. What that asks of the schema, and what these tests read from the
migrated database's catalog:

- every table but the exempt ones carries workspace_id;
- every primary key, unique constraint and unique index (partial ones too) has workspace_id
  among its key columns, since a shard can only check uniqueness within itself;
- every foreign key has workspace_id on both sides, paired with itself (a distributed parent)
  or with workspaces.id, so each check stays inside one workspace's shard.

What it asks of the queries, read with PostgreSQL's parser (tests/colocation.py) from every
named block in sql/queries and from every statement the API sent to PostgreSQL while it served
a session that calls every endpoint with every list filter, expansion and search (that is
where the pypika builders' SQL is seen as the service runs it):

- a query of one workspace (all the API's, most of the worker's) binds the workspace_id of
  every distributed table it reads or writes to a value (a parameter, or a column of rows it
  was given: an unnest of (workspace_id, id) pairs), directly or through a join on
  workspace_id: each such statement routes to the shards of the workspaces it names;
- two distributed tables that a statement joins or compares are joined on workspace_id too
  (co-location: a join never crosses shards);
- an INSERT into a distributed table sets workspace_id, and its ON CONFLICT target has it;
- the few queries that read across workspaces on purpose (ACROSS_WORKSPACES: the worker's
  outbox, delivery and retention scans) still name every distributed table's workspace_id
  (select it, join on it), so what they find can be acted on by key; those that only count
  (COUNTS_ACROSS_WORKSPACES: the worker's metrics) act on no row and need not.

Exempt, each for a reason given where it is listed: the reference tables (REFERENCE_TABLES,
copied whole to every node, so a query on them needs no workspace), dbmate's own table, and
one unique constraint (GLOBAL_UNIQUE).
"""

from __future__ import annotations

from typing import Any

import asyncpg
import pytest
from litestar.testing import AsyncTestClient

import app.main
from app.core.db import create_pool, init_connection, queries
from app.core.errors import InvalidRequest
from app.main import create_app
from app.registry import RESOURCES
from app.resources.filters import Filter, RangeFilter
from tests.colocation import COLUMN, problems
from tests.conftest import make_settings, new_workspace

# Reference tables: small, read before the workspace is known, copied to every node. A query
# on them names no workspace: authentication finds a key by its hash, the command line finds a
# workspace by its name and revokes a key by its id.
REFERENCE_TABLES = {"workspaces", "api_keys"}
# whole tables outside the rule: the workspaces themselves, and dbmate's bookkeeping
EXEMPT_TABLES = {"workspaces", "schema_migrations"}
# unique constraints that must hold across workspaces; each on a reference table
GLOBAL_UNIQUE = {
    # one key per secret across every workspace: authentication looks a key up by its hash
    # alone and must find exactly one
    "api_keys_key_hash_key",
}
# named queries that read across workspaces on purpose (multi-shard in Citus), and why
ACROSS_WORKSPACES = {
    "deliveries.claim_events": "the outbox relay takes the oldest unrelayed events of all",
    "deliveries.due": "the sweep counts what is owed, to queue jobs for it",
    "deliveries.claimable_endpoints": "the delivery pump picks the endpoints with due work",
    "events.prune": "retention deletes old events wherever they are",
    "idempotency.prune": "retention deletes expired responses wherever they are",
}
# of those, the ones that only count rows: a count acts on no row, so it need not name the
# workspace (co-location still holds)
COUNTS_ACROSS_WORKSPACES = {
    "deliveries.backlog": "the worker's metrics: the outbox and pending deliveries of all",
}
# `<table>.select` blocks start the statements the builders make; they never run alone and are
# checked in what the API sends
FRAGMENTS = {name for name in queries.names() if name.endswith(".select")}

CATALOG_TABLES = """
select c.relname as table, exists (select from pg_attribute a where a.attrelid = c.oid
    and a.attname = $1 and a.attnum > 0 and not a.attisdropped) as has_column
from pg_class c join pg_namespace n on n.oid = c.relnamespace
where n.nspname = 'public' and c.relkind in ('r', 'p') order by 1"""
CATALOG_UNIQUE = """
select t.relname as table, i.indexrelid::regclass::text as name,
       array(select a.attname from unnest(i.indkey[0:i.indnkeyatts - 1]) as k(attnum)
             join pg_attribute a on a.attrelid = t.oid and a.attnum = k.attnum) as columns
from pg_index i join pg_class t on t.oid = i.indrelid
join pg_namespace n on n.oid = t.relnamespace
where n.nspname = 'public' and i.indisunique order by 2"""
CATALOG_FOREIGN_KEYS = """
select c.conname as name, t.relname as table, p.relname as parent,
       array(select a.attname from unnest(c.conkey) with ordinality as k(attnum, n)
             join pg_attribute a on a.attrelid = c.conrelid and a.attnum = k.attnum
             order by k.n) as columns,
       array(select a.attname from unnest(c.confkey) with ordinality as k(attnum, n)
             join pg_attribute a on a.attrelid = c.confrelid and a.attnum = k.attnum
             order by k.n) as parent_columns
from pg_constraint c join pg_class t on t.oid = c.conrelid join pg_class p on p.oid = c.confrelid
join pg_namespace n on n.oid = t.relnamespace
where n.nspname = 'public' and c.contype = 'f' order by 1"""


async def catalog_problems(conn: asyncpg.Connection) -> list[str]:
    """Every table, key and foreign key of the database that breaks the rule."""
    found = []
    for row in await conn.fetch(CATALOG_TABLES, COLUMN):
        if row["table"] not in EXEMPT_TABLES and not row["has_column"]:
            found.append(f"table {row['table']} has no {COLUMN}")
    for row in await conn.fetch(CATALOG_UNIQUE):
        exempt = row["table"] in EXEMPT_TABLES or row["name"] in GLOBAL_UNIQUE
        if not exempt and COLUMN not in row["columns"]:
            found.append(f"unique {row['name']} on {row['table']}{tuple(row['columns'])} "
                         f"lacks {COLUMN}")
    for row in await conn.fetch(CATALOG_FOREIGN_KEYS):
        pairs = dict(zip(row["columns"], row["parent_columns"], strict=True))
        wanted = "id" if row["parent"] == "workspaces" else COLUMN
        if row["table"] not in EXEMPT_TABLES and pairs.get(COLUMN) != wanted:
            found.append(f"foreign key {row['name']} {row['table']}{tuple(row['columns'])} -> "
                         f"{row['parent']}{tuple(row['parent_columns'])} does not pair "
                         f"{COLUMN} with {row['parent']}.{wanted}")
    return found


async def distributed_tables(conn: asyncpg.Connection) -> frozenset[str]:
    rows = await conn.fetch(CATALOG_TABLES, COLUMN)
    return frozenset(row["table"] for row in rows if row["has_column"]) - REFERENCE_TABLES


async def test_every_table_key_and_foreign_key_includes_workspace_id(admin):
    async with admin.acquire() as conn:
        assert await catalog_problems(conn) == []


async def test_catalog_check_names_tables_keys_and_foreign_keys_without_workspace_id(admin):
    async with admin.acquire() as conn:
        scratch = conn.transaction()  # rolled back: leaves nothing behind
        await scratch.start()
        await conn.execute("""
            create table scratch_parent (id text primary key, workspace_id text not null);
            create table scratch_loose (id text primary key);
            create table scratch_child (
                id text, workspace_id text, parent_id text references scratch_parent (id),
                email text, primary key (workspace_id, id));
            create unique index scratch_child_email_key on scratch_child (email)
                where email is not null""")
        try:
            found = await catalog_problems(conn)
        finally:
            await scratch.rollback()
    assert found == [
        "table scratch_loose has no workspace_id",
        "unique scratch_child_email_key on scratch_child('email',) lacks workspace_id",
        "unique scratch_loose_pkey on scratch_loose('id',) lacks workspace_id",
        "unique scratch_parent_pkey on scratch_parent('id',) lacks workspace_id",
        ("foreign key scratch_child_parent_id_fkey scratch_child('parent_id',) -> "
         "scratch_parent('id',) does not pair workspace_id with scratch_parent.workspace_id"),
    ]


async def test_the_exemptions_name_what_exists(admin):
    async with admin.acquire() as conn:
        tables = {row["table"] for row in await conn.fetch(CATALOG_TABLES, COLUMN)}
        uniques = {row["name"] for row in await conn.fetch(CATALOG_UNIQUE)}
    assert REFERENCE_TABLES | EXEMPT_TABLES <= tables
    assert GLOBAL_UNIQUE <= uniques
    assert ACROSS_WORKSPACES.keys() | COUNTS_ACROSS_WORKSPACES.keys() <= queries.names()


async def test_every_named_query_names_workspace_id(admin):
    async with admin.acquire() as conn:
        distributed = await distributed_tables(conn)
    across = ACROSS_WORKSPACES.keys() | COUNTS_ACROSS_WORKSPACES.keys()
    found = {name: problems(queries[name], distributed, across_workspaces=name in across,
                            counts=name in COUNTS_ACROSS_WORKSPACES)
             for name in sorted(queries.names() - FRAGMENTS)}
    assert {name: issues for name, issues in found.items() if issues} == {}


async def test_every_statement_the_api_sends_binds_workspace_id(admin, servers, database_url,
                                                                monkeypatch):
    sent: set[str] = set()

    async def init(conn: asyncpg.Connection) -> None:
        await init_connection(conn)
        conn.add_query_logger(lambda record: sent.add(record.query))

    monkeypatch.setattr(app.main, "create_pool",
                        lambda settings, **options: create_pool(settings, init=init, **options))
    service = create_app(make_settings(database_url, servers.redis_url))
    workspace = await new_workspace(admin)
    async with AsyncTestClient(app=service, base_url="http://testserver/api/v1") as client:
        await _serve_a_session(client, workspace.live)
    async with admin.acquire() as conn:
        distributed = await distributed_tables(conn)
    statements = sent - {queries[name] for name in FRAGMENTS}
    assert all(any(statement.startswith(queries[name]) for statement in statements)
               for name in FRAGMENTS), "a fragment was never seen in a statement"
    found = {sql: problems(sql, distributed) for sql in sorted(statements)}
    assert {sql: issues for sql, issues in found.items() if issues} == {}


async def _serve_a_session(client: AsyncTestClient, auth: dict[str, str]) -> None:
    """Every endpoint, every list filter, expansion and search, the batch paths and the
    conflicts (whose 409 looks up the holder)."""
    async def call(method: str, path: str, body: Any = None, status: int | None = None,
                   headers: dict[str, str] | None = None) -> Any:
        response = await client.request(method, path, json=body, headers={**auth, **(headers or {})})
        ok = response.status_code == status if status else response.status_code < 300
        assert ok, (method, path, response.status_code, response.text)
        return response.json()

    replay = {"Idempotency-Key": "k1"}
    endpoint = await call("POST", "/webhook_endpoints", {"url": "http://127.0.0.1:9/hook",
                                                         "enabled_events": ["*"]})
    customer = await call("POST", "/customers", {"name": "Acme", "domain": "acme.com",
                                                 "external_id": "crm-1"}, headers=replay)
    await call("POST", "/customers", {"name": "Acme", "domain": "acme.com",
                                      "external_id": "crm-1"}, headers=replay)
    await call("POST", "/customers", {"name": "Again", "external_id": "crm-1"}, status=409)
    contact = await call("POST", "/contacts", {"customer": customer["display_id"],
                                               "email": "a@acme.com", "is_primary": True})
    await call("POST", "/contacts", {"customer_external_id": "crm-1", "email": "b@acme.com",
                                     "is_primary": True})
    await call("POST", "/contacts", {"customer": customer["id"], "email": "A@acme.com"},
               status=409)
    onboarding = await call("POST", "/onboardings", {"customer": customer["id"], "name": "Go"})
    await call("PATCH", f"/customers/{customer['id']}", {"name": "Acme 2"})
    await call("PATCH", f"/contacts/{contact['id']}", {"email": "c@acme.com", "is_primary": True})
    await call("PATCH", f"/onboardings/{onboarding['display_id']}", {"status": "paused"})
    await call("POST", "/customers/batch", {"items": [{"external_id": "crm-1", "name": "A3"},
                                                      {"external_id": "crm-2", "name": "Two"}]})
    for name in ("Dee", "Dee Two"):  # creates, then updates
        await call("POST", "/contacts/batch", {"items": [
            {"customer_external_id": "crm-2", "email": "d@two.com", "external_id": "ct-1",
             "name": name}, {"customer": customer["id"], "email": "c@acme.com"}]})
        await call("POST", "/onboardings/batch", {"items": [
            {"customer_external_id": "crm-2", "name": name, "external_id": "on-1"}]})
    await call("POST", "/contacts/batch", {"items": [
        {"customer": customer["id"], "email": "e@acme.com", "is_primary": True}]})
    for resource in RESOURCES:
        for spec in resource.all_filters:
            name = spec.names[0] if isinstance(spec, RangeFilter) else spec.name
            value = _sample(spec, name, customer["id"])
            await call("GET", f"{resource.path}?{name}={value}&limit=2", status=200)
        for name in resource.expand:
            page = await call("GET", f"{resource.path}?expand={name}&order=asc&limit=1")
            await call("GET", f"{resource.path}?expand={name}&order=asc&limit=1"
                              f"&cursor={page['next_cursor']}", status=200)
            await call("GET", f"{resource.path}/{page['data'][0]['id']}?expand={name}")
        await call("GET", f"{resource.path}/1")
    event = (await call("GET", "/events?order=asc&type=customer.*"))["data"][0]
    await call("GET", "/events?type=customer.created&limit=1")
    await call("GET", f"/events/{event['id']}")
    await call("POST", f"/events/{event['display_id']}/redeliver")
    hook = f"/webhook_endpoints/{endpoint['id']}"
    await call("POST", f"{hook}/test")
    await call("POST", f"{hook}/rotate_secret", {"expire_previous_in": 60})
    await call("POST", f"{hook}/recover", {"since": "2026-01-01T00:00:00Z"})
    await call("GET", f"{hook}/deliveries?limit=1")
    await call("DELETE", f"/contacts/{contact['id']}")
    await call("DELETE", f"/customers/{customer['display_id']}")
    await call("DELETE", hook)


def _sample(spec: Any, name: str, customer_id: str) -> str:
    """A value the filter takes: a customer reference, two of its choices, or the first
    plain value that parses."""
    if isinstance(spec, Filter) and spec.references is not None:
        return "crm-2" if spec.reference_key else customer_id
    choices = getattr(getattr(spec, "parse", None), "choices", ())
    if choices:
        return ",".join(choices[:2]) if spec.multiple else choices[0]
    for candidate in ("true", "a@acme.com", "2026-01-01T00:00:00Z", "2026-01-01"):
        try:
            spec.parse(name, candidate)
        except (InvalidRequest, AttributeError):
            continue
        return candidate
    return "acme"  # a search, or free text


DISTRIBUTED = frozenset({"customers", "contacts", "events", "webhook_deliveries",
                         "webhook_endpoints"})


@pytest.mark.parametrize(("sql", "problem"), [
    ("select id from customers where id = $1",
     "customers: workspace_id is not bound to a value"),
    ("select t.id from customers t where t.livemode = $1 and t.display_id = $2",
     "customers t: workspace_id is not bound to a value"),
    (("select e.type from webhook_deliveries d join events e on e.id = d.event_id "
      "where d.workspace_id = $1"),
     "events e and webhook_deliveries d are joined without workspace_id equality"),
    (("select t.id, (select p.id from contacts p where p.customer_id = t.id) "
      "from customers t where t.workspace_id = $1"),
     "contacts p and customers t are joined without workspace_id equality"),
    (("update contacts t set name = v.name from unnest($1::text[], $2::text[]) as v(id, name) "
      "where t.id = v.id"), "contacts t: workspace_id is not bound to a value"),
    ("insert into events (id, type) values ($1, $2)", "insert into events does not set workspace_id"),
    (("insert into webhook_deliveries (workspace_id, id, endpoint_id, created_at) "
      "values ($1, $2, $3, now()) on conflict (endpoint_id, created_at) do nothing"),
     "insert into webhook_deliveries: on conflict target lacks workspace_id"),
])
def test_a_query_that_breaks_the_rule_is_named(sql, problem):
    assert problem in problems(sql, DISTRIBUTED)


@pytest.mark.parametrize(("sql", "problem"), [
    ("select count(*) from webhook_deliveries d join webhook_endpoints w on w.id = d.endpoint_id",
     "webhook_deliveries d and webhook_endpoints w are joined without workspace_id equality"),
    ("select id from events where fanned_out_at is null",
     "events never names workspace_id"),
])
def test_a_query_across_workspaces_that_breaks_the_rule_is_named(sql, problem):
    assert problem in problems(sql, DISTRIBUTED, across_workspaces=True)


@pytest.mark.parametrize("sql", [
    "select id from customers where workspace_id = $1 and id = $2",
    ("select t.id, (select p.id from contacts p where p.workspace_id = t.workspace_id "
     "and p.customer_id = t.id) from customers t where t.workspace_id = $1"),
    ("update events e set fanned_out_at = now() from unnest($1::text[], $2::text[]) as "
     "k(workspace_id, id) where e.workspace_id = k.workspace_id and e.id = k.id"),
    "select id from api_keys where key_hash = $1",  # a reference table
])
def test_a_query_bound_to_its_workspace_passes(sql):
    assert problems(sql, DISTRIBUTED) == []
