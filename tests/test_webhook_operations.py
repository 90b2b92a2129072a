"""Webhooks, second round, end to end with a real worker and a real receiver on loopback:
secret rotation, test events, recovery after an outage, auto-disable and re-enable, and a
slow endpoint that cannot starve the others."""

from __future__ import annotations

import asyncio
import base64
import hashlib
import hmac
from collections import Counter

from standardwebhooks.webhooks import Webhook, WebhookVerificationError

from tests.receiver import Receiver
from tests.test_errors import assert_error
from tests.test_webhook_delivery import _deliveries, failing, stack, wait_until  # noqa: F401


def signatures(received) -> list[str]:
    return received.headers["webhook-signature"].split(" ")


def verifies(secret: str, received) -> bool:
    try:
        Webhook(secret).verify(received.body, received.headers)
    except WebhookVerificationError:
        return False
    return True


def signature_of(secret: str, received) -> str:
    """`secret`'s signature of the delivery, over the exact bytes sent."""
    key = base64.b64decode(secret.removeprefix("whsec_"))
    headers = received.headers
    message = f"{headers['webhook-id']}.{headers['webhook-timestamp']}.".encode() + received.body
    return "v1," + base64.b64encode(hmac.new(key, message, hashlib.sha256).digest()).decode()


async def post(stack, path: str, body: dict | None = None):
    return await stack.client.post(path, json=body, headers=stack.workspace.live) if body is not None \
        else await stack.client.post(path, headers=stack.workspace.live)


async def test_rotated_secret_signs_beside_the_old_one_until_the_overlap_ends(stack):
    receiver = stack.receiver()
    endpoint = await stack.endpoint(receiver.url)
    original = endpoint["secret"]
    stack.start_worker()
    rotated = await post(stack, f"/webhook_endpoints/{endpoint['id']}/rotate_secret",
                         {"expire_previous_in": 3600})
    assert rotated.status_code == 200, rotated.text
    new = rotated.json()["secret"]
    assert new.startswith("whsec_") and new != original
    assert {k: v for k, v in rotated.json().items() if k not in ("secret", "updated_at")} == {
        k: v for k, v in endpoint.items() if k not in ("secret", "updated_at")}
    fetched = await stack.client.get(f"/webhook_endpoints/{endpoint['id']}",
                                     headers=stack.workspace.live)
    assert "secret" not in fetched.json()

    await stack.customers(1)
    await wait_until(lambda: len(receiver.received) == 1, 20, "the delivery in the overlap")
    during = receiver.received[0]
    # `v1,<new> v1,<old>`, space-separated
    assert signatures(during) == [signature_of(new, during), signature_of(original, during)]
    assert verifies(new, during) and verifies(original, during)

    # a second rotation ends the first overlap at once and starts its own, of one second
    latest = (await post(stack, f"/webhook_endpoints/{endpoint['id']}/rotate_secret",
                         {"expire_previous_in": 1})).json()["secret"]
    await asyncio.sleep(1.5)  # past the overlap
    await stack.customers(1)
    await wait_until(lambda: len(receiver.received) == 2, 20, "the delivery after the overlap")
    after = receiver.received[1]
    assert len(signatures(after)) == 1
    assert verifies(latest, after)
    assert not verifies(new, after) and not verifies(original, after)


async def test_rotate_secret_checks_its_overlap_and_defaults_to_a_day(stack):
    endpoint = await stack.endpoint("http://127.0.0.1:9/hooks")
    path = f"/webhook_endpoints/{endpoint['id']}/rotate_secret"
    for bad in (-1, 7 * 24 * 3600 + 1, "soon"):
        assert_error(await post(stack, path, {"expire_previous_in": bad}), 400,
                     "parameter_invalid", "expire_previous_in")
    assert_error(await post(stack, path, {"expire_after": 5}), 400, "parameter_unknown",
                 "expire_after")
    assert (await post(stack, path)).status_code == 200  # no body: the default overlap
    overlap = await stack.pool.fetchval(
        "select extract(epoch from previous_secret_expires_at - updated_at) "
        "from webhook_endpoints where id = $1", endpoint["id"])
    assert abs(float(overlap) - 24 * 3600) < 60
    assert_error(await post(stack, "/webhook_endpoints/999/rotate_secret"), 404,
                 "resource_not_found")


async def test_test_event_goes_to_that_endpoint_only_and_shows_in_its_deliveries(stack):
    target, other = stack.receiver(), stack.receiver()
    endpoint = await stack.endpoint(target.url)
    await stack.endpoint(other.url)  # wants every event: still not this one
    stack.start_worker()
    response = await post(stack, f"/webhook_endpoints/{endpoint['display_id']}/test")
    assert response.status_code == 200, response.text
    delivery = response.json()
    assert delivery["object"] == "webhook_delivery"
    assert (delivery["event_type"], delivery["webhook_endpoint"]) == (
        "webhook_endpoint.test", endpoint["id"])
    await wait_until(lambda: target.received, 20, "the test event")
    event = Webhook(endpoint["secret"]).verify(target.received[0].body, target.received[0].headers)
    assert event["type"] == "webhook_endpoint.test"
    assert event["id"] == delivery["event"]
    assert event["data"]["object"]["id"] == endpoint["id"]
    assert "secret" not in event["data"]["object"]
    listed = await _deliveries(stack, endpoint)
    assert [(d["id"], d["status"]) for d in listed] == [(delivery["id"], "succeeded")]

    # a redelivery of it still reaches that endpoint alone
    redelivered = await post(stack, f"/events/{delivery['event']}/redeliver")
    assert [d["webhook_endpoint"] for d in redelivered.json()["data"]] == [endpoint["id"]]
    await wait_until(lambda: len(target.received) == 2, 20, "the redelivered test event")
    assert other.received == []


async def test_test_event_to_a_disabled_endpoint_is_a_conflict(stack):
    endpoint = await stack.endpoint("http://127.0.0.1:9/hooks")
    await stack.client.patch(f"/webhook_endpoints/{endpoint['id']}", json={"status": "disabled"},
                             headers=stack.workspace.live)
    response = await post(stack, f"/webhook_endpoints/{endpoint['id']}/test")
    assert_error(response, 409, "invalid_status_transition", "status")


async def test_recover_requeues_what_failed_during_an_outage_once(stack):
    receiver = stack.receiver()
    port = receiver.port
    receiver.stop()  # the receiver is down: every attempt is refused
    endpoint = await stack.endpoint(f"http://127.0.0.1:{port}/hooks")
    started = await stack.pool.fetchval("select clock_timestamp()")
    stack.start_worker()
    await stack.customers(3)

    async def failed() -> int:
        return await stack.pool.fetchval(
            "select count(*) from webhook_deliveries where endpoint_id = $1 and status = 'failed'",
            endpoint["id"])

    for _ in range(600):
        if await failed() == 3:
            break
        await asyncio.sleep(0.05)
    assert await failed() == 3
    back = Receiver(port=port).start()
    stack.receivers.append(back)
    path = f"/webhook_endpoints/{endpoint['id']}/recover"

    later = await stack.pool.fetchval("select clock_timestamp()")
    nothing = await post(stack, path, {"since": later.isoformat()})
    assert nothing.json()["deliveries_queued"] == 0

    first = await post(stack, path, {"since": started.isoformat()})
    second = await post(stack, path, {"since": started.isoformat()})
    assert first.status_code == 200, first.text
    assert first.json()["object"] == "webhook_recovery"
    assert (first.json()["deliveries_queued"], second.json()["deliveries_queued"]) == (3, 0)
    expected = await stack.event_ids()
    await wait_until(lambda: set(back.event_ids()) >= expected, 30, "the recovered events")
    deliveries = await _deliveries(stack, endpoint)
    assert [d["status"] for d in deliveries] == ["succeeded"] * 3
    assert all(d["attempts"][-1]["status_code"] == 200 for d in deliveries)
    await asyncio.sleep(0.5)
    assert max(Counter(back.event_ids()).values()) == 1

    assert_error(await post(stack, path, {"since": "yesterday"}), 400, "parameter_invalid", "since")
    assert_error(await post(stack, path), 400, "parameter_missing", "since")


async def test_endpoint_failing_too_long_is_disabled_and_resumes_when_enabled(stack):
    healthy = False

    def answer(count: int):
        return (200, {}, b"ok", 0.0) if healthy else (500, {}, b"down", 0.0)

    receiver = stack.receiver(answer)
    watcher = stack.receiver()
    endpoint = await stack.endpoint(receiver.url, ["customer.*"])
    await stack.endpoint(watcher.url, ["webhook_endpoint.disabled"])
    # attempts every 0.3 s for 6 s: the endpoint is disabled while its deliveries are owed
    stack.start_worker(PIVOTAL_WEBHOOK_DISABLE_AFTER="1",
                       PIVOTAL_WEBHOOK_RETRY_SCHEDULE=",".join(["0.3"] * 20))
    await stack.customers(2)
    url = f"/webhook_endpoints/{endpoint['id']}"

    async def status() -> str:
        return (await stack.client.get(url, headers=stack.workspace.live)).json()["status"]

    for _ in range(600):
        if await status() == "disabled":
            break
        await asyncio.sleep(0.05)
    assert await status() == "disabled"

    feed = await stack.client.get("/events", params={"type": "webhook_endpoint.disabled"},
                                  headers=stack.workspace.live)
    [event] = feed.json()["data"]
    assert event["data"]["object"]["id"] == endpoint["id"]
    assert event["data"]["object"]["status"] == "disabled"
    await wait_until(lambda: watcher.received, 20, "the disabled event at its subscriber")
    assert watcher.received[0].event["id"] == event["id"]

    owed = await _pending(stack, endpoint)
    assert owed == 2
    attempts = len(receiver.received)
    await asyncio.sleep(1.0)  # nothing is attempted while disabled
    assert len(receiver.received) == attempts

    healthy = True
    enabled = await stack.client.patch(url, json={"status": "enabled"}, headers=stack.workspace.live)
    assert enabled.json()["status"] == "enabled"
    expected = await stack.event_ids()
    await wait_until(
        lambda: expected <= {r.headers["webhook-id"] for r in receiver.received[attempts:]},
        20, "the owed deliveries after re-enabling")
    for _ in range(400):  # the receiver has them; the worker records that a moment later
        if await _pending(stack, endpoint) == 0:
            break
        await asyncio.sleep(0.05)
    assert await _pending(stack, endpoint) == 0
    assert await status() == "enabled"


async def _pending(stack, endpoint) -> int:
    return await stack.pool.fetchval(
        "select count(*) from webhook_deliveries where endpoint_id = $1 and status = 'pending'",
        endpoint["id"])


async def test_slow_endpoint_holds_only_its_own_slots(stack):
    def slow(count: int):
        return 200, {}, b"ok", 1.0

    slow_receiver, fast_receiver = stack.receiver(slow), stack.receiver()
    slow_endpoint = await stack.endpoint(slow_receiver.url)
    await stack.endpoint(fast_receiver.url)
    stack.start_worker(PIVOTAL_WEBHOOK_ENDPOINT_CONCURRENCY="2", PIVOTAL_WEBHOOK_TIMEOUT="5")
    await stack.customers(12)
    expected = await stack.event_ids()
    await wait_until(lambda: set(fast_receiver.event_ids()) >= expected, 30,
                     "every event at the fast endpoint")
    # the slow endpoint still owes most of its twelve: the fast one never waited for it
    assert await _pending(stack, slow_endpoint) > 0
    await wait_until(lambda: set(slow_receiver.event_ids()) >= expected, 60,
                     "every event at the slow endpoint")
    assert slow_receiver.max_in_flight == 2
