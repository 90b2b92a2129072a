"""The committed schema and the named queries stay in step with the code."""

from __future__ import annotations

import difflib
import re
from pathlib import Path

import asyncpg
import pytest

from app.core.db import queries
from app.ops.migrations import SCHEMA_FILE, dump_schema, migrate, rollback
from devtools.devstack import PG_BIN
from tests.conftest import with_database

ROOT = Path(__file__).resolve().parent.parent


def test_committed_schema_sql_matches_the_migrations(databases):
    dumped = dump_schema(with_database(databases.server_url, databases.template), PG_BIN)
    committed = SCHEMA_FILE.read_text()
    diff = "".join(difflib.unified_diff(committed.splitlines(True), dumped.splitlines(True)))
    assert not diff, (
        "sql/schema.sql is stale: migrate a fresh database with `pivotal migrate --dump-schema` "
        "and commit the result\n" + diff
    )


def test_every_query_name_used_in_the_code_exists():
    used = set()
    for path in [*ROOT.joinpath("app").rglob("*.py"), *ROOT.joinpath("worker").rglob("*.py")]:
        used |= set(re.findall(r"""queries\[["']([a-z0-9_.]+)["']\]""", path.read_text()))
    # generic code names queries by table: <table>.select / .insert / .find_by_<field>
    from app.registry import RESOURCES

    for resource in RESOURCES:
        used |= {f"{resource.table}.select", f"{resource.table}.insert"}
        used |= {f"{resource.table}.find_by_{field}" for field in resource.unique_fields}
    assert used, "no query names found"
    assert used - queries.names() == set()


# rows of two workspaces, as a database held them before the workspace keys
BEFORE_WORKSPACE_KEYS = """
insert into workspaces (id, name) values ('w1', 'one'), ('w2', 'two');
insert into customers (id, workspace_id, livemode, display_id, name, created_at, updated_at)
values ('c1', 'w1', true, 1, 'A', now(), now()), ('c2', 'w2', true, 1, 'B', now(), now());
insert into events (id, workspace_id, livemode, display_id, type, object_id, data, created_at)
values ('e1', 'w1', true, 1, 'customer.created', 'c1', '{}', now()),
       ('e2', 'w2', true, 1, 'customer.created', 'c2', '{}', now());
insert into webhook_endpoints (id, workspace_id, livemode, display_id, url, enabled_events,
                               secret, created_at, updated_at)
values ('h1', 'w1', true, 1, 'https://a.example', '{*}', 's', now(), now()),
       ('h2', 'w2', true, 1, 'https://b.example', '{*}', 's', now(), now());
insert into webhook_deliveries (id, workspace_id, livemode, event_id, endpoint_id)
values ('d1', 'w1', true, 'e1', 'h1'), ('d2', 'w2', true, 'e2', 'h2');
insert into webhook_attempts (delivery_id, latency_ms) values ('d1', 1), ('d1', 2), ('d2', 3);
"""


async def test_the_workspace_keys_migrate_a_database_holding_data(databases):
    url = await databases.clone()
    conn = await asyncpg.connect(url)
    try:
        while await conn.fetchval("select max(version) from schema_migrations") >= "20261212120000":
            rollback(url)
        await conn.execute(BEFORE_WORKSPACE_KEYS)
        migrate(url)
        attempts = await conn.fetch(
            "select delivery_id, workspace_id from webhook_attempts order by id")
        assert [tuple(row) for row in attempts] == [("d1", "w1"), ("d1", "w1"), ("d2", "w2")]
        with pytest.raises(asyncpg.ForeignKeyViolationError):  # a delivery of another workspace
            await conn.execute("insert into webhook_attempts (workspace_id, delivery_id, "
                               "latency_ms) values ('w2', 'd1', 4)")
    finally:
        await conn.close()
