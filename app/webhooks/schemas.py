"""Webhook endpoint, delivery and attempt wire structs."""

from __future__ import annotations

from typing import Annotated, Literal

import msgspec

from app.core.validation import MetadataInput, text
from app.webhooks.urls import URL_PATTERN

Url = Annotated[str, text(URL_PATTERN, min_length=1, max_length=2048)]
# the document lists the event types and families (app/openapi/exact.py)
EventFilter = Annotated[str, msgspec.Meta(min_length=1, max_length=64)]
EnabledEvents = Annotated[list[EventFilter], msgspec.Meta(min_length=1, max_length=64)]
Description = Annotated[str, text(max_length=500)]
EndpointStatus = Literal["enabled", "disabled"]


class WebhookEndpointCreate(msgspec.Struct, forbid_unknown_fields=True):
    url: Url
    enabled_events: EnabledEvents
    description: Description | None = None
    status: EndpointStatus = "enabled"
    metadata: MetadataInput = {}


class WebhookEndpointUpdate(msgspec.Struct, forbid_unknown_fields=True):
    url: Url | msgspec.UnsetType = msgspec.UNSET
    enabled_events: EnabledEvents | msgspec.UnsetType = msgspec.UNSET
    description: Description | None | msgspec.UnsetType = msgspec.UNSET
    status: EndpointStatus | msgspec.UnsetType = msgspec.UNSET
    metadata: MetadataInput | msgspec.UnsetType = msgspec.UNSET


class WebhookEndpoint(msgspec.Struct):
    object: str
    id: str
    display_id: int
    url: str
    enabled_events: list[str]
    description: str | None
    status: str
    metadata: dict[str, str]
    livemode: bool
    created_at: str
    updated_at: str


SECRET_DESCRIPTION = (
    "The signing secret (whsec_…), shown only by this answer. An idempotent replay of the "
    "create answers the endpoint without it: the secret is never stored with the replay."
)


class WebhookEndpointWithSecret(WebhookEndpoint):
    """The new endpoint with its signing secret, shown this once; an idempotent replay (with
    Idempotent-Replayed: true) answers the endpoint without `secret`."""

    # always set by the create call; absent only from a replay, hence optional in the schema
    secret: Annotated[str, msgspec.Meta(description=SECRET_DESCRIPTION)] | msgspec.UnsetType = (
        msgspec.UNSET
    )


AttemptError = Annotated[str, msgspec.Meta(description=(
    "Why the attempt failed: `HTTP <status>` for an answer other than 2xx; without an answer, "
    "one of `connection_failed`, `tls_error`, `timeout`, or `url_refused` (the URL failed the "
    "public-address check)"))]


class WebhookAttempt(msgspec.Struct):
    object: str
    attempted_at: str
    status_code: int | None
    latency_ms: int
    error: AttemptError | None
    response_body: str | None


class WebhookDelivery(msgspec.Struct):
    object: str
    id: str
    event: str
    event_type: str
    webhook_endpoint: str
    redelivery: bool
    status: str
    attempt_count: int
    next_attempt_at: str | None
    livemode: bool
    created_at: str
    updated_at: str
    attempts: list[WebhookAttempt] = []
