"""A callback that runs once, a fixed delay after it is first asked for."""

from __future__ import annotations

import asyncio
from collections.abc import Callable


class LoopTimer:
    """Calls `callback` `delay` seconds after `arm()`; arming while it is pending does nothing.

    Bound to the running event loop: armed from another loop (each test has its own), it is
    scheduled there afresh.
    """

    def __init__(self, delay: float, callback: Callable[[], None]) -> None:
        self.delay = delay
        self.callback = callback
        self._handle: asyncio.TimerHandle | None = None
        self._loop: asyncio.AbstractEventLoop | None = None

    def arm(self) -> None:
        loop = asyncio.get_running_loop()
        if self._handle is None or self._loop is not loop:
            self._handle = loop.call_later(self.delay, self._fire)
            self._loop = loop

    def cancel(self) -> None:
        if self._handle is not None:
            self._handle.cancel()
            self._handle = None

    def _fire(self) -> None:
        self._handle = None
        self.callback()
