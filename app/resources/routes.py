"""HTTP routes for a resource: create, list, retrieve, update, delete — one set for all."""

from __future__ import annotations

from typing import Any

from litestar import Request, Response, Router, delete, get, patch, post
from litestar.params import FromPath

from app.core.db import transaction
from app.core.errors import InvalidRequest
from app.core.pagination import list_page
from app.http.auth import principal_of
from app.http.idempotency import idempotent_post
from app.http.parsing import parse_list_params, read_body
from app.http.responses import json_response
from app.resources import batch, repo, writes
from app.resources.model import Resource


async def parse_filters(conn, resource: Resource, principal, raw: dict[str, str]) -> dict[str, Any]:
    """Filter values as their columns hold them; references resolve to cuids (404 if none)."""
    filters: dict[str, Any] = {}
    for spec in resource.filters:
        if spec.name not in raw:
            continue
        value = spec.parse(spec.name, raw[spec.name])
        if spec.references is not None:
            row = await repo.fetch(conn, spec.references, principal, value, field=spec.name,
                                   key=spec.reference_key)
            value = row["id"]
        if spec.column in filters:  # customer and customer_external_id name one column
            raise InvalidRequest(f"{spec.name} cannot be combined with another filter on the "
                                 f"same {spec.references.object if spec.references else 'field'}",
                                 field=spec.name)
        filters[spec.column] = value
    return filters


def resource_router(resource: Resource) -> Router:
    """The five endpoints of a resource, all driven by its Resource description."""

    @post("/", status_code=201)
    async def create_handler(request: Request) -> Response:
        body = await read_body(request, resource.create)
        await resource.hooks.check(request.app.state.settings, body)
        principal = principal_of(request)
        try:
            return await idempotent_post(
                request,
                principal,
                lambda conn: writes.create_object(conn, resource, principal, body),
            )
        except repo.UniqueClash as clash:  # rolled back by now: name the holder
            raise await repo.explain_clash(request.app.state.pool, principal, clash) from None

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
        principal = principal_of(request)
        try:
            async with transaction(request.app.state.pool) as conn:
                updated = await writes.update_object(conn, resource, principal, reference, body)
        except repo.UniqueClash as clash:  # rolled back by now: name the holder
            raise await repo.explain_clash(request.app.state.pool, principal, clash) from None
        return json_response(updated)

    @delete("/{reference:str}", status_code=200)
    async def delete_handler(request: Request, reference: FromPath[str]) -> Response:
        async with transaction(request.app.state.pool) as conn:
            deleted = await writes.delete_object(conn, resource, principal_of(request), reference)
        return json_response(deleted)

    @post("/batch", status_code=200)
    async def batch_handler(request: Request) -> Response:
        """Upsert 1 to 100 objects matched on external_id; a result per item, in order."""
        items = batch.decode_items(resource, await read_body(request, batch.BatchRequest))
        principal = principal_of(request)
        return await idempotent_post(
            request,
            principal,
            lambda conn: batch.upsert(conn, resource, principal, items),
            status=200,
        )

    handlers = [create_handler, list_handler, retrieve_handler, update_handler, delete_handler]
    if batch.supports_batch(resource):
        handlers.append(batch_handler)
    return Router(path=resource.path, route_handlers=handlers, tags=[resource.table])
