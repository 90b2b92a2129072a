"""OPTIONS answers every method its URL takes in `Allow`.

Litestar answers OPTIONS by itself, but its answer closes over the route as it stood when the
path's first handler was registered, so `OPTIONS /customers` listed POST without GET. This
middleware sets the header from the app's routes instead, with HEAD beside GET as a 405's
`Allow` lists it (app/http/errors.py).
"""

from __future__ import annotations

from litestar.routes import HTTPRoute
from litestar.types import ASGIApp, Message, Receive, Scope, Send

from app.http.errors import with_head


def _allow_by_path(litestar_app) -> dict[str, bytes]:
    """Each route's `Allow` value, by the path template routing puts in the scope."""
    return {route.path_format: with_head(", ".join(sorted(route.methods))).encode()
            for route in litestar_app.routes if isinstance(route, HTTPRoute)}


def allow_every_method(app: ASGIApp) -> ASGIApp:
    allow_by_path: dict[str, bytes] = {}

    async def options_middleware(scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http" or scope["method"] != "OPTIONS":
            await app(scope, receive, send)
            return
        if not allow_by_path:  # the routes are complete once the app serves
            allow_by_path.update(_allow_by_path(scope["litestar_app"]))
        allow = allow_by_path[scope["path_template"]]

        async def send_allow(message: Message) -> None:
            if message["type"] == "http.response.start":
                headers = [(name, value) for name, value in message.get("headers", [])
                           if name.lower() != b"allow"]
                message["headers"] = [*headers, (b"allow", allow)]
            await send(message)

        await app(scope, receive, send_allow)

    return options_middleware
