"""What every process of the service reports to Prometheus: database pool use and Redis.

The API's worker processes record into PROMETHEUS_MULTIPROC_DIR (app/http/metrics.py), where
the supervisor adds them up as each gauge's multiprocess_mode says: pool use summed over the
live processes, Redis up only when every live process reaches it. The webhook worker
registers the same gauges in its own registry (worker/metrics.py), where the mode is unused.
The series are in no registry here: that is for whoever exposes them to decide.
"""

from __future__ import annotations

import asyncio

import asyncpg
import redis.asyncio as aioredis
from prometheus_client import Gauge

PING_TIMEOUT = 0.5

POOL_OPEN = Gauge("pivotal_db_pool_connections", "Open connections of the database pools",
                  registry=None, multiprocess_mode="livesum")
POOL_IN_USE = Gauge("pivotal_db_pool_connections_in_use",
                    "Pooled connections lent out at the last sample", registry=None,
                    multiprocess_mode="livesum")
POOL_MAX = Gauge("pivotal_db_pool_max_connections", "How many connections the pools may open",
                 registry=None, multiprocess_mode="livesum")
REDIS_UP = Gauge("pivotal_redis_up", "1 when Redis answered a PING, else 0", registry=None,
                 multiprocess_mode="livemin")
PROCESS_GAUGES = (POOL_OPEN, POOL_IN_USE, POOL_MAX, REDIS_UP)


def sample_pool(pool: asyncpg.Pool) -> None:
    """The pool's open, lent and maximum connections into the pool gauges."""
    size = pool.get_size()
    POOL_OPEN.set(size)
    POOL_IN_USE.set(size - pool.get_idle_size())
    POOL_MAX.set(pool.get_max_size())


async def sample_redis(redis: aioredis.Redis) -> None:
    """pivotal_redis_up from one PING, bounded by PING_TIMEOUT."""
    try:
        async with asyncio.timeout(PING_TIMEOUT):
            await redis.ping()
    except Exception:  # noqa: BLE001 - whatever the failure, Redis is not available to us
        REDIS_UP.set(0)
    else:
        REDIS_UP.set(1)
