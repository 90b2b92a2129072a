"""A progress bar on stderr: done/total, rate and time left. Redrawn in place on a terminal;
elsewhere (a log file, CI) one line at most every few seconds, and the last one."""

from __future__ import annotations

import sys
import time
from typing import TextIO

WIDTH = 30


class ProgressBar:
    def __init__(self, label: str, total: int, stream: TextIO | None = None,
                 interval: float = 2.0) -> None:
        self.label, self.total = label, total
        self.stream = stream or sys.stderr
        self.interactive = self.stream.isatty()
        self.interval = interval
        self.started = time.monotonic()
        self._last_line = 0.0

    def update(self, done: int) -> None:
        now = time.monotonic()
        if self.interactive:
            self.stream.write("\r" + self.render(done, now))
        elif now - self._last_line >= self.interval or done >= self.total:
            self.stream.write(self.render(done, now) + "\n")
            self._last_line = now
        self.stream.flush()

    def finish(self, done: int) -> None:
        if self.interactive:
            self.stream.write("\r" + self.render(done, time.monotonic()) + "\n")
        elif done < self.total or self._last_line == 0.0:
            self.stream.write(self.render(done, time.monotonic()) + "\n")
        self.stream.flush()

    def render(self, done: int, now: float) -> str:
        elapsed = max(now - self.started, 1e-6)
        rate = done / elapsed
        share = done / self.total if self.total else 1.0
        filled = int(WIDTH * min(share, 1.0))
        left = (self.total - done) / rate if rate > 0 else None
        eta = _clock(left) if left is not None else "--:--"
        return (f"{self.label} [{'#' * filled}{'-' * (WIDTH - filled)}] {done:,}/{self.total:,} "
                f"{share:4.0%} {rate:,.0f} rows/s ETA {eta}")


def _clock(seconds: float) -> str:
    minutes, secs = divmod(round(seconds), 60)
    hours, minutes = divmod(minutes, 60)
    return f"{hours}:{minutes:02d}:{secs:02d}" if hours else f"{minutes}:{secs:02d}"
