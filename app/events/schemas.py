"""The event object: what the change feed serves and webhooks deliver."""

from __future__ import annotations

import msgspec


class EventData(msgspec.Struct, omit_defaults=True):
    object: msgspec.Struct
    previous_attributes: dict | None = None


class Event(msgspec.Struct):
    object: str
    id: str
    display_id: int
    type: str
    livemode: bool
    created_at: str
    data: msgspec.Raw

    @classmethod
    def from_row(cls, row) -> Event:
        values = tuple(row)[:-1]
        return cls(*values[:-1], msgspec.Raw(values[-1].encode()))
