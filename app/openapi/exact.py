"""Refinements that make the generated OpenAPI document exact where structs cannot say it.

msgspec describes `object: str`; the wire always carries one constant per type. Response
headers are added by middleware, not by handlers, so they are described here for every
operation at once — including operations added later.
"""

from __future__ import annotations

from typing import Any

from app.http.ratelimit import HEADER_NAMES
from app.resources.model import Resource

HEADER_REF = "#/components/headers/{name}"
REF = "#/components/schemas/{name}"
HEADERS: dict[str, dict[str, Any]] = {
    "Request-Id": {"description": "The request's id, also in the server's log line",
                   "required": True, "schema": {"type": "string", "pattern": "^req_"}},
    "RateLimit-Limit": {"description": "Requests allowed per second with this key (burst)",
                        "schema": {"type": "integer", "minimum": 0}},
    "RateLimit-Remaining": {"description": "Requests left before this key is rate limited",
                            "schema": {"type": "integer", "minimum": 0}},
    "RateLimit-Reset": {"description": "Seconds until the allowance is full again",
                        "schema": {"type": "integer", "minimum": 0}},
    "Retry-After": {"description": "Seconds to wait before retrying", "required": True,
                    "schema": {"type": "integer", "minimum": 0}},
    "Idempotent-Replayed": {"description": "`true` when this is the stored first response",
                            "schema": {"type": "string", "enum": ["true"]}},
}
# (create, update) request examples, by object type
EXAMPLES: dict[str, tuple[dict[str, Any], dict[str, Any]]] = {
    "customer": ({"name": "Acme", "domain": "acme.com", "external_id": "hubspot-981",
                  "metadata": {"plan": "enterprise"}}, {"lifecycle_stage": "active"}),
    "contact": ({"customer": 1, "email": "ada@acme.com", "name": "Ada", "is_primary": True},
                {"title": "CTO"}),
    "onboarding": ({"customer": 1, "name": "Go-live", "target_date": "2027-01-31",
                    "external_id": "deal-42"}, {"status": "paused"}),
    "webhook_endpoint": ({"url": "https://example.com/pivotal/webhooks",
                          "enabled_events": ["customer.*", "onboarding.created"]},
                         {"status": "disabled"}),
}
_METHODS = ("get", "post", "patch", "delete", "put")


# answered before the key is looked up: no RateLimit-* headers
_UNAUTHENTICATED = ("401", "414", "431")


def _headers_for(method: str, status: str, authenticated: bool) -> list[str]:
    names = ["Request-Id"]
    if authenticated and status not in _UNAUTHENTICATED:
        names += HEADER_NAMES
    if status == "429":
        names.append("Retry-After")
    if method == "post" and status.startswith("2"):
        names.append("Idempotent-Replayed")
    return names


def add_response_headers(paths: dict[str, Any]) -> None:
    """Describe the headers every response carries: Request-Id, rate limits, Retry-After."""
    for item in paths.values():
        for method in _METHODS:
            operation = item.get(method)
            if operation is None:
                continue
            authenticated = operation.get("security") != []
            for status, response in operation["responses"].items():
                names = _headers_for(method, status, authenticated)
                response["headers"] = {n: {"$ref": HEADER_REF.format(name=n)} for n in names}


def pin_objects(components: dict[str, Any], resources: tuple[Resource, ...]) -> None:
    """Each object's `object` is a constant; an event carries one of the objects."""
    tables = {resource.table: resource for resource in resources}
    for resource in resources:
        for struct in {resource.read, resource.created}:
            properties = components[struct.__name__]["properties"]
            properties["object"] = {"const": resource.object}
            # ?expand= answers the object itself in place of its id
            for name, table in resource.expand.items():
                properties[name] = {"anyOf": [properties[name],
                                              {"$ref": REF.format(name=tables[table].read.__name__)}]}
    from app.openapi.webhooks import OBJECTS

    for name, kind in OBJECTS.items():
        components[name]["properties"]["object"] = {"const": kind}
    components["EventType"]["properties"]["example"] = {"$ref": REF.format(name="Event")}
    components["EventType"]["properties"]["type"] = components["Event"]["properties"]["type"]
    _state_request_rules(components, resources)
    components["Recover"]["properties"]["since"] = {
        "type": "string", "format": "date-time",
        "description": "Deliveries that ended failed at or after this time are queued again"}
    deleted = components["Deleted"]["properties"]
    deleted["object"], deleted["deleted"] = {"const": "deleted"}, {"const": True}
    health = components["Health"]["properties"]
    health["object"], health["status"] = {"const": "health"}, {"enum": ["ok", "degraded"]}
    health["postgres"] = health["redis"] = {"enum": ["up", "down"]}
    data = components["Event"]["properties"]["data"]["properties"]
    data["object"] = {"oneOf": [
        {"$ref": f"#/components/schemas/{r.read.__name__}"}
        for r in resources if r.emits_events or r.extra_events
    ]}


def _state_request_rules(components: dict[str, Any], resources: tuple[Resource, ...]) -> None:
    """What request bodies must hold beyond their fields' own types: the customer named one
    way only (app/resources/references.py), and known event types in enabled_events."""
    from app.registry import EVENT_FAMILIES, EVENT_TYPES
    from app.resources.references import BY_EXTERNAL_ID

    def named(field: str) -> dict[str, Any]:
        return {"required": [field], "properties": {field: {"not": {"type": "null"}}}}

    for resource in resources:
        if BY_EXTERNAL_ID not in components[resource.create.__name__]["properties"]:
            continue
        components[resource.create.__name__]["oneOf"] = [named("customer"), named(BY_EXTERNAL_ID)]
        components[resource.update.__name__]["not"] = {"required": ["customer", BY_EXTERNAL_ID]}
    known = {"enum": ["*", *EVENT_TYPES, *EVENT_FAMILIES]}
    for name in ("WebhookEndpointCreate", "WebhookEndpointUpdate"):
        components[name]["properties"]["enabled_events"]["items"] = known
