"""HTTP routes for a resource: create, list, retrieve, update, delete — one set for all."""

from __future__ import annotations

from asyncpg import Connection
from litestar import Request, Response, Router, delete, get, patch, post
from litestar.params import FromPath

from app.core.db import transaction
from app.core.pagination import list_page
from app.http.auth import principal_of
from app.http.idempotency import idempotent_post
from app.http.parsing import parse_list_params, read_body
from app.http.responses import json_response
from app.resources import batch, reads, repo, writes
from app.resources.model import Resource


def resource_router(resource: Resource) -> Router:
    """The five endpoints of a resource, all driven by its Resource description."""

    @post("/", status_code=201)
    async def create_handler(request: Request) -> Response:
        body = await read_body(request, resource.create)
        await resource.hooks.check(request.app.state.settings, body)
        principal = principal_of(request)
        async with repo.clashes_explained(request.app.state.pool, principal):
            return await idempotent_post(
                request,
                principal,
                lambda conn: writes.create_object(conn, resource, principal, body),
                replay_view=resource.hooks.replay_view,
            )

    @get("/")
    async def list_handler(request: Request) -> Response:
        params = parse_list_params(request.query_params, resource.filter_names,
                                   resource.repeatable)
        names = reads.expansions(resource, params.filters.get("expand"))
        principal = principal_of(request)
        async with request.app.state.pool.acquire() as conn:
            conditions = await reads.list_conditions(conn, resource, principal, params.filters)
            rows, has_more = await reads.list_page(conn, resource, principal, params,
                                                   conditions, names)
        items = reads.render_page(resource, rows, names)
        cursor = rows[-1]["cursor"] if rows else None
        return json_response(list_page(items, has_more, cursor, params.descending))

    @get("/{reference:str}")
    async def retrieve_handler(request: Request, reference: FromPath[str]) -> Response:
        names = reads.read_expansions(resource, request.query_params)
        principal = principal_of(request)
        async with request.app.state.pool.acquire() as conn:
            obj = resource.render(await repo.fetch(conn, resource, principal, reference))
            if names:
                [obj] = await reads.expand(conn, resource, principal, [obj], names)
        return json_response(obj)

    @patch("/{reference:str}")
    async def update_handler(request: Request, reference: FromPath[str]) -> Response:
        body = await read_body(request, resource.update)
        await resource.hooks.check(request.app.state.settings, body)
        principal = principal_of(request)
        pool = request.app.state.pool
        async with repo.clashes_explained(pool, principal), transaction(pool) as conn:
            updated = await writes.update_object(conn, resource, principal, reference, body)
        return json_response(updated)

    @delete("/{reference:str}", status_code=200)
    async def delete_handler(request: Request, reference: FromPath[str]) -> Response:
        async with transaction(request.app.state.pool) as conn:
            deleted = await writes.delete_object(conn, resource, principal_of(request), reference)
        return json_response(deleted)

    @post("/batch", status_code=200)
    async def batch_handler(request: Request) -> Response:
        """Upsert 1 to 100 objects matched on external_id; a result per item, in order."""
        names = reads.read_expansions(resource, request.query_params)
        items = batch.decode_items(resource, await read_body(request, batch.BatchRequest))
        principal = principal_of(request)

        async def write(conn: Connection) -> batch.Batch:
            answer = await batch.upsert(conn, resource, principal, items)
            return await batch.expand_results(conn, resource, principal, answer, names)

        return await idempotent_post(request, principal, write, status=200)

    handlers = [create_handler, list_handler, retrieve_handler, update_handler, delete_handler]
    if batch.supports_batch(resource):
        handlers.append(batch_handler)
    return Router(path=resource.path, route_handlers=handlers, tags=[resource.table])
