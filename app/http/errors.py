"""The one place where any error becomes an `{"error": {...}}` response: the API's own errors,
what Litestar raises by itself (routing, body size), and anything unexpected."""

from __future__ import annotations

import logging

from litestar import Request, Response
from litestar.exceptions import HTTPException, MethodNotAllowedException, NotFoundException

from app.core.db import is_unavailable
from app.core.errors import (
    ApiError,
    InternalError,
    InvalidRequest,
    MethodNotAllowed,
    NotFound,
    PayloadTooLarge,
    ServiceUnavailable,
)

log = logging.getLogger("pivotal.errors")


def error_response(error: ApiError) -> Response:
    return Response(
        content=error.body(),
        status_code=error.status,
        headers=error.headers,
        media_type="application/json",
    )


def _from_http_exception(exc: HTTPException) -> ApiError:
    """Translate what Litestar raises by itself (routing, body size) into the API's errors."""
    if isinstance(exc, NotFoundException):
        return NotFound("Unrecognized request URL", code="route_not_found")
    if isinstance(exc, MethodNotAllowedException):
        allow = with_head((exc.headers or {}).get("allow", ""))
        return MethodNotAllowed(
            f"Method not allowed on this URL (allowed: {allow})", headers={"Allow": allow}
        )
    if exc.status_code == 413:
        return PayloadTooLarge("Request body is larger than 1 MiB")
    if exc.status_code == 400:
        return InvalidRequest(str(exc.detail))
    if exc.status_code == 503:
        return ServiceUnavailable("The service is temporarily unavailable")
    log.warning("unmapped HTTP exception %s: %s", exc.status_code, exc.detail)
    return InternalError("An internal error occurred")


def with_head(allow: str) -> str:
    """Litestar's Allow list, with HEAD beside GET (app/http/edge.py answers it)."""
    methods = [m.strip() for m in allow.split(",") if m.strip()]
    if "GET" in methods and "HEAD" not in methods:
        methods.insert(methods.index("GET") + 1, "HEAD")
    return ", ".join(methods)


def handle_api_error(request: Request, exc: ApiError) -> Response:
    return error_response(exc)


def handle_http_exception(request: Request, exc: HTTPException) -> Response:
    return error_response(_from_http_exception(exc))


def handle_unexpected(request: Request, exc: Exception) -> Response:
    """Anything not anticipated: a 503 when a dependency is down, else a 500 without internals."""
    if is_unavailable(exc):
        log.warning("dependency unavailable: %r", exc)
        return error_response(ServiceUnavailable("The service is temporarily unavailable"))
    log.exception("unhandled error on %s %s", request.method, request.url.path)
    return error_response(InternalError("An internal error occurred"))


EXCEPTION_HANDLERS = {
    ApiError: handle_api_error,
    HTTPException: handle_http_exception,
    Exception: handle_unexpected,
}
