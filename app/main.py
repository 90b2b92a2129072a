"""create_app(settings) -> Litestar: routes, error handlers, lifespan."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator, Awaitable, Callable
from contextlib import asynccontextmanager
from dataclasses import dataclass

import redis.asyncio as aioredis
from litestar import Litestar, Request, Router

from app.core.db import check_columns, check_session, create_pool
from app.core.logs import flush_request_lines
from app.core.principal import Principal
from app.events.routes import events_router, list_event_types_handler
from app.http.auth import FailedLookups, KeyCache, authenticate
from app.http.edge import with_deadline
from app.http.errors import EXCEPTION_HANDLERS
from app.http.health import health_handler
from app.http.metrics import RequestMetrics, sample_forever
from app.http.options import allow_every_method
from app.http.parsing import MAX_BODY_BYTES
from app.http.ratelimit import RateLimiter
from app.openapi.document import handlers as openapi_handlers
from app.registry import RESOURCES, row_shapes
from app.resources.routes import resource_router
from app.settings import Settings
from app.webhooks.routes import webhook_routes

API_PREFIX = "/api/v1"


@dataclass(frozen=True)
class Layers:
    """The request layers `make bench` switches off one by one to measure what each costs
    (bench/layers.py). The service always runs with all of them; the rate limit is switched
    off by its setting (PIVOTAL_RATE_LIMIT_PER_SECOND=0)."""

    edge: bool = True  # Request-Id, deadline and log line
    request_log: bool = True  # the log line alone
    # every request runs as this principal: no key lookup and no rate limit
    fixed_principal: Principal | None = None


def create_app(settings: Settings, layers: Layers = Layers()) -> Litestar:
    @asynccontextmanager
    async def lifespan(app: Litestar) -> AsyncIterator[None]:
        app.state.settings = settings
        app.state.key_cache = KeyCache(settings.auth_cache_seconds)
        app.state.failed_lookups = FailedLookups(
            settings.auth_failures_per_second, settings.auth_failures_burst
        )
        app.state.pool = await create_pool(settings)
        async with app.state.pool.acquire() as conn:
            await check_columns(conn, row_shapes())
            await check_session(conn)
        app.state.redis = aioredis.Redis.from_url(
            settings.redis_url, socket_timeout=2, socket_connect_timeout=2
        )
        app.state.rate_limiter = RateLimiter(settings)
        sampler = None
        if settings.metrics_dir:
            sampler = asyncio.create_task(sample_forever(app.state.pool, app.state.redis))
        try:
            yield
        finally:
            if sampler is not None:
                sampler.cancel()
            await app.state.pool.close()
            await app.state.redis.aclose()
            await app.state.rate_limiter.close()
            flush_request_lines()

    authenticated = Router(
        path="/",
        route_handlers=[*(resource_router(r) for r in RESOURCES), events_router,
                        list_event_types_handler, webhook_routes],
        before_request=authenticate if layers.fixed_principal is None
        else _run_as(layers.fixed_principal),
    )
    api = Router(
        path=API_PREFIX,
        route_handlers=[health_handler, authenticated, *openapi_handlers(RESOURCES)],
    )
    app = Litestar(
        route_handlers=[api],
        lifespan=[lifespan],
        exception_handlers=EXCEPTION_HANDLERS,
        middleware=[allow_every_method],
        request_max_body_size=MAX_BODY_BYTES,
        openapi_config=None,
        # logging is configured by whoever runs the app (app/core/logs.py for `pivotal serve`)
        logging_config=None,
        debug=False,
    )
    # outermost: the Request-Id, the deadline, the log line and the metrics cover routing and
    # errors too
    if layers.edge:
        observe = RequestMetrics().observe if settings.metrics_dir else None
        app.asgi_handler = with_deadline(
            app.asgi_handler, settings.request_timeout_seconds, layers.request_log, observe
        )
    return app


def _run_as(principal: Principal) -> Callable[[Request], Awaitable[None]]:
    async def fixed_principal(request: Request) -> None:
        request.scope["principal"] = principal  # type: ignore[typeddict-unknown-key]

    return fixed_principal


def app_from_env() -> Litestar:
    """The ASGI app a server imports (`app.main:app_from_env` with --factory)."""
    return create_app(Settings.from_env())
