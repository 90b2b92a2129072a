"""The API's Prometheus series: requests by route and status, and rate-limited requests.

`pivotal serve --metrics-port` runs its worker processes with PROMETHEUS_MULTIPROC_DIR set
(app/ops/metrics.py): prometheus_client then keeps each value in a memory-mapped file of the
process, and the supervisor adds up every process's files when it is scraped. The series are
defined once here, in no registry (the files are what is read).

Without that directory (Settings.metrics_dir) the edge observes nothing and no sampler runs:
the one series left, rate-limited requests, counts in memory, on a 429 only.
"""

from __future__ import annotations

import asyncio
import time
from typing import Any

import asyncpg
import redis.asyncio as aioredis
from prometheus_client import Counter, Histogram

from app.core.metrics import sample_pool, sample_redis

# from a cached GET (about a millisecond) to the request deadline (30 s by default)
LATENCY_BUCKETS = (0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0,
                   10.0, 30.0)
# what the router did not match (a 404 or 405 before any handler): one label, never the path
UNMATCHED = "unmatched"
# pool use and Redis are sampled this often in each worker process, off the request path
SAMPLE_SECONDS = 1.0

REQUEST_SECONDS = Histogram(
    "pivotal_http_request_duration_seconds",
    "HTTP requests by method, route template and status, and the seconds each took",
    ["method", "route", "status"], buckets=LATENCY_BUCKETS, registry=None)
RATE_LIMITED = Counter(
    "pivotal_http_rate_limited",
    "Requests refused with 429 rate_limited: a key over its limit (api_key), or an address "
    "past its lookups of unknown keys (invalid_keys)", ["limit"], registry=None)
KEY_OVER_LIMIT = RATE_LIMITED.labels("api_key")
INVALID_KEYS_OVER_LIMIT = RATE_LIMITED.labels("invalid_keys")


class RequestMetrics:
    """Observes each finished request in the histogram of its (method, route, status).

    The labelled child is found in a dict of our own, keyed by the scope's values as they
    are: the library's labels() would build strings and take a lock on every request.
    """

    def __init__(self) -> None:
        self._children: dict[tuple[str, str | None, int], Any] = {}

    def observe(self, scope: Any) -> None:
        key = (scope["method"], scope.get("path_template"), scope["response_status"])
        child = self._children.get(key)
        if child is None:
            method, route, status = key
            child = self._children[key] = REQUEST_SECONDS.labels(
                method, route or UNMATCHED, str(status))
        child.observe(time.perf_counter() - scope["started_at"])


async def sample_forever(pool: asyncpg.Pool, redis: aioredis.Redis) -> None:
    """The process's pool use and Redis availability, every SAMPLE_SECONDS until cancelled."""
    while True:
        sample_pool(pool)
        await sample_redis(redis)
        await asyncio.sleep(SAMPLE_SECONDS)
