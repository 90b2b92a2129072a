"""What list and read calls may ask for beyond the objects: filters and expansions.

An expansion (`?expand=customer`) replaces an id field with the object it names: in a list, in
the page's own statement (a primary-key probe per row); in a retrieve or a batch answer, with
one query for all the objects, never one per item.
"""

from __future__ import annotations

import functools
from typing import Any

import asyncpg
import msgspec

from app.core.db import queries
from app.core.errors import InvalidRequest, ParameterUnknown
from app.core.pagination import ListParams, page_of
from app.core.principal import Principal
from app.resources import repo
from app.resources.filters import Condition, Filter
from app.resources.model import Resource


async def list_conditions(conn: asyncpg.Connection, resource: Resource, principal: Principal,
                          raw: dict[str, str]) -> list[Condition]:
    """The conditions a list's filters set; references resolve to cuids (404 if none)."""
    conditions: list[Condition] = []
    referenced: dict[str, str] = {}  # column -> the filter that named its object
    for spec in resource.all_filters:
        found = spec.conditions(raw)
        if isinstance(spec, Filter) and spec.references is not None and found:
            if spec.column in referenced:  # customer and customer_external_id: one column
                raise InvalidRequest(f"Send {referenced[spec.column]} or {spec.name}, not both",
                                     field=spec.name)
            referenced[spec.column] = spec.name
            row = await repo.fetch(conn, spec.references, principal, found[0].value,
                                   field=spec.name, key=spec.reference_key)
            found = [found[0]._replace(value=row["id"])]
        conditions += found
    return conditions


def expansions(resource: Resource, raw: str | None) -> tuple[str, ...]:
    """The fields `?expand=` names (comma-separated or repeated), each one the resource has."""
    if not raw:
        return ()
    names = tuple(dict.fromkeys(name.strip() for name in raw.split(",")))
    unknown = [name for name in names if name not in resource.expand]
    if unknown:
        choices = ", ".join(resource.expand) or "nothing"
        raise InvalidRequest(f"expand cannot name {unknown[0]!r} (it takes: {choices})",
                             field="expand")
    return names


def read_expansions(resource: Resource, query: Any) -> tuple[str, ...]:
    """`?expand=` of a call that takes no other query parameter (a retrieve, a batch)."""
    for name in query:
        if name != "expand":
            raise ParameterUnknown(f"Received unknown parameter: {name}", field=name)
    return expansions(resource, ",".join(query.getall("expand", [])))


@functools.lru_cache
def _expand_sql(target: Resource) -> str:
    """The live objects of `target` named by the ids in $3 (comma-separated: ids are
    lowercase letters and digits; asyncpg spends ~1 µs an element checking a list it sends
    as an array), each as the JSON it is served as. One primary-key probe per id: with
    `t.id = any($3)` the planner would AND the ids with an index over the whole workspace (the
    search index), a scan of it all."""
    return _objects_json_sql(target, "t.id in (select unnest(string_to_array($3, ',')))")


def _objects_json_sql(target: Resource, id_condition: str) -> str:
    """The live objects of `target` in the scope $1, $2 that `id_condition` picks, as (id, the
    JSON the object is served as). PostgreSQL writes the JSON (row_to_json of the served
    columns, in the read struct's order, compact), so an expanded page costs the API one
    text value per object instead of a row to decode, a struct to build and its fields to
    encode again."""
    columns = ", ".join(_json_column(field) for field in msgspec.structs.fields(target.read))
    return (f"select r.id, row_to_json(r)::text as json from (select {columns} from ("
            f"{queries[target.table + '.select']} where t.workspace_id = $1 "
            f"and t.livemode = $2 and {id_condition} and t.deleted_at is null) s) r")


def _json_column(field: msgspec.structs.FieldInfo) -> str:
    """The column as the object's JSON carries it. A jsonb object (metadata: text keys and
    values, never null) is written compact, in its stored order, as msgspec writes the dict
    asyncpg reads from it: json_strip_nulls writes JSON compact (and has no null to strip),
    where jsonb's own text form has spaces after its separators."""
    if field.type != dict[str, str]:
        return f's."{field.name}"'
    return f'json_strip_nulls(s."{field.name}"::json) as "{field.name}"'


async def expand(conn: asyncpg.Connection, resource: Resource, principal: Principal,
                 objects: list[Any], names: tuple[str, ...]) -> list[Any]:
    """`objects`, each named field's id replaced by the live object it names (null when that
    object is gone): one query per field for the whole list."""
    from app.registry import by_table  # the registry imports every resource

    for name in names:
        target = by_table(resource.expand[name])
        ids = sorted({getattr(obj, name) for obj in objects if getattr(obj, name) is not None})
        found = {}
        if ids:
            rows = await conn.fetch(_expand_sql(target), principal.workspace_id,
                                    principal.livemode, ",".join(ids))
            found = {row["id"]: msgspec.Raw(row["json"].encode()) for row in rows}
        for obj in objects:  # rendered for this answer alone: set in place
            setattr(obj, name, found.get(getattr(obj, name)))
    return objects


async def list_page(conn: asyncpg.Connection, resource: Resource, principal: Principal,
                    params: ListParams, conditions: list[Condition], names: tuple[str, ...]
                    ) -> tuple[list[asyncpg.Record], bool]:
    """repo.list_page, with the objects `names` expand in the same statement: each page row
    carries, after its cursor, one JSON text (or null) per name (see render_page)."""
    if not names:
        return await repo.list_page(conn, resource, principal, params, conditions)
    sql, args = repo.list_query(resource, principal, params, conditions)
    return page_of(await conn.fetch(_with_expansions(resource, sql, names, params.descending),
                                    *args), params)


def render_page(resource: Resource, rows: list[asyncpg.Record], names: tuple[str, ...]
                ) -> list[Any]:
    """The page's objects, each expanded field set to the JSON its row carries."""
    if not names:
        return [resource.render(row) for row in rows]
    objects = []
    for row in rows:
        values = tuple(row)
        obj = resource.render(values[:-len(names)])  # the page's row: its fields and cursor
        for name, found in zip(names, values[-len(names):], strict=True):
            setattr(obj, name, None if found is None else msgspec.Raw(found.encode()))
        objects.append(obj)
    return objects


def _with_expansions(resource: Resource, page_sql: str, names: tuple[str, ...],
                     descending: bool) -> str:
    """The page's query with, per name, the object its field names as served JSON: a lateral
    primary-key probe per row, so the page and its expansions are one round trip. The outer
    query keeps the page's order by the cursor (created_at to the microsecond, fixed width)."""
    columns, joins = _expansion_joins(resource, names)
    return (f"select paged.*, {columns} from ({page_sql}) paged {joins} "
            f"order by paged.cursor {'desc' if descending else 'asc'}")


@functools.lru_cache(maxsize=64)
def _expansion_joins(resource: Resource, names: tuple[str, ...]) -> tuple[str, str]:
    from app.registry import by_table  # the registry imports every resource

    columns, joins = [], []
    for n, name in enumerate(names):
        found = _objects_json_sql(by_table(resource.expand[name]), f't.id = paged."{name}"')
        columns.append(f"x{n}.json as expanded_{n}")
        # limit 1 keeps the subquery a probe per row: flattened into the page's query, the
        # planner may hash-join the whole workspace's objects, each written as JSON
        joins.append(f"left join lateral ({found} limit 1) x{n} on true")
    return ", ".join(columns), " ".join(joins)
