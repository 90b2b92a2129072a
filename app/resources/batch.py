"""Batch upsert: `POST /<resource>/batch`, 1 to 100 items matched on external_id.

Each item is applied as if it were sent alone, in order: an item whose external_id a live
object holds updates it (PATCH rules), any other item creates a new object. An item that fails
writes nothing and stops no other; every item that succeeds commits with its events, exactly
those the single-object calls emit. The batch runs in one transaction with a savepoint per
item, so a failing item is rolled back alone.
"""

from __future__ import annotations

from typing import Annotated, Any

import asyncpg
import msgspec

from app.core import validation
from app.core.db import queries
from app.core.errors import ApiError, Conflict, ErrorBody, not_found
from app.core.ids import new_id, parse_reference
from app.core.principal import Principal
from app.events.repo import append_events
from app.http.parsing import decode_json, not_utf8
from app.resources import reads, repo, writes
from app.resources.model import NO_DERIVED, Derived, Resource
from app.resources.references import BY_EXTERNAL_ID, customer_reference, required_reference

UNSET = msgspec.UNSET

MAX_ITEMS = 100
# a racing batch that created the same external_id first turns this item into an update
RACE_ATTEMPTS = 3


class BatchRequest(msgspec.Struct, forbid_unknown_fields=True):
    items: Annotated[list[msgspec.Raw], msgspec.Meta(min_length=1, max_length=MAX_ITEMS)]


class BatchResult(msgspec.Struct, omit_defaults=True):
    object: str
    index: int
    result: str  # created | updated | unchanged | error
    data: Any = None
    error: ErrorBody | None = None


class Batch(msgspec.Struct):
    object: str
    data: list[BatchResult]


class Item(msgspec.Struct):
    """One item, decoded twice: as a create (every rule of the create call) and as a patch
    (which fields it sets, for the update of an existing object)."""

    index: int
    create: Any
    patch: Any
    external_id: str | None


def decode_items(resource: Resource, body: BatchRequest) -> list[Item | BatchResult]:
    """Each item decoded, or its error result: a malformed item stops no other."""
    decoded: list[Item | BatchResult] = []
    for index, item in enumerate(body.items):
        raw = bytes(item)
        try:
            raw.decode()
        except UnicodeDecodeError:  # the body is no JSON text at all: no item is read
            raise not_utf8() from None
        try:
            create = decode_json(raw, resource.create)
            patch = decode_json(raw, resource.update)
        except ApiError as error:
            decoded.append(error_result(index, error))
            continue
        decoded.append(Item(index, create, patch, getattr(create, "external_id", None)))
    return decoded


async def expand_results(conn: asyncpg.Connection, resource: Resource, principal: Principal,
                         answer: Batch, names: tuple[str, ...]) -> Batch:
    """The answer with `?expand=` applied to every item's object, in one query per field."""
    if not names:
        return answer
    done = [result for result in answer.data if result.data is not None]
    objects = await reads.expand(conn, resource, principal, [r.data for r in done], names)
    for result, obj in zip(done, objects, strict=True):
        result.data = obj
    return answer


def error_result(index: int, error: ApiError) -> BatchResult:
    field = f"items.{index}.{error.field}" if error.field else f"items.{index}"
    return BatchResult("batch_result", index, "error",
                       error=ErrorBody(error.type, error.code, error.message, field))


async def upsert(conn: asyncpg.Connection, resource: Resource, principal: Principal,
                 items: list[Item | BatchResult]) -> Batch:
    """Apply the items in order: set-based when the batch allows it (a handful of statements
    for the whole batch), else, or when a concurrent writer got in the way, item by item."""
    if not needs_item_path(resource, items):
        try:
            async with conn.transaction():
                return Batch("batch", await _upsert_set_based(conn, resource, principal, items))
        except (asyncpg.UniqueViolationError, asyncpg.DeadlockDetectedError):
            pass  # a value taken meanwhile: item by item, each clash explained on its own
    return await _upsert_items(conn, resource, principal, items)


async def _upsert_items(conn: asyncpg.Connection, resource: Resource, principal: Principal,
                        items: list[Item | BatchResult]) -> Batch:
    """Each item under its own savepoint, through the single-object writes."""
    results = []
    for item in items:
        if isinstance(item, Item):
            item = await _upsert_item(conn, resource, principal, item)
        results.append(item)
    return Batch("batch", results)


async def _upsert_item(conn: asyncpg.Connection, resource: Resource, principal: Principal,
                       item: Item) -> BatchResult:
    for attempt in range(1, RACE_ATTEMPTS + 1):
        try:
            async with conn.transaction():
                return await _apply(conn, resource, principal, item)
        except repo.UniqueClash as clash:
            # another writer committed this external_id meanwhile: the next try updates it
            if clash.field != "external_id" or attempt == RACE_ATTEMPTS:
                return error_result(item.index, await repo.explain_clash(conn, principal, clash))
        except ApiError as error:
            return error_result(item.index, error)
    raise AssertionError("unreachable")


async def _apply(conn: asyncpg.Connection, resource: Resource, principal: Principal,
                 item: Item) -> BatchResult:
    current = None
    if item.external_id is not None:
        row = await conn.fetchrow(_locked_by_external_id(resource), principal.workspace_id,
                                  principal.livemode, item.external_id)
        current = resource.render(row) if row is not None else None
    if current is None:
        created = await writes.create_object(conn, resource, principal, item.create)
        return BatchResult("batch_result", item.index, "created", created)
    updated, changed = await writes.apply_patch(conn, resource, principal, current, item.patch)
    return BatchResult("batch_result", item.index, "updated" if changed else "unchanged", updated)


def _locked_by_external_id(resource: Resource) -> str:
    return repo.get_sql(resource, "external_id", "update")


def supports_batch(resource: Resource) -> bool:
    """Resources whose objects carry an external_id can be upserted in batches."""
    return "external_id" in resource.unique_fields


# --- the set-based path: a handful of statements for the whole batch --------------------------

class _Plan(msgspec.Struct):
    """What the set-based path will do with the items: results known before any write, the
    rows to insert, and the objects to update."""

    results: dict[int, BatchResult]
    creates: list[tuple[int, dict[str, Any]]]
    # (index, current object, new API fields, derived columns and fields)
    updates: list[tuple[int, Any, dict[str, Any], Derived]]


def needs_item_path(resource: Resource, items: list[Item | BatchResult]) -> bool:
    """Batches the set-based path does not take: the same external_id twice (the second item
    updates what the first creates), or an item whose write has side effects on other rows."""
    seen: set[str] = set()
    for item in items:
        if not isinstance(item, Item):
            continue
        if resource.hooks.writes_other_rows(item.create, item.patch):
            return True
        if item.external_id is not None:
            if item.external_id in seen:
                return True
            seen.add(item.external_id)
    return False


async def _upsert_set_based(conn: asyncpg.Connection, resource: Resource, principal: Principal,
                            items: list[Item | BatchResult]) -> list[BatchResult]:
    external_ids = [i.external_id for i in items if isinstance(i, Item) and i.external_id]
    existing = await repo.fetch_many_by_external_id(conn, resource, principal, external_ids)
    named = _references(resource, items)
    customers = await _resolve_references(conn, resource, principal, named.values())
    plan = _plan(resource, items, {k: resource.render(r) for k, r in existing.items()},
                 named, customers)
    await _refuse_taken_unique_values(conn, resource, principal, plan)
    created = []
    if plan.creates:
        created = await repo.insert_many(conn, resource, principal, [v for _, v in plan.creates])
    events: list[tuple[int, str, Any, dict[str, Any] | None]] = []
    for (index, _), row in zip(plan.creates, created, strict=True):
        obj = resource.render(row)
        plan.results[index] = BatchResult("batch_result", index, "created", obj)
        events.append((index, f"{resource.object}.created", obj, None))
    if plan.updates:
        rows = [_update_row(resource, current, new, derived)
                for _, current, new, derived in plan.updates]
        updated_at = await repo.update_many(conn, resource, principal, rows)
        for index, current, new, derived in plan.updates:
            changed = {**new, **derived.fields}
            obj = msgspec.structs.replace(current, **changed, updated_at=updated_at[current.id])
            previous = {name: getattr(current, name) for name in changed}
            plan.results[index] = BatchResult("batch_result", index, "updated", obj)
            events.append((index, f"{resource.object}.updated", obj, previous))
    if resource.emits_events and events:
        events.sort(key=lambda event: event[0])
        await append_events(conn, principal, [event[1:] for event in events])
    return [plan.results[index] for index in range(len(items))]


def _references(resource: Resource, items: list[Item | BatchResult]) -> dict[int, tuple[str, Any]]:
    """index -> the customer each item names (items naming none are left out)."""
    if resource.parent is None:
        return {}
    named = {}
    for item in items:
        if isinstance(item, Item):
            values = {"customer": getattr(item.create, "customer", None),
                      BY_EXTERNAL_ID: getattr(item.create, BY_EXTERNAL_ID, None)}
            try:
                reference = customer_reference(values)
            except ApiError:
                continue  # reported when the item is planned
            if reference is not None:
                named[item.index] = reference
    return named


async def _resolve_references(conn: asyncpg.Connection, resource: Resource, principal: Principal,
                              named: Any) -> dict[tuple[str, Any], str]:
    """(field, reference) -> the live customer's id, for every reference that names one."""
    named = list(named)
    if not named:
        return {}
    keys = {reference: parse_reference(reference[1]) if reference[0] == "customer" else None
            for reference in named}
    rows = await conn.fetch(*_find_many(resource.parent, principal, keys))
    by_id = {row["id"]: row["id"] for row in rows}
    by_display_id = {row["display_id"]: row["id"] for row in rows}
    by_external_id = {row["external_id"]: row["id"] for row in rows if row["external_id"]}
    resolved = {}
    for reference, key in keys.items():
        field, value = reference
        found = (by_external_id.get(value) if field == BY_EXTERNAL_ID
                 else by_display_id.get(key) if isinstance(key, int) else by_id.get(key))
        if found is not None:
            resolved[reference] = found
    return resolved


def _find_many(parent: Resource, principal: Principal, keys: dict) -> list[Any]:
    name = parent.table + ".find_many"
    values = {"workspace_id": principal.workspace_id, "livemode": principal.livemode,
              "ids": [k for k in keys.values() if isinstance(k, str)],
              "display_ids": [k for k in keys.values() if isinstance(k, int)],
              "external_ids": [ref[1] for ref in keys if ref[0] == BY_EXTERNAL_ID]}
    return [queries[name], *queries.arguments(name, values)]


def _plan(resource: Resource, items: list[Item | BatchResult], existing: dict[str, Any],
          named: dict[int, tuple[str, Any]], customers: dict[tuple[str, Any], str]) -> _Plan:
    plan = _Plan({}, [], [])
    for item in items:
        if not isinstance(item, Item):
            plan.results[item.index] = item
            continue
        try:
            current = existing.get(item.external_id) if item.external_id else None
            if current is None:
                plan.creates.append((item.index, _create_values(resource, item, named, customers)))
                continue
            new, derived = _changes(resource, item, current, customers)
        except ApiError as error:
            plan.results[item.index] = error_result(item.index, error)
            continue
        if new:
            plan.updates.append((item.index, current, new, derived))
        else:
            plan.results[item.index] = BatchResult("batch_result", item.index, "unchanged",
                                                   current)
    return plan


def _customer_id(item: Item, named: tuple[str, Any], customers: dict) -> str:
    found = customers.get(named)
    if found is None:
        raise not_found("customer", named[1], named[0])
    return found


def _create_values(resource: Resource, item: Item, named: dict, customers: dict) -> dict:
    values = writes.fields_of(item.create)
    values["id"] = new_id()
    values["metadata"] = validation.metadata({}, values.get("metadata") or {})
    values = resource.hooks.normalise(values)
    if resource.parent is not None:
        values["customer"] = _customer_id(item, required_reference(values), customers)
    return values


def _changes(resource: Resource, item: Item, current: Any, customers: dict
             ) -> tuple[dict[str, Any], Derived]:
    """The PATCH rules of the single-object update, without its database steps: the API
    fields that change, and what they imply."""
    requested = {k: v for k, v in writes.fields_of(item.patch).items() if v is not UNSET}
    if "metadata" in requested:
        requested["metadata"] = validation.metadata(current.metadata, requested["metadata"] or {})
    requested = resource.hooks.check_patch(current, resource.hooks.normalise(requested))
    if resource.parent is not None:
        reference = customer_reference(requested)
        moved = reference is not None and reference != ("customer", current.customer)
        if moved and _customer_id(item, reference, customers) != current.customer:
            raise Conflict("customer cannot be changed", field=reference[0], code="immutable_field")
    new = {name: value for name, value in requested.items() if getattr(current, name) != value}
    return new, (resource.hooks.derived(current, new) if new else NO_DERIVED)


def _update_row(resource: Resource, current: Any, new: dict[str, Any], derived: Derived) -> dict:
    """The `<table>.update_many` parameters of one object: every column after the change."""
    parameters = queries.parameters(resource.table + ".update_many")
    row = {}
    for parameter in parameters:
        if parameter.startswith("set_"):
            row[parameter] = parameter[4:] in derived.columns
        elif parameter in derived.columns:
            row[parameter] = derived.columns[parameter]
        elif f"set_{parameter}" in parameters:
            row[parameter] = None  # kept as it is (its set_ flag is false)
        elif parameter in new:
            row[parameter] = new[parameter]
        else:  # a column the API does not show (email_normalized) stays as it is: null
            row[parameter] = getattr(current, parameter, None)
    return resource.hooks.columns(row)


async def _refuse_taken_unique_values(conn: asyncpg.Connection, resource: Resource,
                                      principal: Principal, plan: _Plan) -> None:
    """Items that would take a unique value (other than external_id) that a live object, or
    an earlier item, holds become 409 item errors, as the single calls answer."""
    wanted: dict[int, tuple[str, tuple]] = {}
    for index, values in plan.creates:
        for field, value in resource.hooks.unique_values(resource, values, None).items():
            if field != "external_id" and isinstance(value, tuple):
                wanted[index] = (field, value)
    for index, current, new, _ in plan.updates:
        for field, value in resource.hooks.unique_values(resource, new, current).items():
            if field != "external_id" and isinstance(value, tuple):
                wanted[index] = (field, value)
    if not wanted:
        return
    holders = await _holders(conn, resource, principal, wanted)
    object_ids = {index: values["id"] for index, values in plan.creates}
    object_ids.update((index, current.id) for index, current, _, _ in plan.updates)
    claimed: dict[tuple, str] = {}  # the value -> the object an earlier item gives it to
    refused = set()
    for index, (field, value) in sorted(wanted.items()):
        key = (field, *value)
        holder = holders.get((field, *value))
        if holder is None or holder == object_ids[index]:
            holder = claimed.get(key)
        if holder is None:
            claimed[key] = object_ids[index]
            continue
        message = f"A {resource.object} with this {field} already exists: {holder}"
        plan.results[index] = error_result(index, Conflict(message, field=field))
        refused.add(index)
    plan.creates[:] = [(i, v) for i, v in plan.creates if i not in refused]
    plan.updates[:] = [u for u in plan.updates if u[0] not in refused]


async def _holders(conn: asyncpg.Connection, resource: Resource, principal: Principal,
                   wanted: dict[int, tuple[str, tuple]]) -> dict[tuple, str]:
    """(field, *value) -> the id of the live object holding it."""
    holders = {}
    for field in {field for field, _ in wanted.values()}:
        name = f"{resource.table}.find_many_by_{field}"
        pairs = [value for f, value in wanted.values() if f == field]
        parameters = [p for p in queries.parameters(name) if p not in ("workspace_id", "livemode")]
        values = {"workspace_id": principal.workspace_id, "livemode": principal.livemode,
                  **{p: [pair[i] for pair in pairs] for i, p in enumerate(parameters)}}
        for row in await conn.fetch(queries[name], *queries.arguments(name, values)):
            holders[(field, *tuple(row)[1:])] = row["id"]
    return holders
