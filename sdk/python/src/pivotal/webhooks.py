"""Checking webhook deliveries (the Standard Webhooks scheme Pivotal signs with).

    event = pivotal.webhooks.verify(request_body, request.headers, "whsec_…")

A delivery carries `webhook-id` (the event id: dedupe on it), `webhook-timestamp` (unix
seconds) and `webhook-signature`: space-separated `v1,<base64 HMAC-SHA256>` signatures of
`"{id}.{timestamp}.{body}"`. Several signatures appear while a secret is being rotated; one
that matches is enough. Pass the raw body, exactly the bytes received: a body parsed and
encoded again no longer matches.
"""

from __future__ import annotations

import base64
import binascii
import hashlib
import hmac
import time
from collections.abc import Iterable, Mapping
from typing import Any

import msgspec

from pivotal.errors import WebhookVerificationError
from pivotal.types import Event

SECRET_PREFIX = "whsec_"
DEFAULT_TOLERANCE = 300  # seconds a delivery's timestamp may differ from the clock
_event_decoder = msgspec.json.Decoder(Event)


def verify(body: bytes | str, headers: Mapping[str, str] | Iterable[tuple[str, str]],
           secret: str | Iterable[str], *, tolerance: float = DEFAULT_TOLERANCE,
           now: float | None = None) -> Event:
    """The delivered event, typed, once its signature and timestamp check out.

    `secret` is the endpoint's signing secret, or several (old and new, while rotating).
    Raises WebhookVerificationError for a missing header, a timestamp further than
    `tolerance` seconds from `now` (a replay), or no matching signature.
    """
    body_bytes = body.encode() if isinstance(body, str) else bytes(body)
    found = _lower(headers)
    message_id, timestamp, signatures = (
        found.get("webhook-id"), found.get("webhook-timestamp"), found.get("webhook-signature")
    )
    if not message_id or not timestamp or not signatures:
        raise WebhookVerificationError(
            "missing webhook-id, webhook-timestamp or webhook-signature header")
    sent_at = _timestamp(timestamp)
    clock = time.time() if now is None else now
    if abs(clock - sent_at) > tolerance:
        raise WebhookVerificationError(
            f"timestamp {sent_at} is more than {tolerance:g} s from now: refused as a replay")
    secrets = [secret] if isinstance(secret, str) else list(secret)
    expected = [_signature(_key(s), message_id, sent_at, body_bytes) for s in secrets]
    offered = [part.partition(",")[2] for part in signatures.split() if part.startswith("v1,")]
    if not any(hmac.compare_digest(e, o) for e in expected for o in offered):
        raise WebhookVerificationError("no signature matches this body and secret")
    try:
        return _event_decoder.decode(body_bytes)
    except msgspec.DecodeError as exc:
        raise WebhookVerificationError(f"the body is not an event: {exc}") from exc


def sign(body: bytes | str, secret: str, message_id: str, timestamp: int | None = None) -> dict[str, str]:
    """The headers Pivotal would send with `body`: for testing a receiver."""
    body_bytes = body.encode() if isinstance(body, str) else bytes(body)
    sent_at = int(time.time()) if timestamp is None else int(timestamp)
    return {
        "webhook-id": message_id,
        "webhook-timestamp": str(sent_at),
        "webhook-signature": "v1," + _signature(_key(secret), message_id, sent_at, body_bytes),
    }


def _signature(key: bytes, message_id: str, timestamp: int, body: bytes) -> str:
    signed = b"%s.%d.%s" % (message_id.encode(), timestamp, body)
    return base64.b64encode(hmac.new(key, signed, hashlib.sha256).digest()).decode()


def _key(secret: str) -> bytes:
    try:
        return base64.b64decode(secret.removeprefix(SECRET_PREFIX), validate=True)
    except (binascii.Error, ValueError) as exc:
        raise WebhookVerificationError("the secret is not whsec_ followed by base64") from exc


def _timestamp(value: str) -> int:
    if not value.isascii() or not value.isdigit():
        raise WebhookVerificationError(f"webhook-timestamp is not unix seconds: {value!r}")
    return int(value)


def _lower(headers: Any) -> dict[str, str]:
    items = headers.items() if hasattr(headers, "items") else headers
    return {str(name).lower(): str(value) for name, value in items}
