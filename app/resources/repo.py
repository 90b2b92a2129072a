"""The repository functions every resource shares: resolve, list, insert, update, soft-delete.

Each takes the connection explicitly; the caller owns the transaction. Static SQL comes from
sql/queries/<table>.sql; the parts whose shape depends on the request (a list's filters, a
PATCH's SET list) are built with pypika and cached per shape.
"""

from __future__ import annotations

from functools import lru_cache
from typing import Any

import asyncpg
from pypika import Parameter, PostgreSQLQuery, Table
from pypika.terms import Criterion

from app.core.db import queries
from app.core.errors import Conflict, not_found
from app.core.ids import new_id, parse_reference
from app.core.pagination import ListParams, SqlArgs, fetch_page
from app.core.principal import Principal
from app.resources.model import Resource

# created_at is unique per list scope; a clash on the same microsecond is retried this often
INSERT_ATTEMPTS = 8


def _scope(table: Table) -> Criterion:
    return (
        (table.workspace_id == Parameter("$1"))
        & (table.livemode == Parameter("$2"))
        & table.deleted_at.isnull()
    )


# row lock strengths: "update" for the object being written, "share" for one referenced by a
# new object (so it cannot be deleted under it), "no key update" to serialise work per parent
LOCKS = {None: "", "update": " for update of t", "share": " for share of t",
         "no key update": " for no key update of t"}


@lru_cache(maxsize=512)
def _get_sql(resource: Resource, by_display_id: bool, lock: str | None) -> str:
    t = Table(resource.table, alias="t")
    key = t.display_id if by_display_id else t.id
    sql = f"{queries[resource.table + '.select']} where {_scope(t) & (key == Parameter('$3'))}"
    return sql + LOCKS[lock]


async def fetch(
    conn: asyncpg.Connection,
    resource: Resource,
    principal: Principal,
    reference: object,
    *,
    field: str | None = None,
    lock: str | None = None,
) -> asyncpg.Record:
    """The live object a reference (cuid or display_id) names in the caller's scope, or 404."""
    key = parse_reference(reference)
    row = None
    if key is not None:
        sql = _get_sql(resource, isinstance(key, int), lock)
        row = await conn.fetchrow(sql, principal.workspace_id, principal.livemode, key)
    if row is None:
        raise not_found(resource.object, reference, field)
    return row


async def resolve_id(
    conn: asyncpg.Connection,
    resource: Resource,
    principal: Principal,
    reference: object,
    field: str,
    lock: str | None = None,
) -> str:
    """The cuid of a referenced live object; 404 naming `field` when there is none."""
    return (await fetch(conn, resource, principal, reference, field=field, lock=lock))["id"]


async def list_page(
    conn: asyncpg.Connection,
    resource: Resource,
    principal: Principal,
    params: ListParams,
    filters: dict[str, Any],
) -> tuple[list[asyncpg.Record], bool]:
    """One keyset page of live objects, narrowed by `filters` (column -> value)."""
    args = SqlArgs(principal.workspace_id, principal.livemode)
    select = queries[resource.table + ".select"]
    return await fetch_page(conn, select, "t", list_conditions(args, filters), args, params)


def list_conditions(args: SqlArgs, filters: dict[str, Any]) -> list[str]:
    """A list's WHERE terms: the scope in `args` ($1, $2), then each filter's value added."""
    conditions = ["t.workspace_id = $1", "t.livemode = $2", "t.deleted_at is null"]
    return conditions + [f"t.{column} = {args.add(value)}" for column, value in filters.items()]


@lru_cache(maxsize=64)
def _insert_sql(resource: Resource) -> str:
    """`<table>.insert`, answering the new row as `<table>.select` shows it: one round trip."""
    select = queries[resource.table + ".select"]
    relation = f"from {resource.table} t"
    if not select.endswith(relation):
        raise ValueError(f"{resource.table}.select must end with {relation!r}")
    inserted = queries[resource.table + ".insert"]
    return f"with t as ({inserted} returning *) {select.removesuffix(relation)}from t"


async def insert(
    conn: asyncpg.Connection,
    resource: Resource,
    principal: Principal,
    values: list[Any],
    unique: dict[str, Any],
) -> asyncpg.Record:
    """Insert with `<table>.insert` ($1 id, $2 workspace, $3 livemode, then `values`).

    The insert does nothing on any unique conflict, so the transaction stays usable: a taken
    unique field (from `unique`, field -> value) becomes a 409 naming the existing object, and
    a created_at that another insert took in the same microsecond is simply tried again.
    """
    sql = _insert_sql(resource)
    for _ in range(INSERT_ATTEMPTS):
        row = await conn.fetchrow(
            sql, new_id(), principal.workspace_id, principal.livemode, *values
        )
        if row is not None:
            return row
        await raise_if_taken(conn, resource, principal, unique)
    raise RuntimeError(f"could not find a free created_at for a new {resource.object}")


async def raise_if_taken(
    conn: asyncpg.Connection, resource: Resource, principal: Principal, unique: dict[str, Any]
) -> None:
    """409 when a live object already holds one of these unique field values."""
    for field, value in unique.items():
        if value is None:
            continue
        existing = await conn.fetchval(
            queries[f"{resource.table}.find_by_{field}"],
            principal.workspace_id,
            principal.livemode,
            *(value if isinstance(value, tuple) else (value,)),
        )
        if existing is not None:
            raise Conflict(
                f"A {resource.object} with this {field} already exists: {existing}", field=field
            )


@lru_cache(maxsize=512)
def _update_sql(resource: Resource, columns: tuple[str, ...]) -> str:
    table = Table(resource.table)
    query = PostgreSQLQuery.update(table)
    for index, column in enumerate(columns, start=2):
        query = query.set(column, Parameter(f"${index}"))
    query = query.set(table.updated_at, Parameter("clock_timestamp()"))
    return f"{query.where(table.id == Parameter('$1'))} returning api_timestamp(updated_at)"


async def update(
    conn: asyncpg.Connection,
    resource: Resource,
    principal: Principal,
    object_id: str,
    changes: dict[str, Any],
    unique: dict[str, Any],
) -> str:
    """Write changed columns of a locked row; returns the new updated_at.

    A change to a unique field runs under a savepoint so that a clash can be explained with
    the id of the object that holds the value.
    """
    columns = tuple(sorted(changes))
    sql = _update_sql(resource, columns)
    args = [object_id, *(changes[column] for column in columns)]
    if not unique:
        return await conn.fetchval(sql, *args)
    try:
        async with conn.transaction():
            return await conn.fetchval(sql, *args)
    except asyncpg.UniqueViolationError:
        await raise_if_taken(conn, resource, principal, unique)
        raise


async def soft_delete(conn: asyncpg.Connection, resource: Resource, object_ids: list[str]) -> None:
    """Mark rows deleted; they stay for audit and every later read treats them as absent."""
    await conn.execute(
        f"update {resource.table} set deleted_at = clock_timestamp(), "
        "updated_at = clock_timestamp() where id = any($1::text[]) and deleted_at is null",
        object_ids,
    )


@lru_cache(maxsize=64)
def _children_sql(resource: Resource) -> str:
    t = Table(resource.table, alias="t")
    parent = t.field(resource.parent_column) == Parameter("$3")
    return f"{queries[resource.table + '.select']} where {_scope(t) & parent} for update of t"


async def fetch_children(
    conn: asyncpg.Connection, resource: Resource, principal: Principal, parent_id: str
) -> list[asyncpg.Record]:
    """The live objects that belong to a parent, locked for a cascading delete."""
    sql = _children_sql(resource)
    return await conn.fetch(sql, principal.workspace_id, principal.livemode, parent_id)
