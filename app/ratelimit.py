"""Rate limiting per API key, in Redis: one script call per request, open when Redis is down.

The algorithm is GCRA (a token bucket kept as one timestamp): each request pushes the key's
"theoretical arrival time" one interval (1 / rate) further; a request is refused when that
time would run more than `burst` intervals ahead of now. All API processes share the state,
and Redis' own clock decides, so workers need no synchronised clocks.
"""

from __future__ import annotations

import logging
import math
import time
from typing import NamedTuple

import redis.asyncio as aioredis
import redis.exceptions

from app.errors import RateLimited
from app.settings import Settings

log = logging.getLogger("pivotal.ratelimit")
# while Redis fails, requests skip the limit for this long: no per-request timeout to pay
# and one warning per interval instead of one per request
FAIL_OPEN_SECONDS = 5.0
# an outage must not add seconds to every request
SOCKET_TIMEOUT = 0.25

# KEYS[1] the key's bucket; ARGV[1] interval and ARGV[2] burst * interval, in microseconds.
# Returns {allowed, remaining, microseconds until full, microseconds until allowed}.
GCRA = """
local now_parts = redis.call('TIME')
local now = tonumber(now_parts[1]) * 1000000 + tonumber(now_parts[2])
local interval = tonumber(ARGV[1])
local capacity = tonumber(ARGV[2])
local tat = math.max(tonumber(redis.call('GET', KEYS[1]) or now), now)
local new_tat = tat + interval
if new_tat - capacity > now then
  return {0, 0, tat - now, new_tat - capacity - now}
end
-- %.0f: Lua's default number format would round a 16-digit timestamp
redis.call('SET', KEYS[1], string.format('%.0f', new_tat), 'PX', math.ceil(capacity / 1000) + 1)
return {1, math.floor((capacity - (new_tat - now)) / interval), new_tat - now, 0}
"""


class Allowance(NamedTuple):
    """What the RateLimit-* headers report after one request."""

    limit: int
    remaining: int
    reset_seconds: int

    def headers(self) -> dict[str, str]:
        return {
            "RateLimit-Limit": str(self.limit),
            "RateLimit-Remaining": str(self.remaining),
            "RateLimit-Reset": str(self.reset_seconds),
        }


class RateLimiter:
    """Checks and counts one request per call; `disabled` when the rate is 0."""

    def __init__(self, settings: Settings) -> None:
        self.rate = settings.rate_limit_per_second
        self.burst = max(1, int(settings.rate_limit_burst))
        self.disabled = self.rate <= 0
        interval = 1_000_000 / self.rate if not self.disabled else 0
        self._args = (round(interval), round(interval * self.burst))
        self._redis = aioredis.Redis.from_url(
            settings.redis_url, socket_timeout=SOCKET_TIMEOUT, socket_connect_timeout=SOCKET_TIMEOUT
        )
        self._script = self._redis.register_script(GCRA)
        self._open_until = 0.0

    async def hit(self, key_id: str) -> Allowance | None:
        """Count a request by `key_id`: its allowance, None when unknown; 429 when over."""
        if self.disabled or time.monotonic() < self._open_until:
            return None
        try:
            allowed, remaining, reset_us, retry_us = await self._script(
                keys=[f"pivotal:ratelimit:{key_id}"], args=self._args
            )
        except (redis.exceptions.RedisError, OSError) as exc:
            self._fail_open(exc)
            return None
        allowance = Allowance(self.burst, remaining, math.ceil(reset_us / 1_000_000))
        if not allowed:
            retry_after = max(1, math.ceil(retry_us / 1_000_000))
            raise RateLimited(
                f"Too many requests with this key (up to {self.rate:g} a second, bursts of "
                f"{self.burst}); retry after {retry_after} s",
                headers={"Retry-After": str(retry_after), **allowance.headers()},
            )
        return allowance

    def _fail_open(self, exc: BaseException) -> None:
        log.warning(
            "rate limiting is off for %.0f s: Redis is unavailable (%r)", FAIL_OPEN_SECONDS, exc
        )
        self._open_until = time.monotonic() + FAIL_OPEN_SECONDS

    async def close(self) -> None:
        await self._redis.aclose()
