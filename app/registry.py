"""Every resource the API serves, one line each.

Routes, the OpenAPI document, the object types that count display_ids, the event types and
the delete cascades are all derived from `RESOURCES`: a new resource is its package plus one
line here.
"""

from __future__ import annotations

from app.contacts.resource import contacts
from app.customers.resource import customers
from app.events.schemas import Event
from app.onboardings.resource import onboardings
from app.resources.model import EventKind, Resource
from app.webhooks.resource import webhook_endpoints
from app.webhooks.schemas import WebhookAttempt, WebhookDelivery

RESOURCES: tuple[Resource, ...] = (customers, contacts, onboardings, webhook_endpoints)

EVENT_ACTIONS = ("created", "updated", "deleted")
_ACTION_DESCRIPTIONS = {
    "created": "A {name} was created.",
    "updated": "A {name} changed; data.previous_attributes holds the old values of the fields "
               "that changed.",
    "deleted": "A {name} was deleted (objects deleted with their parent get their own event).",
}


def _event_kinds(resource: Resource) -> tuple[EventKind, ...]:
    name = resource.object.replace("_", " ")
    crud = tuple(EventKind(action, _ACTION_DESCRIPTIONS[action].format(name=name))
                 for action in EVENT_ACTIONS) if resource.emits_events else ()
    return crud + resource.extra_events


# event type -> (the resource whose object it carries, what it means), in registry order
EVENT_KINDS: dict[str, tuple[Resource, EventKind]] = {
    f"{resource.object}.{kind.action}": (resource, kind)
    for resource in RESOURCES for kind in _event_kinds(resource)
}
EVENT_TYPES = tuple(EVENT_KINDS)
# types delivered only to the endpoint they are about (webhook_endpoint.test)
SUBJECT_ONLY_EVENT_TYPES = tuple(t for t, (_, kind) in EVENT_KINDS.items() if kind.to_subject_only)
# resources whose objects events carry
EVENT_RESOURCES = tuple(dict.fromkeys(resource for resource, _ in EVENT_KINDS.values()))
# `customer.*` and friends: what event filters accept besides exact types and `*`
EVENT_FAMILIES = tuple(sorted({event_type.split(".")[0] + ".*" for event_type in EVENT_TYPES}))
# every object type that counts its own display_ids (a workspace gets a sequence for each)
OBJECT_TYPES = (*(resource.object for resource in RESOURCES), "event")


def by_table(table: str) -> Resource:
    return _BY_TABLE[table]


_BY_TABLE = {resource.table: resource for resource in RESOURCES}


def children(resource: Resource) -> tuple[Resource, ...]:
    """Resources whose objects belong to one of `resource`'s and are deleted with it."""
    return tuple(child for child in RESOURCES if child.parent is resource)


def row_shapes() -> dict[str, tuple[str, ...]]:
    """The columns each positionally rendered query must answer (app.core.db.check_columns):
    the struct's fields, then the list cursor where the query pages."""
    shapes = {f"{r.table}.select": (*r.read.__struct_fields__, "cursor") for r in RESOURCES}
    shapes["events.select"] = (*Event.__struct_fields__, "cursor")
    delivery = tuple(f for f in WebhookDelivery.__struct_fields__ if f != "attempts")
    shapes["deliveries.select"] = (*delivery, "cursor")
    shapes["deliveries.attempts"] = ("delivery_id", *WebhookAttempt.__struct_fields__)
    return shapes
