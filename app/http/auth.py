"""Bearer-key authentication: a key resolves to (workspace, mode), cached briefly in-process."""

from __future__ import annotations

import math
import time

import asyncpg
from litestar import Request
from litestar.types import Scope

from app.core.db import queries
from app.core.errors import AuthenticationFailed, RateLimited
from app.core.principal import Principal
from app.http.metrics import INVALID_KEYS_OVER_LIMIT
from app.workspaces.repo import LIVE_PREFIX, TEST_PREFIX, hash_key


class KeyCache:
    """Resolved keys for `ttl` seconds, so most requests skip the database.

    The ttl is the revocation delay: a revoked key stops working within that many seconds.
    Unknown keys are not cached, so a new key works at once.
    """

    def __init__(self, ttl: float, max_entries: int = 10_000) -> None:
        self.ttl = ttl
        self.max_entries = max_entries
        self._entries: dict[bytes, tuple[Principal, float]] = {}

    def get(self, digest: bytes) -> Principal | None:
        entry = self._entries.get(digest)
        if entry is None or entry[1] < time.monotonic():
            return None
        return entry[0]

    def put(self, digest: bytes, principal: Principal) -> None:
        if len(self._entries) >= self.max_entries:
            self._entries.clear()
        self._entries[digest] = (principal, time.monotonic() + self.ttl)


class FailedLookups:
    """Key lookups that found nothing, per client address, in this process.

    A key the cache does not hold costs a database query, so made-up keys could each cost
    one. Each address may fail `burst` lookups, then `per_second` more (a token bucket kept
    as one timestamp per address, as in ratelimit.py); past that its unknown keys are refused
    with a 429 before any lookup. Keys already in the cache need no lookup and keep working.
    Counted in memory rather than in Redis: the check stays free on every request, and each
    API process guards its own database pool.
    """

    def __init__(self, per_second: float, burst: int, max_addresses: int = 100_000) -> None:
        self.interval = 1 / per_second if per_second > 0 else 0.0
        # an address may run this far ahead of now and still have one lookup left
        self.slack = (max(1, burst) - 1) * self.interval
        self.max_addresses = max_addresses
        self._due: dict[str, float] = {}

    def retry_after(self, address: str) -> int | None:
        """Seconds until `address` may look a key up again; None when it may now."""
        due = self._due.get(address)
        if due is None or not self.interval:
            return None
        ahead = due - time.monotonic() - self.slack
        return math.ceil(ahead) if ahead > 0 else None

    def failed(self, address: str) -> None:
        if not self.interval:
            return
        now = time.monotonic()
        if len(self._due) >= self.max_addresses:
            self._due = {a: due for a, due in self._due.items() if due > now}
            if len(self._due) >= self.max_addresses:
                self._due.clear()
        self._due[address] = max(self._due.get(address, now), now) + self.interval


def _bearer_key(scope: Scope) -> str:
    """The API key of an `Authorization: Bearer <key>` header, read from the raw ASGI headers
    (no header mapping is built for it)."""
    header = next((value for name, value in scope["headers"] if name == b"authorization"), None)
    if not header:
        raise AuthenticationFailed(
            "No API key provided: send 'Authorization: Bearer <key>'", code="missing_api_key"
        )
    scheme, _, key = header.decode("latin-1").partition(" ")
    key = key.strip()
    if scheme.lower() != "bearer" or not key:
        raise AuthenticationFailed("Authorization header must be 'Bearer <key>'")
    if not key.startswith((TEST_PREFIX, LIVE_PREFIX)):
        raise AuthenticationFailed("Invalid API key provided")
    return key


async def resolve_key(
    pool: asyncpg.Pool,
    cache: KeyCache,
    key: str,
    failures: FailedLookups | None = None,
    address: str = "",
) -> Principal:
    """The principal for a key; the lookup is by hash, so timing does not depend on the key.

    With `failures`, a lookup from an `address` that failed too many is refused (429) first.
    """
    digest = hash_key(key)
    principal = cache.get(digest)
    if principal is not None:
        return principal
    if failures is not None and (retry_after := failures.retry_after(address)) is not None:
        INVALID_KEYS_OVER_LIMIT.inc()
        raise RateLimited(
            f"Too many requests with invalid API keys from this address; retry after "
            f"{retry_after} s",
            headers={"Retry-After": str(retry_after)},
        )
    row = await pool.fetchrow(queries["workspaces.find_live_key"], digest)
    # the mode a key grants must agree with what its prefix says
    if row is None or row["livemode"] == key.startswith(TEST_PREFIX):
        if failures is not None:
            failures.failed(address)
        raise AuthenticationFailed("Invalid API key provided")
    principal = Principal(row["id"], row["workspace_id"], row["livemode"])
    cache.put(digest, principal)
    return principal


async def authenticate(request: Request) -> None:
    """before_request hook of the authenticated routes: attach the caller's Principal.

    The key's request is counted against its rate limit (429 when over); the allowance
    travels in the scope to the RateLimit-* headers of the response.
    """
    state = request.app.state
    scope = request.scope
    client = scope.get("client")
    principal = await resolve_key(
        state.pool, state.key_cache, _bearer_key(scope), state.failed_lookups,
        client[0] if client else "",
    )
    scope["principal"] = principal  # type: ignore[typeddict-unknown-key]
    scope["rate_limit"] = await state.rate_limiter.hit(principal.key_id)  # type: ignore[typeddict-unknown-key]


def principal_of(request: Request) -> Principal:
    return request.scope["principal"]  # type: ignore[typeddict-item]
