"""The webhook operations beyond CRUD, for the OpenAPI document."""

from __future__ import annotations

from typing import Any

from app.openapi import (
    _error_responses,
    _id_parameter,
    _idempotency_header,
    _json,
    _list_parameters,
    _list_schema,
    _ref,
)
from app.webhooks.schemas import WebhookAttempt, WebhookDelivery

STRUCTS = (WebhookDelivery, WebhookAttempt)


def paths() -> dict[str, Any]:
    deliveries = _json(_list_schema(_ref(WebhookDelivery)))
    return {
        "/webhook_endpoints/{id}/deliveries": {
            "parameters": [_id_parameter("webhook endpoint")],
            "get": {
                "operationId": "list_webhook_deliveries", "tags": ["webhook_endpoints"],
                "summary": "An endpoint's deliveries, newest first, each with its attempts",
                "parameters": _list_parameters([]),
                "responses": {"200": {"description": "A page", "content": deliveries},
                              **_error_responses((400, 404))},
            },
        },
        "/events/{id}/redeliver": {
            "parameters": [_id_parameter("event")],
            "post": {
                "operationId": "redeliver_event", "tags": ["events"],
                "summary": "Queue a fresh delivery to every enabled endpoint that matches",
                "parameters": [_idempotency_header()],
                "responses": {"200": {"description": "The deliveries queued", "content": deliveries},
                              **_error_responses((400, 404, 409))},
            },
        },
    }
