"""The committed schema and the named queries stay in step with the code."""

from __future__ import annotations

import difflib
import re
from pathlib import Path

from app.core.db import queries
from app.ops.migrations import SCHEMA_FILE, dump_schema
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
