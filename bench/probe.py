"""The bare probe: the endpoints' own queries behind minimal Litestar handlers.

No auth, no rate limit, no middleware, no before_send hook, no exception handlers, no request
validation: the workspace comes from an `X-Bench-Workspace` header and the scope is always
live mode. Rows are rendered with the API's own read Structs, so what separates the two is
exactly the layers the probe leaves out.
Served through `pivotal serve`'s own serving code (app/ops/server.py), it is what this
stack (uvicorn + Litestar + asyncpg + msgspec) can do with these queries: the API's ceiling.

    python -m bench.probe --port 8001 --workers 2
"""

from __future__ import annotations

import argparse
from collections.abc import AsyncIterator, Awaitable, Callable
from contextlib import asynccontextmanager
from datetime import datetime
from typing import Any

import asyncpg
import msgspec
from litestar import Litestar, Request, Response, get, patch, post

from app.core.db import create_pool, queries
from app.core.ids import new_id
from app.core.pagination import ListParams
from app.core.principal import Principal
from app.customers.resource import customers
from app.events.schemas import EventData
from app.onboardings.resource import onboardings
from app.ops import server
from app.resources.filters import Condition
from app.resources.model import Resource
from app.resources.repo import INSERT_ATTEMPTS, _insert_sql, _update_sql, get_sql, list_query
from app.settings import Settings

WORKSPACE_HEADER = "x-bench-workspace"
LIVEMODE = True


# the very SQL text the API sends, taken from the same builders
GET_BY_DISPLAY_ID = get_sql(customers, "display_id", None)
GET_BY_ID = get_sql(customers, "id", None)
GET_FOR_UPDATE = get_sql(customers, "display_id", "update")
_ANYONE = Principal("", "", LIVEMODE)
_FIRST, _AFTER = ListParams(10, None, True, {}), ListParams(10, datetime.now(), True, {})
LIST_FIRST = list_query(customers, _ANYONE, _FIRST, [])[0]
LIST_AFTER = list_query(customers, _ANYONE, _AFTER, [])[0]
LIST_ONBOARDINGS = list_query(onboardings, _ANYONE, _FIRST,
                              [Condition("t.status = {}", "active")])[0]
RENAME = _update_sql(customers, ("name",))
INSERT_CUSTOMER = _insert_sql(customers)  # the insert that answers the new row as served
INSERT_EVENT = queries["events.insert"]
_LEADING = {"id": None, "workspace_id": None, "livemode": None}
assert queries.parameters("customers.insert")[:3] == tuple(_LEADING)

encode = msgspec.json.Encoder().encode
decode = msgspec.json.Decoder(dict).decode


def _pool(request: Request) -> asyncpg.Pool:
    return request.app.state.pool


def _json(content: object, status: int = 200) -> Response:
    return Response(content=encode(content), status_code=status, media_type="application/json")


def _customer(row: asyncpg.Record) -> msgspec.Struct:
    """The row as the API renders it: its read Struct (the list cursor column left out)."""
    return customers.render(row)


@get("/probe/health")
async def health() -> Response:
    return _json({"ok": True})


@get("/probe/customers/{reference:str}")
async def get_customer(request: Request, reference: str) -> Response:
    """GET by display_id (digits) or by cuid."""
    by_display_id = reference.isdigit()
    sql = GET_BY_DISPLAY_ID if by_display_id else GET_BY_ID
    key = int(reference) if by_display_id else reference
    async with _pool(request).acquire() as conn:
        row = await conn.fetchrow(sql, request.headers[WORKSPACE_HEADER], LIVEMODE, key)
    return _json(_customer(row)) if row is not None else _json({}, 404)


async def _page(request: Request, resource: Resource, sql: str, *filters: object) -> Response:
    limit = int(request.query_params.get("limit", 10))
    args: list[object] = [request.headers[WORKSPACE_HEADER], LIVEMODE, *filters]
    async with _pool(request).acquire() as conn:
        rows = await conn.fetch(sql, *args, limit + 1)
    data = [resource.render(row) for row in rows[:limit]]
    cursor = rows[limit - 1]["cursor"] if len(rows) > limit else None
    return _json({"object": "list", "data": data, "has_more": cursor is not None,
                  "next_cursor": cursor})


@get("/probe/customers")
async def list_customers(request: Request) -> Response:
    """A page of customers, newest first, after an optional cursor."""
    cursor = request.query_params.get("cursor")
    if cursor is None:
        return await _page(request, customers, LIST_FIRST)
    return await _page(request, customers, LIST_AFTER, datetime.fromisoformat(cursor))


@get("/probe/onboardings")
async def list_onboardings(request: Request) -> Response:
    """A page of onboardings with one status, newest first."""
    return await _page(request, onboardings, LIST_ONBOARDINGS, request.query_params["status"])


@post("/probe/customers")
async def create_customer(request: Request) -> Response:
    """The same insert (answering the new row) + event transaction the API's POST runs."""
    body = decode(await request.body())
    workspace = request.headers[WORKSPACE_HEADER]
    fields = {"name": body["name"], "domain": body.get("domain"),
              "lifecycle_stage": body.get("lifecycle_stage", "onboarding"),
              "owner_email": body.get("owner_email"), "external_id": body.get("external_id"),
              "metadata": body.get("metadata", {})}
    # _insert passes id, workspace_id and livemode first, as the query's parameters start
    values = queries.arguments("customers.insert", {**fields, **_LEADING})[len(_LEADING):]
    async with _pool(request).acquire() as conn, conn.transaction():
        obj = _customer(await _insert(conn.fetchrow, INSERT_CUSTOMER, workspace, *values))
        await _insert(conn.fetchval, INSERT_EVENT, workspace, "customer.created", obj.id,
                      EventData(obj))
    return _json(obj, 201)


async def _insert(fetch: Callable[..., Awaitable[Any]], sql: str, workspace: str,
                  *values: object) -> Any:
    """Insert with a fresh id, again while created_at lands on a taken microsecond (as the API)."""
    for _ in range(INSERT_ATTEMPTS):
        inserted = await fetch(sql, new_id(), workspace, LIVEMODE, *values)
        if inserted is not None:
            return inserted
    raise RuntimeError("no free created_at")


@patch("/probe/customers/{reference:str}")
async def rename_customer(request: Request, reference: str) -> Response:
    """The same lock + update + event transaction the API's PATCH of a name runs."""
    name = decode(await request.body())["name"]
    workspace = request.headers[WORKSPACE_HEADER]
    async with _pool(request).acquire() as conn, conn.transaction():
        current = _customer(await conn.fetchrow(GET_FOR_UPDATE, workspace, LIVEMODE,
                                                int(reference)))
        updated_at = await conn.fetchval(RENAME, workspace, current.id, name)
        obj = msgspec.structs.replace(current, name=name, updated_at=updated_at)
        await _insert(conn.fetchval, INSERT_EVENT, workspace, "customer.updated", obj.id,
                      EventData(obj, {"name": current.name}))
    return _json(obj)


def create_probe_app() -> Litestar:
    """The probe's ASGI app; the pool is the API's (same size, codecs and timeouts)."""
    settings = Settings.from_env()

    @asynccontextmanager
    async def lifespan(app: Litestar) -> AsyncIterator[None]:
        app.state.pool = await create_pool(settings)
        try:
            yield
        finally:
            await app.state.pool.close()

    handlers = [health, get_customer, list_customers, list_onboardings, create_customer,
                rename_customer]
    # logging as the API has it: configured by the server (app/ops/server.py), not by Litestar
    return Litestar(route_handlers=handlers, lifespan=[lifespan], openapi_config=None,
                    logging_config=None, debug=False)


def serve_probe(port: int, workers: int) -> None:
    """`pivotal serve`'s own serving code (app/ops/server.py), pointed at the probe's app, so every
    uvicorn option and the per-worker sockets stay identical to the API's."""
    server.serve(host="127.0.0.1", port=port, workers=workers, settings=Settings.from_env(),
                 app="bench.probe:create_probe_app")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--port", type=int, required=True)
    parser.add_argument("--workers", type=int, default=1)
    args = parser.parse_args()
    serve_probe(args.port, args.workers)


if __name__ == "__main__":
    main()
