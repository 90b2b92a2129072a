"""GET /api/v1/health: the state of PostgreSQL and Redis, no key needed."""

from __future__ import annotations

import asyncio

import msgspec
from litestar import Request, Response, get

from app.http.responses import json_response

CHECK_TIMEOUT = 2.0


class Health(msgspec.Struct):
    object: str
    status: str
    postgres: str
    redis: str


async def _check(probe) -> str:
    try:
        await asyncio.wait_for(probe(), CHECK_TIMEOUT)
    except Exception:  # noqa: BLE001 - any failure of a probe means the dependency is down
        return "down"
    return "up"


@get("/health", exclude_from_auth=True)
async def health_handler(request: Request) -> Response:
    """200 when both dependencies answer, 503 when one does not."""
    state = request.app.state
    postgres, redis = await asyncio.gather(
        _check(lambda: state.pool.fetchval("select 1")), _check(state.redis.ping)
    )
    ok = postgres == redis == "up"
    body = Health("health", "ok" if ok else "degraded", postgres, redis)
    return json_response(body, 200 if ok else 503)
