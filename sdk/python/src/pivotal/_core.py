"""What the sync and the async client share: configuration, how a call is encoded, when and
how long to wait before a retry, and how answers decode. No I/O happens here."""

from __future__ import annotations

import datetime
import os
import random
import uuid
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any, Generic, TypeVar

import httpx
import msgspec

from pivotal.errors import APIError, error_from_answer
from pivotal.types import ErrorBody

__version__ = "0.1.0"
DEFAULT_BASE_URL = "http://127.0.0.1:8000/api/v1"
DEFAULT_TIMEOUT = 30.0
DEFAULT_MAX_RETRIES = 3
USER_AGENT = f"pivotal-python/{__version__}"

T = TypeVar("T")


@dataclass(frozen=True)
class Config:
    api_key: str
    base_url: str
    timeout: float
    max_retries: int

    @classmethod
    def resolve(cls, api_key: str | None, base_url: str | None, timeout: float | None,
                max_retries: int | None) -> Config:
        """Arguments win; PIVOTAL_API_KEY and PIVOTAL_BASE_URL fill in what is not given."""
        key = api_key or os.environ.get("PIVOTAL_API_KEY")
        if not key:
            raise ValueError("no API key: pass api_key=... or set PIVOTAL_API_KEY")
        url = base_url or os.environ.get("PIVOTAL_BASE_URL") or DEFAULT_BASE_URL
        return cls(key, url.rstrip("/"), DEFAULT_TIMEOUT if timeout is None else timeout,
                   DEFAULT_MAX_RETRIES if max_retries is None else max_retries)

    def headers(self) -> dict[str, str]:
        return {"Authorization": f"Bearer {self.api_key}", "User-Agent": USER_AGENT,
                "Accept": "application/json"}


# ---- requests -------------------------------------------------------------------------------

@dataclass(frozen=True)
class Call:
    """One API call, encoded once: its retries send exactly these bytes and this key, which is
    what lets the server recognise a retry of a POST and replay the first answer."""

    method: str
    path: str
    params: list[tuple[str, str]] = field(default_factory=list)
    content: bytes | None = None
    headers: dict[str, str] = field(default_factory=dict)


_encoder = msgspec.json.Encoder()


def build_call(method: str, path: str, *, params: Mapping[str, Any] | None = None,
               body: Any = None, idempotency_key: str | None = None) -> Call:
    headers = {}
    content = None
    if body is not None:
        content = _encoder.encode(body)
        headers["Content-Type"] = "application/json"
    if method == "POST":
        # a POST without a key could not be retried safely; with one, a retry is replayed
        headers["Idempotency-Key"] = idempotency_key or str(uuid.uuid4())
    return Call(method, path, encode_params(params or {}), content, headers)


def encode_params(params: Mapping[str, Any]) -> list[tuple[str, str]]:
    """Query parameters as the API reads them: booleans as true/false, several values joined
    by commas, `created={"gte": t}` as `created[gte]=t`, None left out."""
    encoded: list[tuple[str, str]] = []
    for name, value in params.items():
        if value is None:
            continue
        if isinstance(value, Mapping):
            encoded += [(f"{name}[{op}]", _scalar(v)) for op, v in value.items() if v is not None]
        elif isinstance(value, list | tuple | set | frozenset):
            encoded.append((name, ",".join(_scalar(v) for v in value)))
        else:
            encoded.append((name, _scalar(value)))
    return encoded


def _scalar(value: Any) -> str:
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, datetime.datetime):
        if value.tzinfo is not None:
            value = value.astimezone(datetime.UTC)
            return value.replace(tzinfo=None).isoformat() + "Z"
        return value.isoformat()
    if isinstance(value, datetime.date):
        return value.isoformat()
    return str(value)


def path_id(value: str | int) -> str:
    """An id path segment: a cuid or a display_id (int or string of digits)."""
    text = str(value)
    if not text or "/" in text:
        raise ValueError(f"not an id: {value!r}")
    return text


# ---- retries --------------------------------------------------------------------------------

@dataclass(frozen=True)
class RetryPolicy:
    """Exponential backoff with jitter; a server's Retry-After is honoured instead."""

    max_retries: int = DEFAULT_MAX_RETRIES
    initial_delay: float = 0.5
    max_delay: float = 8.0
    # a Retry-After longer than this is not waited out: the error goes to the caller
    max_retry_after: float = 60.0

    def backoff(self, attempt: int) -> float:
        """The wait before retry number `attempt + 1`: half fixed, half random ("equal
        jitter"), so clients that failed together do not come back together."""
        delay = min(self.max_delay, self.initial_delay * 2**attempt)
        return delay / 2 + random.uniform(0, delay / 2)

    def after_error(self, error: APIError, attempt: int) -> float | None:
        """Seconds to wait before retrying this error answer, or None: raise it."""
        if attempt >= self.max_retries or not retryable(error):
            return None
        retry_after = error.retry_after
        if retry_after is not None:
            if retry_after > self.max_retry_after:
                return None
            # at least what the server asked, a little more so a crowd spreads out
            return retry_after + random.uniform(0, min(1.0, retry_after * 0.1 + 0.05))
        return self.backoff(attempt)

    def after_disconnect(self, attempt: int) -> float | None:
        """Seconds to wait before retrying a call that got no answer, or None: give up."""
        return None if attempt >= self.max_retries else self.backoff(attempt)


def retryable(error: APIError) -> bool:
    """429, a 409 for an Idempotency-Key still in use, and 5xx are worth another try."""
    return (
        error.status == 429
        or error.status >= 500
        or (error.status == 409 and error.code == "idempotency_key_in_use")
    )


def error_of(response: httpx.Response) -> APIError:
    headers = {k.lower(): v for k, v in response.headers.items()}
    return error_from_answer(response.status_code, response.content, headers,
                             response.headers.get("request-id"))


# ---- answers --------------------------------------------------------------------------------

_decoders: dict[Any, msgspec.json.Decoder] = {}


def decode(content: bytes, kind: Any) -> Any:
    decoder = _decoders.get(kind)
    if decoder is None:
        decoder = _decoders[kind] = msgspec.json.Decoder(kind)
    return decoder.decode(content)


class ListAnswer(msgspec.Struct, Generic[T], kw_only=True):
    """A page as the wire carries it: {"object": "list", "data": [...], ...}."""

    data: list[T]
    has_more: bool
    next_cursor: str | None = None


class BatchResult(msgspec.Struct, Generic[T], kw_only=True):
    """One item's outcome in a batch upsert: created, updated, unchanged or error."""

    index: int
    result: str
    data: T | None = None
    error: ErrorBody | None = None


class BatchAnswer(msgspec.Struct, Generic[T], kw_only=True):
    data: list[BatchResult[T]]
