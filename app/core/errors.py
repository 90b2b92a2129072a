"""The API's error contract: every error code, its status and type, and the exceptions.

`CODES` is the one registry. The exceptions take their status and type from it, the OpenAPI
document lists it, and a test checks that every code the source raises is in it. Nothing
here knows about HTTP frameworks: app/http/errors.py turns these into responses.
"""

from __future__ import annotations

from typing import NamedTuple

import msgspec


class ErrorCode(NamedTuple):
    status: int
    type: str
    example: str


_INVALID = "invalid_request_error"
CODES: dict[str, ErrorCode] = {
    "parameter_missing": ErrorCode(400, _INVALID, "Missing required parameter: name"),
    "parameter_invalid": ErrorCode(400, _INVALID, "limit must be between 1 and 100"),
    "parameter_unknown": ErrorCode(400, _INVALID, "Received unknown parameter: nmae"),
    "invalid_json": ErrorCode(400, _INVALID, "Request body is not valid JSON"),
    # what the HTTP parser refuses before the app runs: bad framing, bytes not allowed
    "malformed_request": ErrorCode(
        400, _INVALID, "Malformed HTTP request: Invalid character in Content-Length"),
    "missing_api_key": ErrorCode(
        401, "authentication_error", "No API key provided: send 'Authorization: Bearer <key>'"),
    "invalid_api_key": ErrorCode(401, "authentication_error", "Invalid API key provided"),
    "resource_not_found": ErrorCode(404, "not_found_error", "No such customer: '42'"),
    "route_not_found": ErrorCode(404, "not_found_error", "Unrecognized request URL"),
    "method_not_allowed": ErrorCode(
        405, _INVALID, "Method not allowed on this URL (allowed: GET, PATCH, DELETE)"),
    "resource_already_exists": ErrorCode(
        409, "conflict_error",
        "A customer with this external_id already exists: ckv9x2m1p0000qz8l3h6g7f2a"),
    "invalid_status_transition": ErrorCode(
        409, "conflict_error", "An onboarding cannot go from cancelled to active"),
    # a well-formed request the current state refuses is a 409, never a 400: a client (or a
    # fuzzer) that sends only what the OpenAPI document allows never meets a 400
    "idempotency_key_reused": ErrorCode(
        409, "conflict_error",
        "This Idempotency-Key was used with a different request; use a new key"),
    "immutable_field": ErrorCode(409, "conflict_error", "customer cannot be changed"),
    "idempotency_key_in_use": ErrorCode(
        409, "conflict_error",
        "A request with this Idempotency-Key is still being processed; retry later"),
    "payload_too_large": ErrorCode(413, _INVALID, "Request body is larger than 1 MiB"),
    "unsupported_media_type": ErrorCode(
        415, _INVALID, "Content-Type must be application/json"),
    "uri_too_long": ErrorCode(414, _INVALID, "The request URL is longer than 8192 bytes"),
    "request_header_fields_too_large": ErrorCode(
        431, _INVALID, "The request has more than 100 header fields"),
    "rate_limited": ErrorCode(429, "rate_limit_error", "Too many requests"),
    "internal_error": ErrorCode(500, "api_error", "An internal error occurred"),
    "service_unavailable": ErrorCode(503, "api_error", "The service is temporarily unavailable"),
}


def codes_by_status() -> dict[int, list[str]]:
    """Every status the API answers with an error, and the codes it carries, in order."""
    statuses: dict[int, list[str]] = {}
    for code, spec in CODES.items():
        statuses.setdefault(spec.status, []).append(code)
    return dict(sorted(statuses.items()))


class ErrorBody(msgspec.Struct, omit_defaults=True):
    type: str
    code: str
    message: str
    field: str | None = None


class ErrorEnvelope(msgspec.Struct):
    error: ErrorBody


class ApiError(Exception):
    """An error the API reports to the caller in the documented shape.

    Subclasses set a default `code`; any code may be given instead, and it must be one of
    `CODES`, which decides the status and the type.
    """

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
        spec = CODES[self.code]  # an unregistered code fails here, in every test that meets it
        self.status, self.type = spec.status, spec.type

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
    code = "invalid_api_key"


class NotFound(ApiError):
    code = "resource_not_found"


class MethodNotAllowed(ApiError):
    code = "method_not_allowed"


class Conflict(ApiError):
    code = "resource_already_exists"


class PayloadTooLarge(ApiError):
    code = "payload_too_large"


class UnsupportedMediaType(ApiError):
    code = "unsupported_media_type"


class MalformedRequest(ApiError):
    code = "malformed_request"


class UriTooLong(ApiError):
    code = "uri_too_long"


class HeaderFieldsTooLarge(ApiError):
    code = "request_header_fields_too_large"


class RateLimited(ApiError):
    code = "rate_limited"


class InternalError(ApiError):
    code = "internal_error"


class ServiceUnavailable(ApiError):
    code = "service_unavailable"


def not_found(kind: str, reference: object, field: str | None = None) -> NotFound:
    return NotFound(f"No such {kind}: '{reference}'", field=field)
