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
from app.resources.model import Resource
from app.webhooks.resource import webhook_endpoints
from app.webhooks.schemas import WebhookAttempt, WebhookDelivery

RESOURCES: tuple[Resource, ...] = (customers, contacts, onboardings, webhook_endpoints)

EVENT_ACTIONS = ("created", "updated", "deleted")
EVENT_TYPES = tuple(
    f"{resource.object}.{action}"
    for resource in RESOURCES if resource.emits_events
    for action in EVENT_ACTIONS
)
# `customer.*` and friends: what event filters accept besides exact types and `*`
EVENT_FAMILIES = tuple(sorted({event_type.split(".")[0] + ".*" for event_type in EVENT_TYPES}))
# every object type that counts its own display_ids (a workspace gets a sequence for each)
OBJECT_TYPES = (*(resource.object for resource in RESOURCES), "event")


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
