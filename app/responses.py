"""Encoding responses once, straight to bytes."""

from __future__ import annotations

from typing import Any

import msgspec
from litestar import Response

_encoder = msgspec.json.Encoder()
encode = _encoder.encode


class ListPage(msgspec.Struct):
    object: str
    data: list[Any]
    has_more: bool
    next_cursor: str | None


def json_response(content: Any, status: int = 200, headers: dict[str, str] | None = None) -> Response:
    return Response(
        content=_encoder.encode(content),
        status_code=status,
        media_type="application/json",
        headers=headers,
    )


def list_page(
    items: list[Any], has_more: bool, last_cursor: str | None, descending: bool
) -> ListPage:
    """`next_cursor` is the last item's created_at at full precision.

    It is null on the last page, except in ascending order: a reader tailing a feed reaches
    the end and must still be able to save where it stopped, so an ascending page with items
    always names its position (the next read from there returns the items added since).
    """
    keep = has_more or (not descending and bool(items))
    return ListPage("list", items, has_more, last_cursor if keep else None)
