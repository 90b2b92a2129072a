"""The repository functions every resource shares: resolve, list, insert, update, soft-delete.

Each takes the connection explicitly; the caller owns the transaction. Static SQL comes from
sql/queries/<table>.sql; the parts whose shape depends on the request (a list's filters, a
PATCH's SET list) are built with pypika and cached per shape.
"""

from __future__ import annotations

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from functools import lru_cache
from typing import Any

import asyncpg
from pypika import Parameter, PostgreSQLQuery, Table
from pypika.terms import Criterion

from app.core.db import queries
from app.core.errors import Conflict, not_found
from app.core.ids import new_id, parse_reference
from app.core.pagination import ListParams, SqlArgs, keyset_sql, page_of
from app.core.principal import Principal
from app.resources.filters import Condition
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
def get_sql(resource: Resource, column: str, lock: str | None) -> str:
    t = Table(resource.table, alias="t")
    condition = _scope(t) & (t.field(column) == Parameter("$3"))
    return f"{queries[resource.table + '.select']} where {condition}{LOCKS[lock]}"


async def fetch(
    conn: asyncpg.Connection,
    resource: Resource,
    principal: Principal,
    reference: object,
    *,
    field: str | None = None,
    lock: str | None = None,
    key: str | None = None,
) -> asyncpg.Record:
    """The live object a reference (cuid or display_id) names in the caller's scope, or 404.

    With `key` (a unique column such as external_id), the reference is that column's value.
    """
    value: object = reference if key is not None else parse_reference(reference)
    if key is None:
        key = "display_id" if isinstance(value, int) else "id"
    row = None
    if isinstance(value, str | int):
        sql = get_sql(resource, key, lock)
        row = await conn.fetchrow(sql, principal.workspace_id, principal.livemode, value)
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


def list_query(resource: Resource, principal: Principal, params: ListParams,
               filters: list[Condition]) -> tuple[str, list[Any]]:
    """The SQL and arguments of a keyset page of live objects narrowed by `filters`."""
    args = SqlArgs(principal.workspace_id, principal.livemode)
    conditions = ["t.workspace_id = $1", "t.livemode = $2", "t.deleted_at is null"]
    conditions += [condition.sql.format(args.add(condition.value)) for condition in filters]
    sql = keyset_sql(queries[resource.table + ".select"], "t", conditions, args, params)
    return sql, args.values


async def list_page(
    conn: asyncpg.Connection,
    resource: Resource,
    principal: Principal,
    params: ListParams,
    filters: list[Condition],
) -> tuple[list[asyncpg.Record], bool]:
    """One keyset page of live objects, and whether more follow."""
    sql, args = list_query(resource, principal, params, filters)
    return page_of(await conn.fetch(sql, *args), params)


@lru_cache(maxsize=64)
def _insert_sql(resource: Resource, query: str = "insert") -> str:
    """`<table>.<query>` (an insert), answering the new rows as `<table>.select` shows them:
    one round trip."""
    select = queries[resource.table + ".select"]
    relation = f"from {resource.table} t"
    if not select.endswith(relation):
        raise ValueError(f"{resource.table}.select must end with {relation!r}")
    inserted = queries[f"{resource.table}.{query}"]
    return f"with t as ({inserted} returning *) {select.removesuffix(relation)}from t"


async def insert_many(conn: asyncpg.Connection, resource: Resource, principal: Principal,
                      rows: list[dict[str, Any]]) -> list[asyncpg.Record]:
    """Insert `rows` (each the `<table>.insert_many` parameters by name) in one statement,
    answering them as served, in order. Rows whose created_at landed on a taken microsecond
    are inserted again with a fresh id; any other unique clash raises."""
    name, scope = resource.table + ".insert_many", {
        "workspace_id": principal.workspace_id, "livemode": principal.livemode}
    columns = [p for p in queries.parameters(name) if p not in scope]
    inserted: dict[str, asyncpg.Record] = {}
    pending = list(range(len(rows)))
    for attempt in range(INSERT_ATTEMPTS):
        for position in pending:
            if attempt or "id" not in rows[position]:
                rows[position]["id"] = new_id()
        arrays = {column: [rows[p][column] for p in pending] for column in columns}
        for row in await conn.fetch(_insert_sql(resource, "insert_many"),
                                    *queries.arguments(name, {**scope, **arrays})):
            inserted[row["id"]] = row
        pending = [p for p in pending if rows[p]["id"] not in inserted]
        if not pending:
            return [inserted[row["id"]] for row in rows]
    raise RuntimeError(f"could not find free created_at values for new {resource.table}")


async def update_many(conn: asyncpg.Connection, resource: Resource, principal: Principal,
                      rows: list[dict[str, Any]]) -> dict[str, str]:
    """Set locked objects to new values (each row the `<table>.update_many` parameters by
    name) in one statement; object id -> its new updated_at."""
    name, scope = resource.table + ".update_many", {"workspace_id": principal.workspace_id}
    arrays = {column: [row[column] for row in rows]
              for column in queries.parameters(name) if column not in scope}
    return dict(await conn.fetch(queries[name], *queries.arguments(name, {**scope, **arrays})))


async def fetch_many_by_external_id(conn: asyncpg.Connection, resource: Resource,
                                    principal: Principal, external_ids: list[str]
                                    ) -> dict[str, asyncpg.Record]:
    """The live objects holding these external ids, locked for update (in the ids' sorted
    order, so concurrent batches never wait on each other in a circle); external_id -> row."""
    rows = await conn.fetch(_by_external_ids_sql(resource), principal.workspace_id,
                            principal.livemode, sorted(external_ids))
    return {row["external_id"]: row for row in rows}


@lru_cache(maxsize=64)
def _by_external_ids_sql(resource: Resource) -> str:
    """`<table>.select` over one index lookup per external id: a lateral join rather than
    `= any(...)`, which the planner may turn into a scan of the whole workspace while its
    statistics are behind (a fresh backfill)."""
    select = queries[resource.table + ".select"]
    relation = f"from {resource.table} t"
    lookup = (f"from unnest($3::text[]) as e(external_id) cross join lateral "
              f"(select * from {resource.table} c where c.workspace_id = $1 "
              "and c.livemode = $2 and c.external_id = e.external_id "
              "and c.deleted_at is null for update) as t")
    return select.removesuffix(relation) + lookup


class UniqueClash(Exception):
    """A write hit a unique field (`<table>_<field>_key`) that a live object already holds.

    The transaction is aborted by then; `explain_clash` names the holder once it has rolled
    back (the holder is committed: PostgreSQL reports the clash only after it commits).
    """

    def __init__(self, resource: Resource, field: str, value: Any) -> None:
        super().__init__(f"{resource.table}.{field} is taken")
        self.resource, self.field, self.value = resource, field, value


def _clash(resource: Resource, exc: asyncpg.UniqueViolationError,
           unique: dict[str, Any]) -> UniqueClash | None:
    for field, value in unique.items():
        if exc.constraint_name == f"{resource.table}_{field}_key":
            return UniqueClash(resource, field, value)
    return None


async def explain_clash(conn: asyncpg.Connection | asyncpg.Pool, principal: Principal,
                        clash: UniqueClash) -> Conflict:
    """The 409 for a clash, naming the live object that holds the value."""
    resource, value = clash.resource, clash.value
    existing = await conn.fetchval(
        queries[f"{resource.table}.find_by_{clash.field}"],
        principal.workspace_id,
        principal.livemode,
        *(value if isinstance(value, tuple) else (value,)),
    )
    holder = f": {existing}" if existing is not None else ""
    return Conflict(f"A {resource.object} with this {clash.field} already exists{holder}",
                    field=clash.field)


@asynccontextmanager
async def clashes_explained(pool: asyncpg.Pool, principal: Principal) -> AsyncIterator[None]:
    """Around a write's whole transaction: a UniqueClash out of it becomes the 409 naming the
    holder, looked up once the transaction has rolled back."""
    try:
        yield
    except UniqueClash as clash:
        raise await explain_clash(pool, principal, clash) from None


async def insert(
    conn: asyncpg.Connection,
    resource: Resource,
    principal: Principal,
    values: dict[str, Any],
    unique: dict[str, Any],
) -> asyncpg.Record:
    """Insert with `<table>.insert`, its parameters taken from `values` by name.

    A created_at that another insert took in the same microsecond inserts nothing (the
    query's conflict target) and is simply tried again; a unique field held by a live object
    (from `unique`, field -> value) raises UniqueClash; any other clash raises as it is.
    """
    name = resource.table + ".insert"
    values = {**values, "workspace_id": principal.workspace_id, "livemode": principal.livemode}
    sql = _insert_sql(resource)
    for _ in range(INSERT_ATTEMPTS):
        values["id"] = new_id()
        try:
            row = await conn.fetchrow(sql, *queries.arguments(name, values))
        except asyncpg.UniqueViolationError as exc:
            raise _clash(resource, exc, unique) or exc from None
        if row is not None:
            return row
    raise RuntimeError(f"could not find a free created_at for a new {resource.object}")


@lru_cache(maxsize=512)
def _update_sql(resource: Resource, columns: tuple[str, ...]) -> str:
    table = Table(resource.table)
    query = PostgreSQLQuery.update(table)
    for index, column in enumerate(columns, start=3):
        query = query.set(column, Parameter(f"${index}"))
    query = query.set(table.updated_at, Parameter("clock_timestamp()"))
    key = (table.workspace_id == Parameter("$1")) & (table.id == Parameter("$2"))
    return f"{query.where(key)} returning api_timestamp(updated_at)"


async def update(
    conn: asyncpg.Connection,
    resource: Resource,
    principal: Principal,
    object_id: str,
    changes: dict[str, Any],
    unique: dict[str, Any],
) -> str:
    """Write changed columns of a locked row; returns the new updated_at. A unique field held
    by another live object raises UniqueClash."""
    columns = tuple(sorted(changes))
    sql = _update_sql(resource, columns)
    try:
        return await conn.fetchval(sql, principal.workspace_id, object_id,
                                   *(changes[column] for column in columns))
    except asyncpg.UniqueViolationError as exc:
        raise _clash(resource, exc, unique) or exc from None


def soft_delete_sql(resource: Resource) -> str:
    return (f"update {resource.table} set deleted_at = clock_timestamp(), "
            "updated_at = clock_timestamp() "
            "where workspace_id = $1 and id = any($2::text[]) and deleted_at is null")


async def soft_delete(conn: asyncpg.Connection, resource: Resource, principal: Principal,
                      object_ids: list[str]) -> None:
    """Mark rows deleted; they stay for audit and every later read treats them as absent."""
    await conn.execute(soft_delete_sql(resource), principal.workspace_id, object_ids)


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
