"""Standard Webhooks signatures: v1,<base64 HMAC-SHA256 over "{id}.{timestamp}.{body}">."""

from __future__ import annotations

import base64
import hashlib
import hmac
import os

SECRET_PREFIX = "whsec_"


def new_secret() -> str:
    return SECRET_PREFIX + base64.b64encode(os.urandom(32)).decode()


def sign(secret: str, message_id: str, timestamp: int, body: bytes) -> str:
    key = base64.b64decode(secret.removeprefix(SECRET_PREFIX))
    signed = b"%s.%d.%s" % (message_id.encode(), timestamp, body)
    return "v1," + base64.b64encode(hmac.new(key, signed, hashlib.sha256).digest()).decode()


def signature_header(secrets: list[str], message_id: str, timestamp: int, body: bytes) -> str:
    """`webhook-signature`: one `v1,<signature>` per secret, space-separated, the newest first
    (during a rotation receivers holding either secret can verify)."""
    return " ".join(sign(secret, message_id, timestamp, body) for secret in secrets)
