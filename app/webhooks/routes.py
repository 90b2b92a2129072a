"""Webhook routes beyond plain CRUD: an endpoint's deliveries, and redelivering an event."""

from __future__ import annotations

from litestar import Request, Response, Router, get, post
from litestar.params import FromPath

from app import crud
from app.auth import principal_of
from app.events.repo import get_event
from app.idempotency import idempotent_post
from app.requests import parse_list_params
from app.responses import ListPage, json_response, list_page
from app.webhooks.deliveries import get_deliveries, list_deliveries, redeliver
from app.webhooks.resource import webhook_endpoints


@get("/webhook_endpoints/{reference:str}/deliveries")
async def list_deliveries_handler(request: Request, reference: FromPath[str]) -> Response:
    """An endpoint's deliveries, newest first, each with every attempt made."""
    params = parse_list_params(request.query_params, frozenset())
    principal = principal_of(request)
    async with request.app.state.pool.acquire() as conn:
        endpoint_id = await crud.resolve_id(conn, webhook_endpoints, principal, reference, "id")
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
