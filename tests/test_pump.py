"""The delivery pump's wake-ups: a claim only when it could take something."""

from __future__ import annotations

from worker.delivery import Outcome
from worker.pump import DeliveryPump


def pump_with(settings, busy: dict[str, int]) -> DeliveryPump:
    pump = DeliveryPump(None, None, settings, schedule_retry=None)
    pump._busy.update(busy)
    return pump


async def test_a_wake_up_for_endpoints_all_at_their_cap_claims_nothing(settings):
    cap = settings.webhook_endpoint_concurrency
    pump = pump_with(settings, {"we_full": cap, "we_free": cap - 1})
    pump.poke(["we_full"])
    assert await pump._next_arrivals() == ([], False)
    pump.poke(["we_full", "we_free"])
    assert await pump._next_arrivals() == ([], True)
    pump.poke()  # endpoints not known: claim
    assert await pump._next_arrivals() == ([], True)


async def test_a_finished_attempt_frees_its_endpoints_place(settings):
    cap = settings.webhook_endpoint_concurrency
    pump = pump_with(settings, {"we_full": cap})
    finished = ({"endpoint_id": "we_full"}, Outcome(200, 5))
    pump._arrivals.put_nowait(finished)
    pump.poke(["we_full"])
    assert await pump._next_arrivals() == ([finished], True)
    assert pump._busy["we_full"] == cap - 1
