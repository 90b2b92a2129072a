"""examples/webhook_receiver.py: real deliveries from a real worker are verified and handled
once; a forged request is refused."""

from __future__ import annotations

import time

import httpx
from pivotal import webhooks

from devtools.devstack import free_port
from tests.sdk.examples.running import Example


def test_deliveries_are_verified_and_handled_once_and_forgeries_refused(api, ws, pv, worker):
    port = free_port()
    url = f"http://127.0.0.1:{port}/pivotal/webhooks"
    endpoint = pv.webhook_endpoints.create(url=url, enabled_events=["customer.*"])
    receiver = Example("webhook_receiver.py", "--port", str(port), "--secret", endpoint.secret,
                       env=api.env(ws))
    try:
        receiver.wait_for(lambda lines: any("listening" in line for line in lines), what="listening")
        customer = pv.customers.create(name="Acme")
        receiver.wait_for(lambda lines: any(customer.id in line for line in lines), what="the event")
        [handled] = [line for line in receiver.lines if customer.id in line]
        event_type, event_id, object_id = handled.split()
        assert (event_type, object_id) == ("customer.created", customer.id)

        # the real event, signed with another secret
        body = httpx.get(f"{api.base_url}/events/{event_id}", headers=ws.live).content
        forged = webhooks.sign(body, "whsec_" + "A" * 43 + "=", event_id)
        assert httpx.post(url, content=body, headers=forged).status_code == 400

        # a redelivery of the same event is acknowledged, not handled twice
        pv.events.redeliver(event_id)
        deadline = time.monotonic() + 15
        while time.monotonic() < deadline:
            statuses = [d.status for d in pv.webhook_endpoints.deliveries(endpoint.id)]
            if statuses == ["succeeded", "succeeded"]:
                break
            time.sleep(0.05)
        assert statuses == ["succeeded", "succeeded"]
        assert [line for line in receiver.lines if event_id in line] == [handled]
        assert any(line.startswith("refused: no signature matches") for line in receiver.lines)
    finally:
        receiver.stop()
