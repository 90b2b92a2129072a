"""pivotal.webhooks.verify on a real delivery: a real worker posting to a real receiver on
loopback, then the same delivery tampered with, stale, and signed twice."""

from __future__ import annotations

import time

import pivotal
import pytest
from pivotal import webhooks

from tests.conftest import new_workspace
from tests.receiver import Received, Receiver
from tests.test_webhook_delivery import wait_until


@pytest.fixture(scope="module")
async def delivery(api, worker):
    """One real delivery of a customer.created event: (what arrived, the secret, the customer)."""
    receiver = Receiver().start()
    try:
        workspace = await new_workspace(api.pool)
        with api.client(workspace) as client:
            endpoint = client.webhook_endpoints.create(url=receiver.url, enabled_events=["*"])
            customer = client.customers.create(name="Signed")
        await wait_until(lambda: receiver.received, 15, "the delivery")
        yield receiver.received[0], endpoint.secret, customer
    finally:
        receiver.stop()


def test_a_real_delivery_verifies_into_the_typed_event(delivery):
    received, secret, customer = delivery
    event = webhooks.verify(received.body, received.headers, secret)
    assert isinstance(event, pivotal.Event)
    assert (event.id, event.type) == (received.headers["webhook-id"], "customer.created")
    assert isinstance(event.data.object, pivotal.Customer)
    assert event.data.object == customer


def test_a_tampered_body_is_refused(delivery):
    received, secret, _ = delivery
    tampered = received.body.replace(b'"Signed"', b'"Forged"')
    assert tampered != received.body
    with pytest.raises(pivotal.WebhookVerificationError, match="signature"):
        webhooks.verify(tampered, received.headers, secret)


def test_another_secret_is_refused(delivery):
    received, _, _ = delivery
    other = "whsec_" + "A" * 43 + "="
    with pytest.raises(pivotal.WebhookVerificationError):
        webhooks.verify(received.body, received.headers, other)


def test_a_stale_or_future_timestamp_is_refused_as_a_replay(delivery):
    received, secret, _ = delivery
    sent_at = int(received.headers["webhook-timestamp"])
    assert abs(sent_at - time.time()) < 60
    webhooks.verify(received.body, received.headers, secret, now=sent_at + 299)
    for now in (sent_at + 301, sent_at - 301):
        with pytest.raises(pivotal.WebhookVerificationError, match="timestamp"):
            webhooks.verify(received.body, received.headers, secret, now=now)
    webhooks.verify(received.body, received.headers, secret, now=sent_at + 3000, tolerance=3600)


def test_one_matching_signature_among_several_is_enough(delivery):
    received, secret, _ = delivery
    real = received.headers["webhook-signature"]
    bogus = "v1," + "B" * 43 + "="
    for header in (f"{bogus} {real}", f"{real} {bogus}", f"v2,xyz {real}"):
        headers = {**received.headers, "webhook-signature": header}
        assert webhooks.verify(received.body, headers, secret).id == received.headers["webhook-id"]
    with pytest.raises(pivotal.WebhookVerificationError):
        webhooks.verify(received.body, {**received.headers, "webhook-signature": bogus}, secret)


def test_either_of_two_secrets_verifies_during_a_rotation(delivery):
    received, secret, _ = delivery
    retired = "whsec_" + "C" * 43 + "="
    assert webhooks.verify(received.body, received.headers, [retired, secret]).type == "customer.created"


def test_missing_headers_are_refused(delivery):
    received, secret, _ = delivery
    for name in ("webhook-id", "webhook-timestamp", "webhook-signature"):
        headers = {k: v for k, v in received.headers.items() if k.lower() != name}
        with pytest.raises(pivotal.WebhookVerificationError, match="missing"):
            webhooks.verify(received.body, headers, secret)


def test_sign_makes_headers_verify_accepts():
    secret = "whsec_" + "D" * 43 + "="
    body = Received({}, b'{"object":"event"}', 0).body
    headers = webhooks.sign(body, secret, "evt_1")
    with pytest.raises(pivotal.WebhookVerificationError, match="not an event"):
        webhooks.verify(body, headers, secret)  # signed right, but not an event
