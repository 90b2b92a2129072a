"""create_app(settings) -> Litestar: routes, error handlers, lifespan."""

from __future__ import annotations

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager

import redis.asyncio as aioredis
from litestar import Litestar, Router

from app.contacts.resource import contacts
from app.core.db import create_pool
from app.core.logs import flush_request_lines
from app.customers.resource import customers
from app.events.routes import events_router
from app.http.auth import FailedLookups, KeyCache, authenticate
from app.http.edge import with_deadline
from app.http.errors import EXCEPTION_HANDLERS
from app.http.health import health_handler
from app.http.parsing import MAX_BODY_BYTES
from app.http.ratelimit import RateLimiter
from app.onboardings.resource import onboardings
from app.openapi.document import handlers as openapi_handlers
from app.resources.routes import resource_router
from app.settings import Settings
from app.webhooks.resource import webhook_endpoints
from app.webhooks.routes import webhook_routes

API_PREFIX = "/api/v1"
RESOURCES = (customers, contacts, onboardings, webhook_endpoints)


def create_app(settings: Settings) -> Litestar:
    @asynccontextmanager
    async def lifespan(app: Litestar) -> AsyncIterator[None]:
        app.state.settings = settings
        app.state.key_cache = KeyCache(settings.auth_cache_seconds)
        app.state.failed_lookups = FailedLookups(
            settings.auth_failures_per_second, settings.auth_failures_burst
        )
        app.state.pool = await create_pool(settings)
        app.state.redis = aioredis.Redis.from_url(
            settings.redis_url, socket_timeout=2, socket_connect_timeout=2
        )
        app.state.rate_limiter = RateLimiter(settings)
        try:
            yield
        finally:
            await app.state.pool.close()
            await app.state.redis.aclose()
            await app.state.rate_limiter.close()
            flush_request_lines()

    authenticated = Router(
        path="/",
        route_handlers=[*(resource_router(r) for r in RESOURCES), events_router, webhook_routes],
        before_request=authenticate,
    )
    api = Router(
        path=API_PREFIX,
        route_handlers=[health_handler, authenticated, *openapi_handlers(RESOURCES)],
    )
    app = Litestar(
        route_handlers=[api],
        lifespan=[lifespan],
        exception_handlers=EXCEPTION_HANDLERS,
        request_max_body_size=MAX_BODY_BYTES,
        openapi_config=None,
        # logging is configured by whoever runs the app (app/logs.py for `pivotal serve`)
        logging_config=None,
        debug=False,
    )
    # outermost: the Request-Id, the deadline and the log line cover routing and errors too
    app.asgi_handler = with_deadline(app.asgi_handler, settings.request_timeout_seconds)
    return app


def app_from_env() -> Litestar:
    """The ASGI app a server imports (`app.main:app_from_env` with --factory)."""
    return create_app(Settings.from_env())
