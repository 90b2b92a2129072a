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

from app.core.errors import ApiError, ErrorBody
from app.core.principal import Principal
from app.http.parsing import decode_json
from app.resources import repo, writes
from app.resources.model import Resource

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
            create = decode_json(raw, resource.create)
            patch = decode_json(raw, resource.update)
        except ApiError as error:
            decoded.append(error_result(index, error))
            continue
        decoded.append(Item(index, create, patch, getattr(create, "external_id", None)))
    return decoded


def error_result(index: int, error: ApiError) -> BatchResult:
    field = f"items.{index}.{error.field}" if error.field else f"items.{index}"
    return BatchResult("batch_result", index, "error",
                       error=ErrorBody(error.type, error.code, error.message, field))


async def upsert(conn: asyncpg.Connection, resource: Resource, principal: Principal,
                 items: list[Item | BatchResult]) -> Batch:
    """Apply the items in order, each under its own savepoint."""
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
