"""The OpenAPI 3.1 document, built from the resource descriptions, and its rendered reference.

Built once at startup from the same structs that decode requests and encode responses, so
the document cannot drift from what the API accepts and answers.
"""

from __future__ import annotations

from typing import Any

import msgspec
from litestar import Request, Response, get

from app.core.errors import ErrorEnvelope
from app.core.validation import NO_NUL
from app.http.health import Health
from app.openapi import exact as openapi_exact
from app.openapi import webhooks
from app.openapi.parts import (
    REF,
    error_components,
    error_responses,
    id_parameter,
    idempotency_header,
    json_body,
    list_parameters,
    list_schema,
    ref,
)
from app.registry import EVENT_FAMILIES, EVENT_TYPES
from app.resources import batch
from app.resources.filters import (
    RANGE_OPERATORS,
    SEARCH_LENGTH,
    Filter,
    RangeFilter,
    Search,
    bool_filter,
    date_bound,
)
from app.resources.model import Resource
from app.resources.writes import Deleted

_DOCS_HTML = """<!doctype html>
<html><head><title>Pivotal API reference</title><meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1"></head>
<body><script id="api-reference" data-url="/api/v1/openapi.json"></script>
<script src="https://cdn.jsdelivr.net/npm/@scalar/api-reference@1"></script></body></html>"""


def _filter_parameters(spec: Filter | RangeFilter | Search) -> list[dict[str, Any]]:
    """A list filter's query parameters, as its parser reads them."""
    if isinstance(spec, RangeFilter):
        kind = {"type": "string", "format": "date" if spec.parse is date_bound else "date-time"}
        return [{"name": name, "in": "query", "schema": kind,
                 "description": f"Only objects with {spec.column} {operator} this"}
                for name, operator in zip(spec.names, RANGE_OPERATORS.values(), strict=True)]
    if isinstance(spec, Search):
        shortest, longest = SEARCH_LENGTH
        return [{"name": spec.name, "in": "query",
                 "description": "Case-insensitive substring of " + ", ".join(spec.fields),
                 "schema": {"type": "string", "minLength": shortest, "maxLength": longest,
                            "pattern": "^[^\\x00-\\x1f]*$"}}]
    # list filters refuse U+0000 (app/http/parsing.py)
    schema: dict[str, Any] = {"type": "string", "pattern": NO_NUL}
    if spec.parse is bool_filter:
        schema = {"type": "boolean"}
    elif choices := getattr(spec.parse, "choices", None):
        schema = {"type": "string", "enum": list(choices)}
    parameter: dict[str, Any] = {"name": spec.name, "in": "query", "schema": schema}
    if spec.multiple:  # status=active,paused
        parameter.update(schema={"type": "array", "items": schema, "minItems": 1},
                         style="form", explode=False)
    if spec.references is not None:
        key = spec.reference_key or "id (cuid) or display_id"
        parameter["description"] = f"The {spec.references.object}'s {key}"
    return [parameter]


def _expand_parameter(resource: Resource) -> list[dict[str, Any]]:
    if not resource.expand:
        return []
    return [{"name": "expand", "in": "query", "style": "form", "explode": False,
             "description": "Fields whose id is replaced by the object it names",
             "schema": {"type": "array", "items": {"enum": list(resource.expand)},
                        "minItems": 1}}]


def _created_description(resource: Resource) -> str:
    """A create that shows more than reads do (a one-time secret) says so in its docstring."""
    if resource.created_read is None:
        return f"The new {resource.object}"
    return " ".join((resource.created_read.__doc__ or "").split())


def _resource_paths(resource: Resource) -> dict[str, Any]:
    kind, read, created = resource.object, ref(resource.read), ref(resource.created)
    filters = [p for spec in resource.all_filters for p in _filter_parameters(spec)]
    filters += _expand_parameter(resource)
    # a list answers 404 only when a filter names another object that does not exist
    list_errors = (400, 404) if any(f.references for f in resource.filters) else (400,)
    # a create meets 404 only naming a parent; an update meets 409 only on a unique field
    create_errors = (400, 409, 413, 415) + ((404,) if resource.parent else ())
    update_errors = (400, 404, 413, 415) + ((409,) if resource.unique_fields else ())
    create_example, update_example = openapi_exact.EXAMPLES.get(kind, (None, None))
    body = {"required": True, "content": json_body(ref(resource.create), create_example)}
    patch_body = {"required": True, "content": json_body(ref(resource.update), update_example)}
    tag = [resource.table]
    return {
        resource.path: {
            "post": {
                "operationId": f"create_{kind}", "tags": tag, "summary": f"Create a {kind}",
                "parameters": [idempotency_header()], "requestBody": body,
                "responses": {"201": {"description": _created_description(resource),
                                      "content": json_body(created)},
                              **error_responses(create_errors)},
            },
            "get": {
                "operationId": f"list_{resource.table}", "tags": tag,
                "summary": f"List {resource.table}, newest first",
                "parameters": list_parameters(filters),
                "responses": {"200": {"description": "A page", "content": json_body(list_schema(read))},
                              **error_responses(list_errors)},
            },
        },
        resource.path + "/{id}": {
            "parameters": [id_parameter(kind)],
            "get": {
                "operationId": f"get_{kind}", "tags": tag, "summary": f"Retrieve a {kind}",
                "parameters": _expand_parameter(resource),
                "responses": {"200": {"description": f"The {kind}", "content": json_body(read)},
                              **error_responses((400, 404) if resource.expand else (404,))},
            },
            "patch": {
                "operationId": f"update_{kind}", "tags": tag,
                "summary": f"Update a {kind}; only the given fields change", "requestBody": patch_body,
                "responses": {"200": {"description": f"The updated {kind}", "content": json_body(read)},
                              **error_responses(update_errors)},
            },
            "delete": {
                "operationId": f"delete_{kind}", "tags": tag, "summary": f"Delete a {kind}",
                "responses": {"200": {"description": "Deleted", "content": json_body(ref(Deleted))},
                              **error_responses((404,))},
            },
        },
    }


def _event_paths() -> dict[str, Any]:
    event = {"$ref": REF.format(name="Event")}
    type_filter = {
        "name": "type", "in": "query",
        "description": "An event type, or a family such as customer.*",
        "schema": {"type": "string",
                   "enum": [*EVENT_TYPES, "*", *EVENT_FAMILIES]},
    }
    return {
        "/events": {"get": {
            "operationId": "list_events", "tags": ["events"],
            "summary": "The change feed; order=asc with a saved cursor tails it without gaps",
            "parameters": list_parameters([type_filter]),
            "responses": {"200": {"description": "A page", "content": json_body(list_schema(event))},
                          **error_responses((400,))},
        }},
        "/events/{id}": {
            "parameters": [id_parameter("event")],
            "get": {"operationId": "get_event", "tags": ["events"], "summary": "Retrieve an event",
                    "responses": {"200": {"description": "The event", "content": json_body(event)},
                                  **error_responses((404,))}},
        },
    }


def _health_paths() -> dict[str, Any]:
    health = json_body(ref(Health))
    return {"/health": {"get": {
        "operationId": "health", "tags": ["health"], "security": [],
        "summary": "The state of PostgreSQL and Redis",
        "responses": {"200": {"description": "Both up", "content": health},
                      "503": {"description": "One is down", "content": health}},
    }}}


def _event_schema() -> dict[str, Any]:
    return {
        "type": "object",
        "required": ["object", "id", "display_id", "type", "livemode", "created_at", "data"],
        "properties": {
            "object": {"const": "event"}, "id": {"type": "string"},
            "display_id": {"type": "integer"}, "type": {"type": "string", "enum": list(EVENT_TYPES)},
            "livemode": {"type": "boolean"}, "created_at": {"type": "string"},
            "data": {"type": "object", "required": ["object"], "properties": {
                "object": {"type": "object"}, "previous_attributes": {"type": "object"}}},
        },
    }


def _batch_paths(resource: Resource) -> dict[str, Any]:
    """POST /<resource>/batch: the request's items are creates; a result per item."""
    kind, name = resource.object, resource.read.__name__
    request = {"type": "object", "additionalProperties": False, "required": ["items"],
               "properties": {"items": {"type": "array", "minItems": 1,
                                        "maxItems": batch.MAX_ITEMS,
                                        # an item is checked alone: a malformed one
                                        # fails in its result, not the request
                                        "items": {"anyOf": [ref(resource.create), {}]}}}}
    result = {
        "type": "object", "required": ["object", "index", "result"],
        "properties": {
            "object": {"const": "batch_result"},
            "index": {"type": "integer", "minimum": 0},
            "result": {"enum": ["created", "updated", "unchanged", "error"]},
            "data": ref(resource.read),
            "error": {"$ref": REF.format(name="ErrorBody"),
                      "description": "Why the item failed; `field` is items.<index>.<field>"},
        },
    }
    answer = {"type": "object", "required": ["object", "data"],
              "properties": {"object": {"const": "batch"},
                             "data": {"type": "array", "items": result}}}
    create_example, _ = openapi_exact.EXAMPLES.get(kind, (None, None))
    example = {"items": [create_example]} if create_example else None
    return {resource.path + "/batch": {"post": {
        "operationId": f"upsert_{resource.table}", "tags": [resource.table],
        "summary": f"Create or update up to {batch.MAX_ITEMS} {resource.table} matched on "
                   "external_id; a result per item, in order",
        "parameters": [idempotency_header(), *_expand_parameter(resource)],
        "requestBody": {"required": True, "content": json_body(request, example)},
        "responses": {"200": {"description": f"One result per item ({name} as data)",
                              "content": json_body(answer)},
                      **error_responses((400, 409, 413, 415))},
    }}}


def build_document(resources: tuple[Resource, ...]) -> dict[str, Any]:
    structs = [ErrorEnvelope, Deleted, Health, *webhooks.STRUCTS]  # ErrorBody comes with ErrorEnvelope
    paths: dict[str, Any] = {}
    for resource in resources:
        structs += [resource.read, resource.created, resource.create, resource.update]
        paths.update(_resource_paths(resource))
        if batch.supports_batch(resource):
            paths.update(_batch_paths(resource))
    paths.update(_event_paths())
    paths.update(webhooks.paths())
    paths.update(_health_paths())
    _, components = msgspec.json.schema_components(structs, ref_template=REF)
    components["Event"] = _event_schema()
    components.update(error_components())
    openapi_exact.pin_objects(components, resources)
    openapi_exact.add_response_headers(paths)
    return {
        "openapi": "3.1.0",
        "info": {"title": "Pivotal API", "version": "1",
                 "description": "Customers, contacts, onboardings, events and webhooks."},
        "servers": [{"url": "/api/v1"}],
        "security": [{"bearer": []}],
        "paths": paths,
        "components": {
            "schemas": components,
            "headers": openapi_exact.HEADERS,
            "securitySchemes": {"bearer": {"type": "http", "scheme": "bearer",
                                           "description": "pivotal_… or pivotal_test_… key"}},
        },
    }


def handlers(resources: tuple[Resource, ...]) -> list:
    document = msgspec.json.encode(build_document(resources))

    @get("/openapi.json", include_in_schema=False)
    async def openapi_handler(request: Request) -> Response:
        return Response(content=document, media_type="application/json")

    @get("/docs", include_in_schema=False, media_type="text/html")
    async def docs_handler() -> str:
        return _DOCS_HTML

    return [openapi_handler, docs_handler]
