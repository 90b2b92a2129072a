"""What the API does to a webhook endpoint beyond CRUD: rotate its secret, send it a test
event, recover its failed deliveries. Each takes the write's connection (one transaction)."""

from __future__ import annotations

from datetime import datetime

import asyncpg
import msgspec

from app.core.db import queries
from app.core.errors import Conflict
from app.core.principal import Principal
from app.events.repo import append_event
from app.resources import repo
from app.webhooks import signing
from app.webhooks.deliveries import get_deliveries
from app.webhooks.fanout import record_deliveries
from app.webhooks.resource import webhook_endpoints
from app.webhooks.schemas import WebhookDelivery, WebhookEndpoint, WebhookEndpointWithSecret

WAKE_DELIVERIES = "select pg_notify('pivotal_deliveries', '')"


class WebhookRecovery(msgspec.Struct):
    """What POST /webhook_endpoints/{id}/recover queued."""

    object: str
    webhook_endpoint: str
    since: str
    deliveries_queued: int


async def _locked_endpoint(
    conn: asyncpg.Connection, principal: Principal, reference: str
) -> WebhookEndpoint:
    row = await repo.fetch(conn, webhook_endpoints, principal, reference, lock="update")
    return webhook_endpoints.render(row)


async def rotate_secret(
    conn: asyncpg.Connection, principal: Principal, reference: str, expire_previous_in: int
) -> WebhookEndpointWithSecret:
    """A new secret, shown once; the current one signs beside it for `expire_previous_in`
    seconds."""
    endpoint = await _locked_endpoint(conn, principal, reference)
    secret = signing.new_secret()
    await conn.execute(queries["webhook_endpoints.rotate_secret"], principal.workspace_id,
                       principal.livemode, endpoint.id, secret, float(expire_previous_in))
    rotated = webhook_endpoints.render(
        await repo.fetch(conn, webhook_endpoints, principal, endpoint.id))
    return WebhookEndpointWithSecret(**msgspec.structs.asdict(rotated), secret=secret)


async def send_test_event(
    conn: asyncpg.Connection, principal: Principal, reference: str
) -> WebhookDelivery:
    """A webhook_endpoint.test event owed to this endpoint alone: its delivery is recorded
    here (the relay never fans it out) and the worker sends it like any other."""
    endpoint = await _locked_endpoint(conn, principal, reference)
    if endpoint.status != "enabled":
        raise Conflict("A disabled webhook endpoint cannot receive a test event: enable it "
                       "first", code="invalid_status_transition", field="status")
    event_id = await append_event(conn, principal, "webhook_endpoint.test", endpoint)
    match = {"workspace_id": principal.workspace_id, "livemode": principal.livemode,
             "event_id": event_id, "endpoint_id": endpoint.id}
    [delivery_id] = await record_deliveries(conn, [match])
    await conn.execute(queries["deliveries.mark_fanned_out"], [principal.workspace_id],
                       [event_id])
    await conn.execute(WAKE_DELIVERIES)
    [delivery] = await get_deliveries(conn, principal, [delivery_id])
    return delivery


async def recover(
    conn: asyncpg.Connection, principal: Principal, reference: str, since: datetime
) -> WebhookRecovery:
    """Every delivery to the endpoint that ended failed since `since`, owed again. Calling it
    twice queues nothing more: what the first call queued is no longer failed."""
    endpoint = await _locked_endpoint(conn, principal, reference)
    rows = await conn.fetch(queries["deliveries.recover"], principal.workspace_id,
                            endpoint.id, since)
    if rows:
        await conn.execute(WAKE_DELIVERIES)
    since_text = since.isoformat(timespec="milliseconds").replace("+00:00", "Z")
    return WebhookRecovery("webhook_recovery", endpoint.id, since_text, len(rows))
