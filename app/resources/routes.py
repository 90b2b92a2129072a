"""HTTP routes for a resource: create, list, retrieve, update, delete — one set for all."""

from __future__ import annotations

from typing import Any

from litestar import Request, Response, Router, delete, get, patch, post
from litestar.params import FromPath

from app.core.db import transaction
from app.core.pagination import list_page
from app.http.auth import principal_of
from app.http.idempotency import idempotent_post
from app.http.parsing import parse_list_params, read_body
from app.http.responses import json_response
from app.resources import repo, writes
from app.resources.model import Resource


async def parse_filters(conn, resource: Resource, principal, raw: dict[str, str]) -> dict[str, Any]:
    """Filter values as their columns hold them; references resolve to cuids (404 if none)."""
    filters: dict[str, Any] = {}
    for spec in resource.filters:
        if spec.name not in raw:
            continue
        value = spec.parse(spec.name, raw[spec.name])
        if spec.references is not None:
            value = await repo.resolve_id(conn, spec.references, principal, value, spec.name)
        filters[spec.column] = value
    return filters


def resource_router(resource: Resource) -> Router:
    """The five endpoints of a resource, all driven by its Resource description."""

    @post("/", status_code=201)
    async def create_handler(request: Request) -> Response:
        body = await read_body(request, resource.create)
        await resource.hooks.check(request.app.state.settings, body)
        principal = principal_of(request)
        return await idempotent_post(
            request,
            principal,
            lambda conn: writes.create_object(conn, resource, principal, body),
            replay_view=resource.hooks.replay_view,
        )

    @get("/")
    async def list_handler(request: Request) -> Response:
        params = parse_list_params(request.query_params, resource.filter_names)
        principal = principal_of(request)
        async with request.app.state.pool.acquire() as conn:
            filters = await parse_filters(conn, resource, principal, params.filters)
            rows, has_more = await repo.list_page(conn, resource, principal, params, filters)
        items = [resource.render(row) for row in rows]
        return json_response(list_page(items, has_more, rows[-1]["cursor"] if rows else None, params.descending))

    @get("/{reference:str}")
    async def retrieve_handler(request: Request, reference: FromPath[str]) -> Response:
        async with request.app.state.pool.acquire() as conn:
            row = await repo.fetch(conn, resource, principal_of(request), reference)
        return json_response(resource.render(row))

    @patch("/{reference:str}")
    async def update_handler(request: Request, reference: FromPath[str]) -> Response:
        body = await read_body(request, resource.update)
        await resource.hooks.check(request.app.state.settings, body)
        async with transaction(request.app.state.pool) as conn:
            updated = await writes.update_object(
                conn, resource, principal_of(request), reference, body
            )
        return json_response(updated)

    @delete("/{reference:str}", status_code=200)
    async def delete_handler(request: Request, reference: FromPath[str]) -> Response:
        async with transaction(request.app.state.pool) as conn:
            deleted = await writes.delete_object(conn, resource, principal_of(request), reference)
        return json_response(deleted)

    handlers = [create_handler, list_handler, retrieve_handler, update_handler, delete_handler]
    return Router(path=resource.path, route_handlers=handlers, tags=[resource.table])
