"""The webhook operations beyond CRUD, for the OpenAPI document."""

from __future__ import annotations

from typing import Any

import msgspec

from app.events.catalog import EventType, event_types
from app.openapi.parts import (
    error_responses,
    id_parameter,
    idempotency_header,
    json_body,
    list_parameters,
    list_schema,
    ref,
)
from app.webhooks.operations import WebhookRecovery
from app.webhooks.routes import MAX_SECRET_OVERLAP, Recover, RotateSecret
from app.webhooks.schemas import WebhookAttempt, WebhookDelivery, WebhookEndpointWithSecret

STRUCTS = (WebhookDelivery, WebhookAttempt, EventType, WebhookRecovery, RotateSecret, Recover)
# the `object` each of these always carries
OBJECTS = {"WebhookDelivery": "webhook_delivery", "WebhookAttempt": "webhook_attempt",
           "EventType": "event_type", "WebhookRecovery": "webhook_recovery"}


def _action(operation_id: str, summary: str, answer: dict[str, Any], body: dict | None,
            errors: tuple[int, ...], example: dict | None = None,
            body_required: bool = True) -> dict[str, Any]:
    """A POST on one endpoint: Idempotency-Key honoured, 200 with `answer`."""
    operation: dict[str, Any] = {
        "operationId": operation_id, "tags": ["webhook_endpoints"], "summary": summary,
        "parameters": [idempotency_header()],
        "responses": {"200": {"description": summary, "content": json_body(answer)},
                      **error_responses(errors)},
    }
    if body is not None:
        operation["requestBody"] = {"required": body_required,
                                    "content": json_body(body, example)}
    return {"parameters": [id_parameter("webhook endpoint")], "post": operation}


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
        "/webhook_endpoints/{id}/rotate_secret": _action(
            "rotate_webhook_secret",
            "A new signing secret, shown only here; the previous one keeps signing beside it "
            f"for expire_previous_in seconds (0 to {MAX_SECRET_OVERLAP}, default 86400)",
            ref(WebhookEndpointWithSecret), ref(RotateSecret), (400, 404, 409, 413, 415),
            example={"expire_previous_in": 3600}, body_required=False),
        "/webhook_endpoints/{id}/test": _action(
            "send_webhook_test_event",
            "Send a webhook_endpoint.test event to this endpoint only; answers its delivery",
            ref(WebhookDelivery), None, (400, 404, 409)),
        "/webhook_endpoints/{id}/recover": _action(
            "recover_webhook_deliveries",
            "Queue a fresh attempt of every delivery to this endpoint that ended failed since "
            "`since`; calling it again queues nothing more",
            ref(WebhookRecovery), ref(Recover), (400, 404, 409, 413, 415),
            {"since": "2026-05-26T00:00:00Z"}),
        "/event_types": {"get": {
            "operationId": "list_event_types", "tags": ["events"],
            "summary": "Every event type, with what it means and an example event",
            "responses": {"200": {
                "description": "Every event type, on one page",
                "content": json_body(list_schema(ref(EventType)), _event_types_example())},
                **error_responses((400,))},
        }},
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


def _event_types_example() -> dict[str, Any]:
    """The first event type, as the endpoint serves it."""
    first = msgspec.json.decode(msgspec.json.encode(event_types(True)[0]))
    return {"object": "list", "data": [first], "has_more": False, "next_cursor": None}
