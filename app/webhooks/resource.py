"""The webhook endpoint resource: where a workspace's events are delivered."""

from __future__ import annotations

import msgspec

from app.core.errors import InvalidRequest
from app.resources.filters import Filter, choice_filter
from app.resources.model import Hooks, Resource
from app.webhooks import signing, urls
from app.webhooks.schemas import (
    WebhookEndpoint,
    WebhookEndpointCreate,
    WebhookEndpointUpdate,
    WebhookEndpointWithSecret,
)


def enabled_events(values: list[str]) -> list[str]:
    """Known event types, families (`customer.*`) or `*`, deduplicated in order."""
    from app.registry import EVENT_FAMILIES, EVENT_TYPES  # the registry imports this module

    unknown = [value for value in values if value != "*" and value not in EVENT_TYPES and value not in EVENT_FAMILIES]
    if unknown:
        raise InvalidRequest(
            f"Unknown event type {unknown[0]!r}: use an event type, a family such as "
            "customer.*, or *",
            field="enabled_events",
        )
    return list(dict.fromkeys(values))


class WebhookEndpointHooks(Hooks):
    async def check(self, settings, body):
        url = getattr(body, "url", msgspec.UNSET)
        if url is msgspec.UNSET:
            return
        try:
            await urls.check_url(url, settings)
        except urls.UnsafeUrl as exc:
            raise InvalidRequest(str(exc), field="url") from None

    async def prepare_create(self, conn, principal, values):
        values["enabled_events"] = enabled_events(values["enabled_events"])
        values["secret"] = signing.new_secret()
        return values

    async def prepare_update(self, conn, principal, current, requested):
        if "enabled_events" in requested:
            requested["enabled_events"] = enabled_events(requested["enabled_events"])
        return requested

    def created_view(self, obj, values):
        fields = msgspec.structs.asdict(obj)
        return WebhookEndpointWithSecret(**fields, secret=values["secret"])

    def replay_view(self, created):
        # The secret is shown once, by the first answer. The idempotency record keeps the
        # response in plain text for 24 hours, so it must never hold the secret: a replay
        # answers the endpoint without `secret` (rotate it if the first answer was lost).
        fields = msgspec.structs.asdict(created)
        del fields["secret"]
        return WebhookEndpoint(**fields)


webhook_endpoints = Resource(
    object="webhook_endpoint",
    table="webhook_endpoints",
    read=WebhookEndpoint,
    create=WebhookEndpointCreate,
    update=WebhookEndpointUpdate,
    unique_fields=(),
    filters=(Filter("status", "status", choice_filter("enabled", "disabled")),),
    hooks=WebhookEndpointHooks(),
    emits_events=False,
    created_read=WebhookEndpointWithSecret,
)
