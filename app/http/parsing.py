"""Reading what a caller sent: JSON bodies into msgspec structs, and list query parameters."""

from __future__ import annotations

import re
from datetime import UTC, datetime
from typing import Any, TypeVar

import msgspec
from litestar import Request

from app.core.errors import (
    InvalidJson,
    InvalidRequest,
    ParameterMissing,
    ParameterUnknown,
    PayloadTooLarge,
    UnsupportedMediaType,
)
from app.core.pagination import ListParams
from app.core.validation import ascii_int

T = TypeVar("T")
MAX_BODY_BYTES = 1024 * 1024
_UNKNOWN = re.compile(r"Object contains unknown field `(?P<name>[^`]+)`(?: - at `\$(?P<path>[^`]*)`)?")
_MISSING = re.compile(r"Object missing required field `(?P<name>[^`]+)`(?: - at `\$(?P<path>[^`]*)`)?")
_AT = re.compile(r"^(?P<message>.*?) - at `(?:key` in `)?\$(?P<path>[^`]*)`$")
_decoders: dict[type, msgspec.json.Decoder] = {}


def _field(path: str, name: str | None = None) -> str | None:
    """`$.metadata[...]` → `metadata`; `$.a.b` plus name `c` → `a.b.c`."""
    dotted = re.sub(r"\[[^\]]*\]", "", path or "").lstrip(".")
    parts = [part for part in (dotted, name) if part]
    return ".".join(parts) or None


def validation_error(exc: msgspec.ValidationError) -> InvalidRequest:
    """Turn msgspec's message into the API's error, naming the field at fault."""
    text = str(exc)
    if match := _UNKNOWN.fullmatch(text):
        field = _field(match["path"], match["name"])
        return ParameterUnknown(f"Received unknown parameter: {field}", field=field)
    if match := _MISSING.fullmatch(text):
        field = _field(match["path"], match["name"])
        return ParameterMissing(f"Missing required parameter: {field}", field=field)
    if match := _AT.fullmatch(text):
        field = _field(match["path"])
        return InvalidRequest(f"Invalid {field}: {match['message']}", field=field)
    return InvalidRequest(f"Invalid request body: {text}")


def _decoder(kind: type[T]) -> msgspec.json.Decoder:
    decoder = _decoders.get(kind)
    if decoder is None:
        decoder = _decoders[kind] = msgspec.json.Decoder(kind)
    return decoder


def not_utf8() -> InvalidJson:
    return InvalidJson("Request body is not valid JSON: it is not valid UTF-8")


def decode_json(raw: bytes, kind: type[T]) -> T:
    try:
        decoded = _decoder(kind).decode(raw)
    except msgspec.ValidationError as exc:
        # msgspec stops at the first wrong field, perhaps before bytes that are not UTF-8 at all
        try:
            raw.decode()
        except UnicodeDecodeError:
            raise not_utf8() from None
        decoded = _with_integers(raw, kind, exc)
    except msgspec.DecodeError as exc:
        raise InvalidJson(f"Request body is not valid JSON: {exc}") from None
    except UnicodeDecodeError:  # msgspec's own error for a string that is not UTF-8
        raise not_utf8() from None
    # JSON can only carry U+0000 escaped; one scan of the bytes keeps the common case cheap.
    # What was decoded is scanned: msgspec.Raw parts (a batch's items) are scanned when they
    # are decoded in turn, so a NUL fails its item, not the whole batch
    if b"\\u0000" in raw:
        reject_nul(msgspec.to_builtins(decoded, enc_hook=lambda raw_part: None))
    return decoded


def _integral(value: Any) -> Any:
    """`value` with every float that has no fraction (107.0, 1e3) as an int."""
    if isinstance(value, float) and value.is_integer():
        return int(value)
    if isinstance(value, list):
        return [_integral(item) for item in value]
    if isinstance(value, dict):
        return {key: _integral(item) for key, item in value.items()}
    return value


def _with_integers(raw: bytes, kind: type[T], exc: msgspec.ValidationError) -> T:
    """A body msgspec refused, read again with 107.0 as 107: JSON has one number type, and
    JSON Schema's `integer` (what the document says of ids and counts) includes 107.0."""
    if "got `float`" not in str(exc):
        raise validation_error(exc) from None
    integral = msgspec.json.encode(_integral(msgspec.json.decode(raw)))
    try:
        return _decoder(kind).decode(integral)
    except msgspec.ValidationError as again:
        raise validation_error(again) from None


def _nul_field(value: Any, path: str) -> str | None:
    """The dotted path of the first string (or object key) holding U+0000, if any."""
    if isinstance(value, str):
        return path if "\x00" in value else None
    if isinstance(value, list):
        return next((f for item in value if (f := _nul_field(item, path)) is not None), None)
    if isinstance(value, dict):
        for key, item in value.items():
            if "\x00" in key:
                return path
            found = _nul_field(item, f"{path}.{key}" if path else key)
            if found is not None:
                return found
    return None


def reject_nul(value: Any, field: str = "") -> None:
    """PostgreSQL text cannot hold U+0000: a 400 naming the field, not a 500 at the insert."""
    found = _nul_field(value, field)
    if found is not None:
        raise InvalidRequest(
            f"{found or 'The request body'} must not contain the character U+0000", field=found or None
        )


async def read_body(request: Request, kind: type[T]) -> T:
    """The request body decoded into `kind`: 415 for a non-JSON type, 413 past 1 MiB."""
    content_type = request.headers.get("content-type", "")
    media_type = content_type.split(";", 1)[0].strip().lower()
    if media_type != "application/json":
        raise UnsupportedMediaType(
            f"Content-Type must be application/json, got {content_type or 'nothing'}"
        )
    length = ascii_int(request.headers.get("content-length", ""))
    if length is not None and length > MAX_BODY_BYTES:
        raise PayloadTooLarge("Request body is larger than 1 MiB")
    raw = await request.body()
    if len(raw) > MAX_BODY_BYTES:
        raise PayloadTooLarge("Request body is larger than 1 MiB")
    if not raw.strip():
        raise InvalidJson("Request body is empty; send a JSON object")
    return decode_json(raw, kind)


async def read_optional_body(request: Request, kind: type[T]) -> T:
    """Like read_body, but a request with no body at all means `kind`'s defaults (an action
    such as rotating a secret needs no parameters)."""
    if not (await request.body()).strip() and "content-type" not in request.headers:
        return decode_json(b"{}", kind)
    return await read_body(request, kind)


def parse_timestamp(raw: str, field: str) -> datetime:
    """An ISO 8601 timestamp (UTC when it names no offset); 400 on `field` otherwise."""
    try:
        # fromisoformat stops reading at a NUL and accepts what came before it
        if not (raw.isascii() and raw.isprintable()):
            raise ValueError(raw)
        moment = datetime.fromisoformat(raw.strip().replace(" ", "+"))
        # in UTC, as the database compares it: an offset can push year 1 or 9999 out of range
        return (moment if moment.tzinfo else moment.replace(tzinfo=UTC)).astimezone(UTC)
    except (ValueError, OverflowError):
        raise InvalidRequest(
            f"{field} must be an ISO 8601 timestamp, e.g. 2026-05-26T17:21:09.412345Z",
            field=field,
        ) from None


def parse_cursor(raw: str) -> datetime:
    return parse_timestamp(raw, "cursor")


def parse_list_params(query: Any, allowed_filters: frozenset[str],
                      repeatable: frozenset[str] = frozenset()) -> ListParams:
    """limit (1–100, default 10), cursor (ISO 8601), order (desc|asc) and known filters.

    A `repeatable` filter given several times (`expand=a&expand=b`) reads as `a,b`; any other
    keeps its last value.
    """
    limit, cursor, descending = 10, None, True
    filters: dict[str, str] = {}
    for name, value in query.items():
        if name == "limit":
            number = ascii_int(value)
            if number is None or not 1 <= number <= 100:
                raise InvalidRequest("limit must be between 1 and 100", field="limit")
            limit = number
        elif name == "cursor":
            cursor = parse_cursor(value) if value else None
        elif name == "order":
            if value not in ("asc", "desc"):
                raise InvalidRequest("order must be 'asc' or 'desc'", field="order")
            descending = value == "desc"
        elif name in allowed_filters:
            reject_nul(value, name)
            if name in repeatable and name in filters:
                value = f"{filters[name]},{value}"
            filters[name] = value
        else:
            raise ParameterUnknown(f"Received unknown parameter: {name}", field=name)
    return ListParams(limit, cursor, descending, filters)
