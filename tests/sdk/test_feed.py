"""events.tail: the change feed from a saved position, resumable after any event."""

from __future__ import annotations

import threading
import time

from pivotal.feed import parse_position


def settled(client, count: int, timeout: float = 10) -> None:
    """Wait until the ascending feed shows `count` events. It holds an event back while an
    older write may still commit (another process's open transaction, say the worker's)."""
    deadline = time.monotonic() + timeout
    while len(list(client.events.list(order="asc", limit=100))) < count:
        assert time.monotonic() < deadline, f"the feed never showed {count} events"
        time.sleep(0.02)


def _customers(client, count: int, prefix: str = "c", before: int = 0) -> list[str]:
    """`count` new customers (after `before` events), once the feed shows their events."""
    ids = [client.customers.create(name=f"{prefix}{i}").id for i in range(count)]
    settled(client, before + count)
    return ids


def test_tail_reads_the_feed_oldest_first_across_pages(pv):
    ids = _customers(pv, 5)
    tail = pv.events.tail(limit=2, follow=False)
    events = list(tail)
    assert [e.data.object.id for e in events] == ids
    assert [e.type for e in events] == ["customer.created"] * 5
    # caught up at the end of a page: the position is the server's own cursor
    assert "#" not in tail.cursor and tail.cursor.endswith("Z")


def test_a_position_saved_after_any_event_resumes_with_nothing_skipped_or_repeated(pv):
    _customers(pv, 5)
    everything = [e.id for e in pv.events.tail(follow=False)]
    for stop_after in range(6):
        tail = pv.events.tail(limit=2, follow=False)
        seen = [next(tail).id for _ in range(stop_after)]
        resumed = [e.id for e in pv.events.tail(tail.cursor, limit=2, follow=False)]
        assert seen + resumed == everything, f"stopped after {stop_after}"


def test_a_position_at_the_end_yields_only_what_happens_later(pv):
    _customers(pv, 2)
    tail = pv.events.tail(follow=False)
    assert len(list(tail)) == 2
    saved = tail.cursor
    assert list(pv.events.tail(saved, follow=False)) == []
    later = _customers(pv, 3, "later", before=2)
    assert [e.data.object.id for e in pv.events.tail(saved, follow=False)] == later


def test_a_following_tail_picks_up_new_events_as_they_happen(pv):
    received = []
    tail = pv.events.tail(poll_interval=0.05)

    def follow():
        for event in tail:
            received.append(event.data.object.id)
            if len(received) == 3:
                return

    reader = threading.Thread(target=follow, daemon=True)
    reader.start()
    created = _customers(pv, 3)
    reader.join(10)
    assert received == created


def test_a_tail_can_follow_one_family_of_events(pv):
    customer = pv.customers.create(name="Acme")
    contact = pv.contacts.create(customer=customer.id, email="ada@acme.com")
    pv.customers.update(customer.id, name="Acme Inc")
    settled(pv, 3)
    assert [e.data.object.id for e in pv.events.tail(type="contact.*", follow=False)] == [contact.id]


def test_positions_parse_back():
    assert parse_position(None) == (None, 0)
    assert parse_position("#3") == (None, 3)
    assert parse_position("2026-05-26T17:21:09.412345Z") == ("2026-05-26T17:21:09.412345Z", 0)
    assert parse_position("2026-05-26T17:21:09.412345Z#7") == ("2026-05-26T17:21:09.412345Z", 7)
