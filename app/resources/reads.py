"""What list and read calls may ask for beyond the objects: filters and expansions.

An expansion (`?expand=customer`) replaces an id field with the object it names, for a whole
page in one query, never one per item.
"""

from __future__ import annotations

import functools
from typing import Any

import asyncpg
import msgspec

from app.core.db import queries
from app.core.errors import InvalidRequest, ParameterUnknown
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
    as an array), each as the JSON it is served as.

    PostgreSQL writes each object's JSON (row_to_json of the served columns, in the read
    struct's order, compact), so an expanded page costs the API one text value per object
    instead of a row to decode, a struct to build and its fields to encode again. One
    primary-key probe per id: with `t.id = any($3)` the planner would AND the ids with an
    index over the whole workspace (the search index), a scan of it all."""
    columns = ", ".join(_json_column(field) for field in msgspec.structs.fields(target.read))
    return (f"select r.id, row_to_json(r)::text as json from (select {columns} from ("
            f"{queries[target.table + '.select']} where t.workspace_id = $1 "
            "and t.livemode = $2 and t.id in (select unnest(string_to_array($3, ','))) "
            "and t.deleted_at is null) s) r")


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
