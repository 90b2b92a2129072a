"""examples/closed_won.py: a CRM retrying its deal-won webhook, concurrently too, makes one
customer, one primary contact and one onboarding."""

from __future__ import annotations

from concurrent.futures import ThreadPoolExecutor

import httpx
import pytest

from devtools.devstack import free_port
from tests.sdk.examples.running import Example

PAYLOAD = {
    "deal": {"id": "8812", "name": "Acme - Enterprise", "owner_email": "sam@seller.example",
             "go_live_date": "2026-07-01"},
    "company": {"id": "9000", "name": "Acme", "domain": "acme.example"},
    "contact": {"id": "501", "email": "ada@acme.example", "first_name": "Ada",
                "last_name": "Lovelace", "title": "CTO"},
}


@pytest.fixture
def handler(api, ws):
    port = free_port()
    app = Example("closed_won.py", "--port", str(port), env=api.env(ws))
    app.wait_for(lambda lines: any("listening" in line for line in lines), what="listening")
    yield f"http://127.0.0.1:{port}/crm/deal-won"
    app.stop()


def _send(url: str) -> httpx.Response:
    return httpx.post(url, json=PAYLOAD, timeout=60)


def test_the_same_webhook_three_times_concurrently_then_again_makes_one_of_each(handler, pv):
    with ThreadPoolExecutor(3) as pool:
        answers = list(pool.map(lambda _: _send(handler), range(3)))
    answers.append(_send(handler))  # the CRM retrying later
    assert [a.status_code for a in answers] == [200] * 4, [a.text for a in answers]
    made = answers[0].json()
    assert all(a.json() == made for a in answers)

    [customer] = pv.customers.list().data
    [contact] = pv.contacts.list().data
    [onboarding] = pv.onboardings.list().data
    assert made == {"customer": customer.id, "contact": contact.id, "onboarding": onboarding.id}
    assert (customer.external_id, customer.domain, customer.primary_contact) == (
        "9000", "acme.example", contact.id)
    assert (contact.name, contact.is_primary, contact.customer) == ("Ada Lovelace", True, customer.id)
    assert (onboarding.external_id, onboarding.target_date, onboarding.customer) == (
        "8812", "2026-07-01", customer.id)
    created = [e.type for e in pv.events.list(limit=100) if e.type.endswith(".created")]
    assert sorted(created) == ["contact.created", "customer.created", "onboarding.created"]


def test_a_customer_a_sync_made_before_is_used_not_duplicated(handler, pv):
    existing = pv.customers.create(name="Acme", external_id="9000")
    answer = _send(handler)
    assert answer.status_code == 200, answer.text
    assert answer.json()["customer"] == existing.id
    assert [c.id for c in pv.customers.list()] == [existing.id]
    assert pv.customers.retrieve(existing.id).primary_contact == answer.json()["contact"]


def test_a_payload_that_is_not_a_deal_is_refused(handler):
    answer = httpx.post(handler, json={"deal": {}}, timeout=30)
    assert answer.status_code == 400
