"""The pieces every part of the OpenAPI document is made of: references, JSON bodies, list
parameters, and the error responses, built from the error registry (app/core/errors.py)."""

from __future__ import annotations

from typing import Any

from app.core.errors import CODES, ErrorEnvelope, codes_by_status
from app.core.validation import NO_NUL

REF = "#/components/schemas/{name}"
# errors any authenticated operation can answer; 414 and 431 come before the app runs, from
# the limits on a request's head (app/http/connection.py)
COMMON_ERRORS = (401, 414, 429, 431, 500, 503)


def ref(struct: type) -> dict[str, str]:
    return {"$ref": REF.format(name=struct.__name__)}


def json_body(schema: dict[str, Any], example: Any = None) -> dict[str, Any]:
    media: dict[str, Any] = {"schema": schema}
    if example is not None:
        media["example"] = example
    return {"application/json": media}


def error_responses(statuses: tuple[int, ...]) -> dict[str, Any]:
    """The error responses of an operation: `statuses` and the common ones, each with the codes
    it can carry and an example."""
    by_status = codes_by_status()
    responses = {}
    for status in sorted(set(statuses) | set(COMMON_ERRORS)):
        codes = by_status[status]
        spec = CODES[codes[0]]
        example: dict[str, Any] = {"type": spec.type, "code": codes[0], "message": spec.example}
        if status == 400:
            example["field"] = "name"
        responses[str(status)] = {
            "description": f"{spec.type}: {', '.join(codes)}",
            "content": json_body({"$ref": REF.format(name=f"Error{status}")}, {"error": example}),
        }
    return responses


def error_components() -> dict[str, Any]:
    """Error<status>: the one error shape, with the type and the codes that status carries."""
    return {
        f"Error{status}": {"allOf": [ref(ErrorEnvelope), {"properties": {"error": {
            "properties": {"type": {"const": CODES[codes[0]].type}, "code": {"enum": codes}}}}}]}
        for status, codes in codes_by_status().items()
    }


def list_parameters(filters: list[dict[str, Any]]) -> list[dict[str, Any]]:
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


def id_parameter(kind: str) -> dict[str, Any]:
    return {
        "name": "id", "in": "path", "required": True,
        "description": f"The {kind}'s id (cuid) or display_id",
        "schema": {"type": "string"}, "example": "1",
    }


def list_schema(item: dict[str, Any]) -> dict[str, Any]:
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


def idempotency_header() -> dict[str, Any]:
    return {
        "name": "Idempotency-Key", "in": "header", "required": False,
        "description": "Makes the request safe to retry: a repeat replays the first response",
        "schema": {"type": "string", "minLength": 1, "maxLength": 255, "pattern": NO_NUL},
    }
