"""Every exception the SDK raises. All are importable from `pivotal`.

    PivotalError
    ├── APIError                 the API answered with an error (status, type, code, ...)
    │   ├── InvalidRequestError      invalid_request_error: 400, 405, 413, 415
    │   ├── AuthenticationError      authentication_error: 401
    │   ├── NotFoundError            not_found_error: 404
    │   ├── ConflictError            conflict_error: 409
    │   ├── RateLimitError           rate_limit_error: 429 (retry_after)
    │   └── ServerError              api_error: 500, 503
    ├── APIConnectionError       no answer: the connection failed or timed out
    │   └── APITimeoutError
    └── WebhookVerificationError a webhook delivery's signature or timestamp does not check out
"""

from __future__ import annotations

from typing import Any

from pivotal.types import ERROR_CODES, ErrorBody


class PivotalError(Exception):
    """The base of every exception the SDK raises."""


class APIError(PivotalError):
    """The API answered with an error, in its one error shape.

    `status` is the HTTP status, `type` and `code` come from the API's error registry, `field`
    names the parameter at fault (dotted for nested ones) when there is one, and `request_id`
    is the answer's `Request-Id` header: quote it when asking for support.
    """

    def __init__(
        self,
        message: str,
        *,
        status: int,
        type: str,
        code: str,
        field: str | None = None,
        request_id: str | None = None,
        headers: dict[str, str] | None = None,
    ) -> None:
        super().__init__(message)
        self.message = message
        self.status = status
        self.type = type
        self.code = code
        self.field = field
        self.request_id = request_id
        self.headers = headers or {}

    def __str__(self) -> str:
        where = f" (field {self.field})" if self.field else ""
        request = f" [request {self.request_id}]" if self.request_id else ""
        return f"{self.status} {self.code}: {self.message}{where}{request}"

    def __repr__(self) -> str:
        return (f"{type(self).__name__}(status={self.status}, code={self.code!r}, "
                f"field={self.field!r}, request_id={self.request_id!r})")

    @property
    def retry_after(self) -> float | None:
        """The answer's Retry-After, in seconds, when it carried one (429, some 503)."""
        return _seconds(self.headers.get("retry-after"))

    @property
    def error(self) -> ErrorBody:
        """The error as the API sent it, typed."""
        return ErrorBody(type=self.type, code=self.code, message=self.message, field=self.field)


class InvalidRequestError(APIError):
    """400, 405, 413, 415: a parameter is missing, malformed or unknown; or the request is."""


class AuthenticationError(APIError):
    """401: no API key, or one that is unknown or revoked."""


class NotFoundError(APIError):
    """404: no such object (or route)."""


class ConflictError(APIError):
    """409: a unique field clashes, a status change is not allowed, or an Idempotency-Key is
    still in use by a request that has not finished."""


class RateLimitError(APIError):
    """429: too many requests with this key. `retry_after` is the server's advice, in seconds."""


class ServerError(APIError):
    """500 or 503: the service failed or is temporarily unavailable."""


class APIConnectionError(PivotalError):
    """The request got no answer: the connection failed or broke. Retried before it is raised."""


class APITimeoutError(APIConnectionError):
    """The request got no answer within the client's timeout."""


class WebhookVerificationError(PivotalError):
    """A webhook delivery whose signature, headers or timestamp do not check out."""


# the API's error types (ERROR_CODES, generated from its document) -> exception classes
ERROR_CLASSES: dict[str, type[APIError]] = {
    "invalid_request_error": InvalidRequestError,
    "authentication_error": AuthenticationError,
    "not_found_error": NotFoundError,
    "conflict_error": ConflictError,
    "rate_limit_error": RateLimitError,
    "api_error": ServerError,
}
ERROR_TYPES = frozenset(error_type for _, error_type in ERROR_CODES.values())


def error_from_answer(
    status: int, body: bytes, headers: dict[str, str], request_id: str | None
) -> APIError:
    """The typed exception for an error answer; one that is not in the error shape (a proxy's
    502 page, say) still becomes an APIError with the status."""
    import msgspec

    from pivotal.types import ErrorEnvelope

    try:
        error: Any = msgspec.json.decode(body, type=ErrorEnvelope).error
    except msgspec.DecodeError:
        kind = "api_error" if status >= 500 else "invalid_request_error"
        text = body[:200].decode("utf-8", "replace").strip() or f"HTTP {status}"
        error = ErrorBody(type=kind, code=f"http_{status}", message=text)
    cls = ERROR_CLASSES.get(error.type, APIError)
    return cls(error.message, status=status, type=error.type, code=error.code, field=error.field,
               request_id=request_id, headers=headers)


def _seconds(value: str | None) -> float | None:
    try:
        return max(0.0, float(value)) if value is not None else None
    except ValueError:
        return None
