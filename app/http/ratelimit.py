"""Rate limiting per API key, in Redis, open when Redis is down.

The algorithm is GCRA (a token bucket kept as one timestamp): each token pushes the key's
"theoretical arrival time" one interval (1 / rate) further; nothing is granted past `burst`
intervals ahead of now. All API processes share the state, and Redis' own clock decides, so
workers need no synchronised clocks.

A process takes tokens from the shared bucket a batch at a time (a twentieth of the rate or
the burst, whichever is smaller) and spends them locally for up to a second, so a busy key
costs a Redis round trip every few dozen requests instead of on each. Nothing is granted
beyond the shared bucket; a batch left unspent when its second ends is simply lost, which
only ever errs towards refusing. Small limits get batches of one: exact, one call each.

Concurrent requests that find a key's lease empty share one refill: the first starts it,
the others await the same one, and its tokens are added to the lease for all of them. (Each
taking a batch of its own and replacing the lease with it would throw away all but one
batch, and a full bucket would answer 429 to a mere burst of concurrent requests.)
"""

from __future__ import annotations

import asyncio
import logging
import math
import time
from typing import NamedTuple

import redis.asyncio as aioredis
import redis.exceptions

from app.core.errors import RateLimited
from app.http.metrics import KEY_OVER_LIMIT
from app.settings import Settings

log = logging.getLogger("pivotal.ratelimit")
# while Redis fails, requests skip the limit for this long: no per-request timeout to pay
# and one warning per interval instead of one per request
FAIL_OPEN_SECONDS = 5.0
# an outage must not add seconds to every request
SOCKET_TIMEOUT = 0.25

# a batch of tokens is spent within this many seconds, or dropped
LEASE_SECONDS = 1.0
MAX_LEASES = 10_000

# KEYS[1] the key's bucket; ARGV[1] interval and ARGV[2] burst * interval, in microseconds;
# ARGV[3] how many tokens are wanted. Grants what is available up to that.
# Returns {granted, remaining, microseconds until full, microseconds until one is available}.
GCRA = """
local now_parts = redis.call('TIME')
local now = tonumber(now_parts[1]) * 1000000 + tonumber(now_parts[2])
local interval = tonumber(ARGV[1])
local capacity = tonumber(ARGV[2])
local tat = math.max(tonumber(redis.call('GET', KEYS[1]) or now), now)
local available = math.floor((now + capacity - tat) / interval)
local granted = math.min(tonumber(ARGV[3]), available)
if granted < 1 then
  return {0, 0, tat - now, tat + interval - capacity - now}
end
local new_tat = tat + granted * interval
-- %.0f: Lua's default number format would round a 16-digit timestamp
redis.call('SET', KEYS[1], string.format('%.0f', new_tat), 'PX', math.ceil(capacity / 1000) + 1)
return {granted, available - granted, new_tat - now, 0}
"""


# one per Allowance field, in its order
HEADER_NAMES = ("RateLimit-Limit", "RateLimit-Remaining", "RateLimit-Reset")
_RAW_NAMES = tuple(name.lower().encode() for name in HEADER_NAMES)


class Allowance(NamedTuple):
    """What the RateLimit-* headers report after one request."""

    limit: int
    remaining: int
    reset_seconds: int

    def headers(self) -> dict[str, str]:
        return {name: str(value) for name, value in zip(HEADER_NAMES, self, strict=True)}

    def raw_headers(self) -> list[tuple[bytes, bytes]]:
        """The same headers as ASGI takes them (lower-case names, bytes)."""
        return [(name, b"%d" % value) for name, value in zip(_RAW_NAMES, self, strict=True)]


class Grant(NamedTuple):
    """What one call to the shared bucket answered."""

    granted: int
    remaining: int
    reset_seconds: int
    retry_after: int


class Lease:
    """Tokens this process took from a key's shared bucket and has not spent yet."""

    __slots__ = ("expires", "limit", "remaining", "reset_seconds", "tokens")

    def __init__(self, limit: int) -> None:
        self.limit = limit
        self.tokens = 0
        self.remaining = 0
        self.reset_seconds = 0
        self.expires = 0.0

    def take(self, now: float) -> Allowance | None:
        if self.tokens < 1 or now >= self.expires:
            return None
        self.tokens -= 1
        return Allowance(self.limit, self.remaining + self.tokens, self.reset_seconds)

    def add(self, grant: Grant, now: float) -> None:
        """A new batch joins the tokens left, unless those are past their second."""
        if now >= self.expires:
            self.tokens = 0
        self.tokens += grant.granted
        self.remaining, self.reset_seconds = grant.remaining, grant.reset_seconds
        self.expires = now + LEASE_SECONDS


class RateLimiter:
    """Checks and counts one request per call; `disabled` when the rate is 0."""

    def __init__(self, settings: Settings) -> None:
        self.rate = settings.rate_limit_per_second
        self.burst = max(1, int(settings.rate_limit_burst))
        self.disabled = self.rate <= 0
        # in whole microseconds, as Redis keeps time: at least 1, so at most 1,000,000 a second
        interval = max(1.0, 1_000_000 / self.rate) if not self.disabled else 0
        self.batch = max(1, min(self.burst // 20, int(self.rate // 20)))
        self._args = (round(interval), round(interval * self.burst), self.batch)
        self._leases: dict[str, Lease] = {}
        # the refill in flight for a key, which every request finding its lease empty awaits
        self._refills: dict[str, asyncio.Task[Grant | None]] = {}
        self._redis = aioredis.Redis.from_url(
            settings.redis_url, socket_timeout=SOCKET_TIMEOUT, socket_connect_timeout=SOCKET_TIMEOUT
        )
        self._script = self._redis.register_script(GCRA)
        self._open_until = 0.0

    async def hit(self, key_id: str) -> Allowance | None:
        """Count a request by `key_id`: its allowance, None when unknown; 429 when over."""
        now = time.monotonic()
        if self.disabled or now < self._open_until:
            return None
        lease = self._leases.get(key_id)
        if lease is not None and (local := lease.take(now)) is not None:
            return local
        return await self._hit_after_refill(key_id)

    async def _hit_after_refill(self, key_id: str) -> Allowance | None:
        """Take a token once the key's refill is in: the one in flight, or a new one."""
        while True:
            refill = self._refills.get(key_id)
            if refill is None:
                refill = self._refills[key_id] = asyncio.ensure_future(self._refill(key_id))
            # shielded: a request cancelled by its deadline must not cancel the others' refill
            grant = await asyncio.shield(refill)
            if grant is None:  # Redis is unavailable: the limit is open
                return None
            lease = self._leases.get(key_id)
            if lease is not None and (local := lease.take(time.monotonic())) is not None:
                return local
            if not grant.granted:
                raise self._refused(grant)
            # the requests that awaited the same refill spent it first: on to the next one

    async def _refill(self, key_id: str) -> Grant | None:
        """Take a batch from the shared bucket into the key's lease; None when Redis fails."""
        try:
            grant = await self._take_batch(key_id)
        finally:
            # gone before anyone sees the result, so a request needing more starts a new one
            del self._refills[key_id]
        if grant is not None and grant.granted:
            self._lease(key_id).add(grant, time.monotonic())
        return grant

    async def _take_batch(self, key_id: str) -> Grant | None:
        try:
            granted, remaining, reset_us, retry_us = await self._script(
                keys=[f"pivotal:ratelimit:{key_id}"], args=self._args
            )
        except (redis.exceptions.RedisError, OSError) as exc:
            self._fail_open(exc)
            return None
        return Grant(granted, remaining, math.ceil(reset_us / 1_000_000),
                     max(1, math.ceil(retry_us / 1_000_000)))

    def _lease(self, key_id: str) -> Lease:
        lease = self._leases.get(key_id)
        if lease is None:
            if len(self._leases) >= MAX_LEASES:
                now = time.monotonic()
                self._leases = {k: v for k, v in self._leases.items() if v.expires > now}
                if len(self._leases) >= MAX_LEASES:
                    self._leases.clear()
            lease = self._leases[key_id] = Lease(self.burst)
        return lease

    def _refused(self, grant: Grant) -> RateLimited:
        KEY_OVER_LIMIT.inc()
        allowance = Allowance(self.burst, grant.remaining, grant.reset_seconds)
        return RateLimited(
            f"Too many requests with this key (up to {self.rate:g} a second, bursts of "
            f"{self.burst}); retry after {grant.retry_after} s",
            headers={"Retry-After": str(grant.retry_after), **allowance.headers()},
        )

    def _fail_open(self, exc: BaseException) -> None:
        log.warning(
            "rate limiting is off for %.0f s: Redis is unavailable (%r)", FAIL_OPEN_SECONDS, exc
        )
        self._open_until = time.monotonic() + FAIL_OPEN_SECONDS

    async def close(self) -> None:
        await self._redis.aclose()
