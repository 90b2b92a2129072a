"""The webhook operations beyond CRUD, for the OpenAPI document."""

from __future__ import annotations

from typing import Any

from app.openapi.parts import (
    error_responses,
    id_parameter,
    idempotency_header,
    json_body,
    list_parameters,
    list_schema,
    ref,
)
from app.webhooks.schemas import WebhookAttempt, WebhookDelivery

STRUCTS = (WebhookDelivery, WebhookAttempt)


def paths() -> dict[str, Any]:
    deliveries = json_body(list_schema(ref(WebhookDelivery)))
    return {
        "/webhook_endpoints/{id}/deliveries": {
            "parameters": [id_parameter("webhook endpoint")],
            "get": {
                "operationId": "list_webhook_deliveries", "tags": ["webhook_endpoints"],
                "summary": "An endpoint's deliveries, newest first, each with its attempts",
                "parameters": list_parameters([]),
                "responses": {"200": {"description": "A page", "content": deliveries},
                              **error_responses((400, 404))},
            },
        },
        "/events/{id}/redeliver": {
            "parameters": [id_parameter("event")],
            "post": {
                "operationId": "redeliver_event", "tags": ["events"],
                "summary": "Queue a fresh delivery to every enabled endpoint that matches",
                "parameters": [idempotency_header()],
                "responses": {"200": {"description": "The deliveries queued", "content": deliveries},
                              **error_responses((400, 404, 409))},
            },
        },
    }
