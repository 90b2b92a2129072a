"""Following the change feed from a saved position, one event at a time.

The feed is read in ascending pages (`GET /events?order=asc&cursor=…`). The server names a
position only at the end of a page (`next_cursor`), but a reader wants to save its place after
every event it handled. So a tail position is the server's cursor where the current page
began plus how many of that page's events were handled: `"2026-05-26T17:21:09.412345Z#3"`
(or `"#3"` from the very start). That is exact because the feed below its commit horizon never
changes: the first events after a cursor are the same on every read. At a page's end the
position is the server's own cursor.
"""

from __future__ import annotations

from typing import Any

from pivotal._core import ListAnswer
from pivotal.types import Event

SEPARATOR = "#"


def parse_position(position: str | None) -> tuple[str | None, int]:
    """(server cursor or None, events of the page after it already handled)."""
    if not position:
        return None, 0
    cursor, _, skip = position.partition(SEPARATOR)
    if skip and not skip.isdigit():
        raise ValueError(f"not a feed position: {position!r}")
    return cursor or None, int(skip or 0)


class TailState:
    """Where a tail stands and what to ask for next; the sync and async tails drive it.

    `base` is a server cursor (None: the feed's start) and `done` counts the events after it
    already handed to the reader; `pending` holds fetched events not handed out yet.
    """

    def __init__(self, position: str | None, limit: int, type: str | None) -> None:
        if not 1 <= limit <= 100:
            raise ValueError("limit must be between 1 and 100")
        self.base, self.done = parse_position(position)
        self.limit, self.type = limit, type
        self.pending: list[Event] = []
        self.page_end: str | None = None
        self.page_size = 0

    @property
    def position(self) -> str | None:
        """The position after the last event handed out: save it, pass it back to resume."""
        if self.done == 0:
            return self.base
        return f"{self.base or ''}{SEPARATOR}{self.done}"

    def params(self) -> dict[str, Any]:
        # the events already done come first on the page: ask for enough to get past them
        return {"order": "asc", "cursor": self.base, "type": self.type,
                "limit": min(100, self.done + self.limit)}

    def accept(self, page: ListAnswer[Event]) -> bool:
        """Take a fetched page; False when it held nothing new (the reader is caught up)."""
        self.pending = list(page.data[self.done:])
        self.page_end, self.page_size = page.next_cursor, len(page.data)
        if not self.pending:
            self._settle()
            return False
        return True

    def next_event(self) -> Event | None:
        if not self.pending:
            return None
        self.done += 1
        event = self.pending.pop(0)
        if not self.pending:
            self._settle()
        return event

    def _settle(self) -> None:
        """A page handed out whole: its end is a position the server names itself."""
        if self.page_end and self.done == self.page_size:
            self.base, self.done = self.page_end, 0
