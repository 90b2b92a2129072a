"""examples/nightly_sync.py: stopped and started again while changes keep coming, it prints
every change exactly once, in the feed's order."""

from __future__ import annotations

import threading
import time

from tests.sdk.examples.running import Example
from tests.sdk.test_feed import settled


def _event_ids(lines: list[str]) -> list[str]:
    return [line.split()[1] for line in lines]


def test_stopped_and_restarted_it_prints_every_change_once(api, ws, pv, tmp_path):
    cursor = tmp_path / "sync.cursor"
    args = ("--cursor-file", str(cursor), "--poll", "0.05", "--page-size", "3")
    done = threading.Event()

    def write_changes():
        for i in range(12):
            customer = pv.customers.create(name=f"c{i}")
            time.sleep(0.05)
            pv.customers.update(customer.id, name=f"c{i} renamed")
            time.sleep(0.05)
        done.set()

    writer = threading.Thread(target=write_changes)
    writer.start()
    printed: list[str] = []
    for total in (6, 14):  # stopped while changes are still arriving
        sync = Example("nightly_sync.py", *args, env=api.env(ws))
        needed = total - len(printed)
        sync.wait_for(lambda lines, n=needed: len(lines) >= n, what=f"{total} changes in all")
        assert sync.stop() == 0
        printed += sync.lines
    writer.join(60)
    assert done.is_set()
    settled(pv, 24)
    rest = Example("nightly_sync.py", *args, "--once", env=api.env(ws))
    assert rest.wait() == 0
    printed += rest.lines

    expected = [e.id for e in pv.events.list(limit=100)][::-1]
    assert len(expected) == 24
    assert _event_ids(printed) == expected
    renamed = next(line for line in printed if "customer.updated" in line)
    assert "name: 'c0' -> 'c0 renamed'" in renamed
