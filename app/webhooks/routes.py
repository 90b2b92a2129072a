"""Webhook routes beyond plain CRUD: an endpoint's deliveries, its secret rotation, test
events and recovery, and redelivering an event."""

from __future__ import annotations

from typing import Annotated

import msgspec
from litestar import Request, Response, Router, get, post
from litestar.params import FromPath

from app.core.pagination import ListPage, list_page
from app.events.repo import get_event
from app.http.auth import principal_of
from app.http.idempotency import idempotent_post
from app.http.parsing import parse_list_params, parse_timestamp, read_optional_body
from app.http.responses import json_response
from app.resources import repo
from app.webhooks import operations
from app.webhooks.deliveries import get_deliveries, list_deliveries
from app.webhooks.fanout import redeliver
from app.webhooks.resource import webhook_endpoints

# how long a rotated-out secret keeps signing: 0 (at once) to 7 days, 24 hours by default
MAX_SECRET_OVERLAP = 7 * 24 * 3600
Overlap = Annotated[int, msgspec.Meta(ge=0, le=MAX_SECRET_OVERLAP)]


class RotateSecret(msgspec.Struct, forbid_unknown_fields=True):
    expire_previous_in: Overlap = 24 * 3600


class SendTest(msgspec.Struct, forbid_unknown_fields=True):
    pass


class Recover(msgspec.Struct, forbid_unknown_fields=True):
    since: Annotated[str, msgspec.Meta(min_length=1, max_length=64)]


@get("/webhook_endpoints/{reference:str}/deliveries")
async def list_deliveries_handler(request: Request, reference: FromPath[str]) -> Response:
    """An endpoint's deliveries, newest first, each with every attempt made."""
    params = parse_list_params(request.query_params, frozenset())
    principal = principal_of(request)
    async with request.app.state.pool.acquire() as conn:
        endpoint_id = await repo.resolve_id(conn, webhook_endpoints, principal, reference, "id")
        items, has_more, cursor = await list_deliveries(conn, principal, endpoint_id, params)
    return json_response(list_page(items, has_more, cursor, params.descending))


@post("/events/{reference:str}/redeliver", status_code=200)
async def redeliver_handler(request: Request, reference: FromPath[str]) -> Response:
    """Queue a fresh delivery of an event to every enabled endpoint that matches it."""
    principal = principal_of(request)

    async def write(conn) -> ListPage:
        event = await get_event(conn, principal, reference)
        delivery_ids = await redeliver(conn, principal.workspace_id, event["id"])
        return ListPage("list", await get_deliveries(conn, principal, delivery_ids), False, None)

    return await idempotent_post(request, principal, write, status=200)


@post("/webhook_endpoints/{reference:str}/rotate_secret", status_code=200)
async def rotate_secret_handler(request: Request, reference: FromPath[str]) -> Response:
    """A new signing secret, shown only in this answer; the previous one keeps signing beside
    it for `expire_previous_in` seconds."""
    body = await read_optional_body(request, RotateSecret)
    principal = principal_of(request)
    return await idempotent_post(
        request, principal,
        lambda conn: operations.rotate_secret(conn, principal, reference, body.expire_previous_in),
        status=200)


@post("/webhook_endpoints/{reference:str}/test", status_code=200)
async def send_test_handler(request: Request, reference: FromPath[str]) -> Response:
    """Send a webhook_endpoint.test event to this endpoint only; answers its delivery."""
    await read_optional_body(request, SendTest)
    principal = principal_of(request)
    return await idempotent_post(
        request, principal, lambda conn: operations.send_test_event(conn, principal, reference),
        status=200)


@post("/webhook_endpoints/{reference:str}/recover", status_code=200)
async def recover_handler(request: Request, reference: FromPath[str]) -> Response:
    """Queue a fresh attempt of every delivery to this endpoint that ended failed since
    `since`; a second call queues nothing more."""
    body = await read_optional_body(request, Recover)
    since = parse_timestamp(body.since, "since")
    principal = principal_of(request)
    return await idempotent_post(
        request, principal, lambda conn: operations.recover(conn, principal, reference, since),
        status=200)


webhook_routes = Router(
    path="/",
    route_handlers=[list_deliveries_handler, redeliver_handler, rotate_secret_handler,
                    send_test_handler, recover_handler],
    tags=["webhooks"],
)
