"""Encoding responses once, straight to bytes."""

from __future__ import annotations

from typing import Any

import msgspec
from litestar import Response

_encoder = msgspec.json.Encoder()
encode = _encoder.encode


def json_response(content: Any, status: int = 200, headers: dict[str, str] | None = None) -> Response:
    return Response(
        content=_encoder.encode(content),
        status_code=status,
        media_type="application/json",
        headers=headers,
    )
