"""Nightly sync: follow Pivotal's change feed from where the last run stopped, print each change.

    PIVOTAL_API_KEY=pivotal_test_… python examples/nightly_sync.py --cursor-file sync.cursor
    PIVOTAL_API_KEY=pivotal_test_… python examples/nightly_sync.py --cursor-file sync.cursor --once

The position after each change is saved to the cursor file (atomically), so a run that is
stopped (Ctrl-C, SIGTERM) and started again resumes exactly after the last change it printed:
nothing skipped, nothing repeated. A stop signal lets the change in hand finish first; only a
hard kill between printing a change and saving its position can repeat that one change, which
is why a real consumer also dedupes on the event id. With --once it stops when caught up (a
cron job); otherwise it keeps following the feed.
"""

from __future__ import annotations

import argparse
import os
import signal
import sys
from pathlib import Path
from typing import Any

import pivotal


class Stop:
    """SIGTERM/SIGINT: exit at once when idle; while a change is in hand, after it is saved."""

    def __init__(self) -> None:
        self.requested = False
        self.busy = False

    def __call__(self, signum: int, frame: Any) -> None:
        self.requested = True
        if not self.busy:
            raise SystemExit(0)


def load_position(path: Path) -> str | None:
    return (path.read_text().strip() or None) if path.exists() else None


def save_position(path: Path, position: str | None) -> None:
    temporary = path.with_name(path.name + ".tmp")
    temporary.write_text(position or "")
    os.replace(temporary, path)  # atomic: the file always holds one whole position


def describe(event: pivotal.Event) -> str:
    """One line per change: when, the event id, its type, the object, what changed."""
    obj = event.data.object
    line = f"{event.created_at} {event.id} {event.type} {obj.id}"
    previous = event.data.previous_attributes or {}
    changes = ", ".join(f"{name}: {old!r} -> {getattr(obj, name, None)!r}"
                        for name, old in previous.items())
    return f"{line} {changes}" if changes else line


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--cursor-file", type=Path, default=Path("pivotal-sync.cursor"))
    parser.add_argument("--once", action="store_true", help="stop when caught up")
    parser.add_argument("--type", help="only these events, e.g. customer.*")
    parser.add_argument("--page-size", type=int, default=100)
    parser.add_argument("--poll", type=float, default=1.0, help="seconds between polls when idle")
    args = parser.parse_args()

    stop = Stop()
    signal.signal(signal.SIGTERM, stop)
    signal.signal(signal.SIGINT, stop)
    with pivotal.Client() as client:
        tail = client.events.tail(load_position(args.cursor_file), type=args.type,
                                  limit=args.page_size, poll_interval=args.poll,
                                  follow=not args.once)
        for event in tail:
            stop.busy = True
            print(describe(event), flush=True)
            save_position(args.cursor_file, tail.cursor)
            stop.busy = False
            if stop.requested:
                break
        save_position(args.cursor_file, tail.cursor)


if __name__ == "__main__":
    sys.exit(main())
