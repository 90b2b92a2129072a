"""Create, update and delete for every resource, each with its outbox events.

The caller passes a connection inside a transaction: the object and its events commit
together or not at all. Resource-specific rules plug in through `Resource.hooks`.
"""

from __future__ import annotations

from typing import Any

import asyncpg
import msgspec

from app import registry
from app.core import validation
from app.core.principal import Principal
from app.events.repo import append_event
from app.resources import repo
from app.resources.model import Resource

UNSET = msgspec.UNSET


class Deleted(msgspec.Struct):
    object: str
    id: str
    display_id: int
    deleted: bool


def fields_of(body: msgspec.Struct) -> dict[str, Any]:
    return {name: getattr(body, name) for name in body.__struct_fields__}


async def create_object(
    conn: asyncpg.Connection, resource: Resource, principal: Principal, body: msgspec.Struct
) -> msgspec.Struct:
    """Validate, insert and announce a new object."""
    values = fields_of(body)
    values["metadata"] = validation.metadata({}, values.get("metadata") or {})
    values = resource.hooks.normalise(values)
    values = await resource.hooks.prepare_create(conn, principal, values)
    unique = resource.hooks.unique_values(resource, values, None)
    row = await repo.insert(conn, resource, principal, values, unique)
    created = resource.render(row)
    await _announce(conn, resource, principal, "created", created)
    await resource.hooks.after_write(conn, principal, created, None)
    return resource.hooks.created_view(created, values)


async def update_object(
    conn: asyncpg.Connection,
    resource: Resource,
    principal: Principal,
    reference: str,
    patch: msgspec.Struct,
) -> msgspec.Struct:
    """Apply a PATCH; a PATCH that changes nothing writes nothing and emits nothing."""
    current = resource.render(await repo.fetch(conn, resource, principal, reference, lock="update"))
    updated, _ = await apply_patch(conn, resource, principal, current, patch)
    return updated


async def apply_patch(
    conn: asyncpg.Connection,
    resource: Resource,
    principal: Principal,
    current: msgspec.Struct,
    patch: msgspec.Struct,
) -> tuple[msgspec.Struct, bool]:
    """Apply a PATCH's set fields to `current` (locked by the caller): the object after it, and
    whether anything changed (nothing changed: nothing written, no event)."""
    requested = {name: value for name, value in fields_of(patch).items() if value is not UNSET}
    if "metadata" in requested:
        requested["metadata"] = validation.metadata(current.metadata, requested["metadata"] or {})
    requested = resource.hooks.check_patch(current, resource.hooks.normalise(requested))
    requested = await resource.hooks.prepare_update(conn, principal, current, requested)
    new = {name: value for name, value in requested.items() if getattr(current, name) != value}
    if not new:
        return current, False
    derived = resource.hooks.derived(current, new)
    columns = {resource.column(name): value for name, value in new.items()}
    columns.update(derived.columns)
    unique = resource.hooks.unique_values(resource, new, current)
    updated_at = await repo.update(conn, resource, principal, current.id, columns, unique)
    new.update(derived.fields)
    updated = msgspec.structs.replace(current, **new, updated_at=updated_at)
    previous = {name: getattr(current, name) for name in new}
    await _announce(conn, resource, principal, "updated", updated, previous)
    await resource.hooks.after_write(conn, principal, updated, current)
    return updated, True


async def delete_object(
    conn: asyncpg.Connection, resource: Resource, principal: Principal, reference: str
) -> Deleted:
    """Soft-delete an object and, in the same transaction, the objects that belong to it."""
    row = await repo.fetch(conn, resource, principal, reference, lock="update")
    deleted = resource.render(row)
    for child in registry.children(resource):
        await _delete_children(conn, child, principal, deleted.id)
    await repo.soft_delete(conn, resource, principal, [deleted.id])
    await _announce(conn, resource, principal, "deleted", deleted)
    return Deleted("deleted", deleted.id, deleted.display_id, True)


async def _delete_children(
    conn: asyncpg.Connection, child: Resource, principal: Principal, parent_id: str
) -> None:
    rows = await repo.fetch_children(conn, child, principal, parent_id)
    if not rows:
        return
    await repo.soft_delete(conn, child, principal, [row["id"] for row in rows])
    for row in rows:
        await _announce(conn, child, principal, "deleted", child.render(row))


async def _announce(
    conn: asyncpg.Connection,
    resource: Resource,
    principal: Principal,
    action: str,
    obj: msgspec.Struct,
    previous: dict[str, Any] | None = None,
) -> None:
    if resource.emits_events:
        await append_event(conn, principal, f"{resource.object}.{action}", obj, previous)
