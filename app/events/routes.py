"""The change feed (GET /events and GET /events/{id}) and the catalogue of event types."""

from __future__ import annotations

from litestar import Request, Response, Router, get
from litestar.params import FromPath

from app.core.errors import InvalidRequest, ParameterUnknown
from app.core.pagination import ListPage, list_page
from app.events.catalog import event_types
from app.events.repo import get_event, list_events
from app.events.schemas import Event
from app.http.auth import principal_of
from app.http.parsing import parse_list_params
from app.http.responses import json_response
from app.registry import EVENT_FAMILIES, EVENT_TYPES


def _type_filter(raw: str | None) -> str | None:
    if raw is None or raw == "*":
        return None
    if raw not in EVENT_TYPES and raw not in EVENT_FAMILIES:
        raise InvalidRequest(
            "type must be an event type such as customer.created, or a family such as customer.*",
            field="type",
        )
    return raw


@get("/")
async def list_events_handler(request: Request) -> Response:
    """The feed, newest first by default; `order=asc` with a saved cursor tails it gap-free."""
    params = parse_list_params(request.query_params, frozenset({"type"}))
    type_filter = _type_filter(params.filters.get("type"))
    async with request.app.state.pool.acquire() as conn:
        rows, has_more = await list_events(conn, principal_of(request), params, type_filter)
    items = [Event.from_row(row) for row in rows]
    return json_response(list_page(items, has_more, rows[-1]["cursor"] if rows else None, params.descending))


@get("/{reference:str}")
async def get_event_handler(request: Request, reference: FromPath[str]) -> Response:
    async with request.app.state.pool.acquire() as conn:
        row = await get_event(conn, principal_of(request), reference)
    return json_response(Event.from_row(row))


events_router = Router(
    path="/events", route_handlers=[list_events_handler, get_event_handler], tags=["events"]
)


@get("/event_types")
async def list_event_types_handler(request: Request) -> Response:
    """Every event type, with what it means and an example event in the caller's mode."""
    for name in request.query_params:  # one short page: nothing to filter or page
        raise ParameterUnknown(f"Received unknown parameter: {name}", field=name)
    types = list(event_types(principal_of(request).livemode))
    return json_response(ListPage("list", types, False, None))
