"""The API error tree, and the one place where any error becomes `{"error": {...}}`."""

from __future__ import annotations

import logging

import msgspec
from litestar import Request, Response
from litestar.exceptions import (
    HTTPException,
    MethodNotAllowedException,
    NotFoundException,
)

log = logging.getLogger("pivotal.errors")


class ErrorBody(msgspec.Struct, omit_defaults=True):
    type: str
    code: str
    message: str
    field: str | None = None


class ErrorEnvelope(msgspec.Struct):
    error: ErrorBody


class ApiError(Exception):
    """An error the API reports to the caller in the documented shape."""

    status = 400
    type = "invalid_request_error"
    code = "parameter_invalid"

    def __init__(
        self,
        message: str,
        *,
        field: str | None = None,
        code: str | None = None,
        headers: dict[str, str] | None = None,
    ) -> None:
        super().__init__(message)
        self.message = message
        self.field = field
        self.headers = headers or {}
        if code is not None:
            self.code = code

    def body(self) -> ErrorEnvelope:
        return ErrorEnvelope(ErrorBody(self.type, self.code, self.message, self.field))


class InvalidRequest(ApiError):
    """400: a parameter is missing, malformed or unknown."""


class ParameterMissing(InvalidRequest):
    code = "parameter_missing"


class ParameterUnknown(InvalidRequest):
    code = "parameter_unknown"


class InvalidJson(InvalidRequest):
    code = "invalid_json"


class AuthenticationFailed(ApiError):
    status = 401
    type = "authentication_error"
    code = "invalid_api_key"


class NotFound(ApiError):
    status = 404
    type = "not_found_error"
    code = "resource_not_found"


class MethodNotAllowed(ApiError):
    status = 405
    code = "method_not_allowed"


class Conflict(ApiError):
    status = 409
    type = "conflict_error"
    code = "resource_already_exists"


class PayloadTooLarge(ApiError):
    status = 413
    code = "payload_too_large"


class UnsupportedMediaType(ApiError):
    status = 415
    code = "unsupported_media_type"


class RateLimited(ApiError):
    status = 429
    type = "rate_limit_error"
    code = "rate_limited"


class InternalError(ApiError):
    status = 500
    type = "api_error"
    code = "internal_error"


class ServiceUnavailable(ApiError):
    status = 503
    type = "api_error"
    code = "service_unavailable"


def not_found(kind: str, reference: object, field: str | None = None) -> NotFound:
    return NotFound(f"No such {kind}: '{reference}'", field=field)


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
        allow = (exc.headers or {}).get("allow", "")
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


def handle_api_error(request: Request, exc: ApiError) -> Response:
    return error_response(exc)


def handle_http_exception(request: Request, exc: HTTPException) -> Response:
    return error_response(_from_http_exception(exc))


def handle_unexpected(request: Request, exc: Exception) -> Response:
    """Anything not anticipated: a 503 when a dependency is down, else a 500 without internals."""
    from app.db import is_unavailable

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
