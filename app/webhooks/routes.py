"""Webhook routes beyond plain CRUD: an endpoint's deliveries, and redelivering an event."""

from __future__ import annotations

from litestar import Request, Response, Router, get, post
from litestar.params import FromPath

from app.core.pagination import ListPage, list_page
from app.events.repo import get_event
from app.http.auth import principal_of
from app.http.idempotency import idempotent_post
from app.http.parsing import parse_list_params
from app.http.responses import json_response
from app.resources import repo
from app.webhooks.deliveries import get_deliveries, list_deliveries
from app.webhooks.fanout import redeliver
from app.webhooks.resource import webhook_endpoints


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
        delivery_ids = await redeliver(conn, event["id"])
        return ListPage("list", await get_deliveries(conn, principal, delivery_ids), False, None)

    return await idempotent_post(request, principal, write, status=200)


webhook_routes = Router(
    path="/", route_handlers=[list_deliveries_handler, redeliver_handler], tags=["webhooks"]
)
