"""GET /event_types: every event type the registry derives, with a description and an example.

The examples are not typed by hand: each object is built through its resource's read struct
from the create and update examples the OpenAPI document shows (decoded by the create and
update structs, so they are valid requests), with the resource's own update rules applied,
and the event around it is encoded by the same structs the feed and the webhooks use.
"""

from __future__ import annotations

import hashlib
from functools import cache
from typing import Any

import msgspec

from app.events.schemas import Event, EventData
from app.http.responses import encode
from app.openapi.exact import EXAMPLES
from app.registry import EVENT_KINDS, by_table
from app.resources.model import Resource

EXAMPLE_CREATED_AT = "2026-05-26T17:21:09.412Z"
EXAMPLE_UPDATED_AT = "2026-05-27T08:03:44.950Z"
EXAMPLE_EVENT_ID = "ckv9x2m1p0000qz8l3h6g7f2a"
_BASE36 = "0123456789abcdefghijklmnopqrstuvwxyz"


class EventType(msgspec.Struct):
    object: str
    type: str
    description: str
    example: msgspec.Raw


def example_id(kind: str) -> str:
    """A cuid-shaped id, the same for an object type in every example."""
    number = int.from_bytes(hashlib.sha256(kind.encode()).digest()[:16], "big")
    digits = []
    for _ in range(23):
        number, digit = divmod(number, 36)
        digits.append(_BASE36[digit])
    return "c" + "".join(digits)


def _builtins(value: dict[str, Any], struct: type[msgspec.Struct]) -> dict[str, Any]:
    """`value` decoded by `struct` (so it is a valid request) and back to JSON values; fields
    left unset by a PATCH are dropped."""
    return msgspec.to_builtins(msgspec.convert(value, struct))


def example_object(resource: Resource, livemode: bool) -> msgspec.Struct:
    """An object of `resource` as its read struct serves it."""
    create_example, _ = EXAMPLES[resource.object]
    requested = _builtins(create_example, resource.create)
    values: dict[str, Any] = {}
    for field in msgspec.structs.fields(resource.read):
        if field.name in resource.expand:  # a reference answers the other object's cuid
            values[field.name] = example_id(by_table(resource.expand[field.name]).object)
        elif field.name in requested:
            values[field.name] = requested[field.name]
        else:
            values[field.name] = None  # a read-only field not set yet, or checked below
    values.update(object=resource.object, id=example_id(resource.object), display_id=42,
                  livemode=livemode, created_at=EXAMPLE_CREATED_AT,
                  updated_at=EXAMPLE_CREATED_AT)
    if "metadata" in values and not values["metadata"]:
        values["metadata"] = {"region": "emea"}
    # the read struct checks the example's shape: a field it cannot fill fails here, at import
    return msgspec.convert(values, resource.read)


def example_update(resource: Resource, current: msgspec.Struct) -> tuple[msgspec.Struct, dict]:
    """The object after the documented PATCH example, through the resource's own update
    rules, and the previous values of what changed."""
    _, update_example = EXAMPLES[resource.object]
    requested = resource.hooks.check_patch(
        current, resource.hooks.normalise(_builtins(update_example, resource.update)))
    new = {name: value for name, value in requested.items() if getattr(current, name) != value}
    new.update(resource.hooks.derived(current, new).fields)
    updated = msgspec.structs.replace(current, **new, updated_at=EXAMPLE_UPDATED_AT)
    return updated, {name: getattr(current, name) for name in new}


def example_event(event_type: str, livemode: bool) -> Event:
    """An event of `event_type`, encoded exactly as the feed and the webhooks carry it."""
    resource, kind = EVENT_KINDS[event_type]
    obj, previous = example_object(resource, livemode), None
    if kind.action == "updated":
        obj, previous = example_update(resource, obj)
    elif kind.sets:
        obj = msgspec.structs.replace(obj, **dict(kind.sets), updated_at=EXAMPLE_UPDATED_AT)
    created_at = obj.updated_at if kind.action != "created" else obj.created_at
    data = msgspec.Raw(encode(EventData(obj, previous)))
    return Event("event", EXAMPLE_EVENT_ID, 7, event_type, livemode, created_at, data)


@cache
def event_types(livemode: bool) -> tuple[EventType, ...]:
    """Every event type, in registry order, with its example in the caller's mode."""
    return tuple(
        EventType("event_type", event_type, kind.description,
                  msgspec.Raw(encode(example_event(event_type, livemode))))
        for event_type, (_, kind) in EVENT_KINDS.items()
    )
