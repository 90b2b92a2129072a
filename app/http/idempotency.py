"""Idempotency-Key on POST: the first response is stored with the write, and replayed.

The key is claimed with a transaction-scoped advisory lock, so a repeat that arrives while
the first request is still running is told so (409) instead of writing twice. Only successful
responses are stored: a request that failed wrote nothing, so repeating it is safe.
"""

from __future__ import annotations

import hashlib
from collections.abc import Awaitable, Callable
from typing import Any, NamedTuple

import asyncpg
from litestar import Request, Response

from app.core.db import queries, transaction
from app.core.errors import Conflict, InvalidRequest
from app.core.principal import Principal
from app.http.responses import encode

HEADER = "idempotency-key"
MAX_KEY_LENGTH = 255


class IdempotencyKey(NamedTuple):
    key: str
    method: str
    path: str
    fingerprint: bytes


async def key_of(request: Request) -> IdempotencyKey | None:
    """The request's Idempotency-Key with a fingerprint of what it asks for, if it sent one."""
    key = request.headers.get(HEADER)
    if key is None:
        return None
    # U+0000 cannot be stored in PostgreSQL text
    if not key or len(key) > MAX_KEY_LENGTH or "\x00" in key:
        raise InvalidRequest(
            f"Idempotency-Key must be 1 to {MAX_KEY_LENGTH} characters", field="Idempotency-Key"
        )
    body = await request.body()
    path = request.url.path
    digest = hashlib.sha256(b"%s\n%s\n%s" % (request.method.encode(), path.encode(), body))
    return IdempotencyKey(key, request.method, path, digest.digest())


async def replay_or_claim(
    conn: asyncpg.Connection, principal: Principal, key: IdempotencyKey
) -> Response | None:
    """The stored response for a repeat; None when this request is the first and may run."""
    scope = (principal.workspace_id, principal.livemode, key.key)
    if not await conn.fetchval(queries["idempotency.try_lock"], *scope):
        raise Conflict(
            "A request with this Idempotency-Key is still being processed; retry later",
            code="idempotency_key_in_use",
        )
    stored = await conn.fetchrow(queries["idempotency.find"], *scope)
    if stored is None:
        return None
    if (stored["method"], stored["path"], stored["fingerprint"]) != key[1:]:
        raise Conflict(
            "This Idempotency-Key was used with a different request; use a new key",
            code="idempotency_key_reused",
            field="Idempotency-Key",
        )
    return Response(
        content=stored["response"],
        status_code=stored["status"],
        media_type="application/json",
        headers={"Idempotent-Replayed": "true"},
    )


async def save(
    conn: asyncpg.Connection,
    principal: Principal,
    key: IdempotencyKey,
    status: int,
    body: bytes,
) -> None:
    """Store the response in the write's own transaction."""
    await conn.execute(
        queries["idempotency.save"],
        principal.workspace_id,
        principal.livemode,
        key.key,
        key.method,
        key.path,
        key.fingerprint,
        status,
        body,
    )


async def idempotent_post(
    request: Request,
    principal: Principal,
    write: Callable[[asyncpg.Connection], Awaitable[Any]],
    status: int = 201,
    replay_view: Callable[[Any], Any] | None = None,
) -> Response:
    """Run a POST's write in one transaction, honouring its Idempotency-Key.

    `replay_view(result)` is what a replay answers when it must differ from the first
    answer (a one-time secret is left out); only that is stored.
    """
    key = await key_of(request)
    async with transaction(request.app.state.pool) as conn:
        if key is not None:
            replay = await replay_or_claim(conn, principal, key)
            if replay is not None:
                return replay
        result = await write(conn)
        body = encode(result)
        if key is not None:
            replayed = result if replay_view is None else replay_view(result)
            await save(conn, principal, key, status, body if replayed is result else encode(replayed))
    return Response(content=body, status_code=status, media_type="application/json")
