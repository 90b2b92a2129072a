"""The OpenAPI 3.1 document, built from the resource descriptions, and its rendered reference.

Built once at startup from the same structs that decode requests and encode responses, so
the document cannot drift from what the API accepts and answers.
"""

from __future__ import annotations

from typing import Any

import msgspec
from litestar import Request, Response, get

from app import openapi_exact
from app.errors import ErrorEnvelope
from app.events.schemas import EVENT_TYPES
from app.health import Health
from app.resource import Filter, Resource, bool_filter
from app.writes import Deleted

REF = "#/components/schemas/{name}"
ERRORS: dict[int, tuple[str, str, str]] = {
    400: ("invalid_request_error", "parameter_invalid", "limit must be between 1 and 100"),
    401: ("authentication_error", "invalid_api_key", "Invalid API key provided"),
    404: ("not_found_error", "resource_not_found", "No such customer: '42'"),
    409: (
        "conflict_error",
        "resource_already_exists",
        "A customer with this external_id already exists: ckv9x2m1p0000qz8l3h6g7f2a",
    ),
    413: ("invalid_request_error", "payload_too_large", "Request body is larger than 1 MiB"),
    415: ("invalid_request_error", "unsupported_media_type", "Content-Type must be application/json"),
    429: ("rate_limit_error", "rate_limited", "Too many requests"),
    500: ("api_error", "internal_error", "An internal error occurred"),
    503: ("api_error", "service_unavailable", "The service is temporarily unavailable"),
}
# every code a status can carry (SPEC: Errors); the document pins type and code per status
CODES: dict[int, tuple[str, ...]] = {
    400: ("parameter_missing", "parameter_invalid", "parameter_unknown", "invalid_json",
          "idempotency_key_reused"),
    401: ("missing_api_key", "invalid_api_key"),
    404: ("resource_not_found",),
    409: ("resource_already_exists", "invalid_status_transition", "idempotency_key_in_use"),
    413: ("payload_too_large",), 415: ("unsupported_media_type",), 429: ("rate_limited",),
    500: ("internal_error",), 503: ("service_unavailable",),
}
COMMON_ERRORS = (401, 429, 500, 503)
_DOCS_HTML = """<!doctype html>
<html><head><title>Pivotal API reference</title><meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1"></head>
<body><script id="api-reference" data-url="/api/v1/openapi.json"></script>
<script src="https://cdn.jsdelivr.net/npm/@scalar/api-reference@1"></script></body></html>"""


def _ref(struct: type) -> dict[str, str]:
    return {"$ref": REF.format(name=struct.__name__)}


def _json(schema: dict[str, Any], example: Any = None) -> dict[str, Any]:
    media: dict[str, Any] = {"schema": schema}
    if example is not None:
        media["example"] = example
    return {"application/json": media}


def _error_responses(statuses: tuple[int, ...]) -> dict[str, Any]:
    responses = {}
    for status in sorted(set(statuses) | set(COMMON_ERRORS)):
        kind, code, message = ERRORS[status]
        example = {"error": {"type": kind, "code": code, "message": message}}
        if status == 400:
            example["error"]["field"] = "limit"
        responses[str(status)] = {
            "description": f"{kind}: {', '.join(CODES[status])}",
            "content": _json({"$ref": REF.format(name=f"Error{status}")}, example),
        }
    return responses


def _error_components() -> dict[str, Any]:
    """Error<status>: the one error shape, with the type and the codes that status carries."""
    return {
        f"Error{status}": {"allOf": [_ref(ErrorEnvelope), {"properties": {"error": {
            "properties": {"type": {"const": kind}, "code": {"enum": list(CODES[status])}}}}}]}
        for status, (kind, _, _) in ERRORS.items()
    }


def _list_parameters(filters: list[dict[str, Any]]) -> list[dict[str, Any]]:
    return [
        {"name": "limit", "in": "query", "schema": {"type": "integer", "minimum": 1,
                                                    "maximum": 100, "default": 10}},
        {"name": "cursor", "in": "query",
         "description": "next_cursor of the previous page (an ISO 8601 timestamp); empty: the first",
         "schema": {"anyOf": [{"type": "string", "format": "date-time"},
                              {"type": "string", "maxLength": 0}]}},
        {"name": "order", "in": "query",
         "schema": {"type": "string", "enum": ["desc", "asc"], "default": "desc"}},
        *filters,
    ]


def _filter_parameter(spec: Filter) -> dict[str, Any]:
    """A list filter as its parser reads it: a boolean, one of some choices, or a string."""
    schema: dict[str, Any] = {"type": "string"}
    if spec.parse is bool_filter:
        schema = {"type": "boolean"}
    elif choices := getattr(spec.parse, "choices", None):
        schema["enum"] = list(choices)
    parameter = {"name": spec.name, "in": "query", "schema": schema}
    if spec.references is not None:
        parameter["description"] = f"The {spec.references.object}'s id (cuid) or display_id"
    return parameter


def _id_parameter(kind: str) -> dict[str, Any]:
    return {
        "name": "id", "in": "path", "required": True,
        "description": f"The {kind}'s id (cuid) or display_id",
        "schema": {"type": "string"}, "example": "1",
    }


def _list_schema(item: dict[str, Any]) -> dict[str, Any]:
    return {
        "type": "object",
        "required": ["object", "data", "has_more", "next_cursor"],
        "properties": {
            "object": {"const": "list"},
            "data": {"type": "array", "items": item},
            "has_more": {"type": "boolean"},
            "next_cursor": {"type": ["string", "null"]},
        },
    }


def _resource_paths(resource: Resource) -> dict[str, Any]:
    kind, read, created = resource.object, _ref(resource.read), _ref(resource.created)
    filters = [_filter_parameter(f) for f in resource.filters]
    # a list answers 404 only when a filter names another object that does not exist
    list_errors = (400, 404) if any(f.references for f in resource.filters) else (400,)
    # a create meets 404 only naming a parent; an update meets 409 only on a unique field
    create_errors = (400, 409, 413, 415) + ((404,) if resource.parent else ())
    update_errors = (400, 404, 413, 415) + ((409,) if resource.unique_fields else ())
    create_example, update_example = openapi_exact.EXAMPLES.get(kind, (None, None))
    body = {"required": True, "content": _json(_ref(resource.create), create_example)}
    patch_body = {"required": True, "content": _json(_ref(resource.update), update_example)}
    tag = [resource.table]
    return {
        resource.path: {
            "post": {
                "operationId": f"create_{kind}", "tags": tag, "summary": f"Create a {kind}",
                "parameters": [_idempotency_header()], "requestBody": body,
                "responses": {"201": {"description": f"The new {kind}", "content": _json(created)},
                              **_error_responses(create_errors)},
            },
            "get": {
                "operationId": f"list_{resource.table}", "tags": tag,
                "summary": f"List {resource.table}, newest first",
                "parameters": _list_parameters(filters),
                "responses": {"200": {"description": "A page", "content": _json(_list_schema(read))},
                              **_error_responses(list_errors)},
            },
        },
        resource.path + "/{id}": {
            "parameters": [_id_parameter(kind)],
            "get": {
                "operationId": f"get_{kind}", "tags": tag, "summary": f"Retrieve a {kind}",
                "responses": {"200": {"description": f"The {kind}", "content": _json(read)},
                              **_error_responses((404,))},
            },
            "patch": {
                "operationId": f"update_{kind}", "tags": tag,
                "summary": f"Update a {kind}; only the given fields change", "requestBody": patch_body,
                "responses": {"200": {"description": f"The updated {kind}", "content": _json(read)},
                              **_error_responses(update_errors)},
            },
            "delete": {
                "operationId": f"delete_{kind}", "tags": tag, "summary": f"Delete a {kind}",
                "responses": {"200": {"description": "Deleted", "content": _json(_ref(Deleted))},
                              **_error_responses((404,))},
            },
        },
    }


def _idempotency_header() -> dict[str, Any]:
    return {
        "name": "Idempotency-Key", "in": "header", "required": False,
        "description": "Makes the request safe to retry: a repeat replays the first response",
        "schema": {"type": "string", "minLength": 1, "maxLength": 255},
    }


def _event_paths() -> dict[str, Any]:
    event = {"$ref": REF.format(name="Event")}
    type_filter = {
        "name": "type", "in": "query",
        "description": "An event type, or a family such as customer.*",
        "schema": {"type": "string",
                   "enum": [*EVENT_TYPES, "*", *sorted({t.split('.')[0] + '.*' for t in EVENT_TYPES})]},
    }
    return {
        "/events": {"get": {
            "operationId": "list_events", "tags": ["events"],
            "summary": "The change feed; order=asc with a saved cursor tails it without gaps",
            "parameters": _list_parameters([type_filter]),
            "responses": {"200": {"description": "A page", "content": _json(_list_schema(event))},
                          **_error_responses((400,))},
        }},
        "/events/{id}": {
            "parameters": [_id_parameter("event")],
            "get": {"operationId": "get_event", "tags": ["events"], "summary": "Retrieve an event",
                    "responses": {"200": {"description": "The event", "content": _json(event)},
                                  **_error_responses((404,))}},
        },
    }


def _health_paths() -> dict[str, Any]:
    health = _json(_ref(Health))
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


def build_document(resources: tuple[Resource, ...]) -> dict[str, Any]:
    from app.webhooks import openapi as webhooks

    structs = [ErrorEnvelope, Deleted, Health, *webhooks.STRUCTS]
    paths: dict[str, Any] = {}
    for resource in resources:
        structs += [resource.read, resource.created, resource.create, resource.update]
        paths.update(_resource_paths(resource))
    paths.update(_event_paths())
    paths.update(webhooks.paths())
    paths.update(_health_paths())
    _, components = msgspec.json.schema_components(structs, ref_template=REF)
    components["Event"] = _event_schema()
    components.update(_error_components())
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
