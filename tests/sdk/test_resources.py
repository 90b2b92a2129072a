"""Every resource method of the synchronous client, against a real `pivotal serve`."""

from __future__ import annotations

import datetime

import pivotal
import pytest


def test_customer_create_retrieve_by_either_id_update_and_delete(pv):
    acme = pv.customers.create(name="Acme", domain="ACME.com", external_id="hs-1",
                               metadata={"plan": "pro"})
    assert isinstance(acme, pivotal.Customer)
    assert (acme.object, acme.name, acme.domain, acme.lifecycle_stage) == (
        "customer", "Acme", "acme.com", "onboarding")
    assert pv.customers.retrieve(acme.id) == acme
    assert pv.customers.retrieve(acme.display_id) == acme
    assert pv.customers.retrieve(str(acme.display_id)) == acme

    updated = pv.customers.update(acme.display_id, lifecycle_stage="active",
                                  metadata={"plan": None, "tier": "gold"})
    assert (updated.id, updated.lifecycle_stage, updated.metadata) == (
        acme.id, "active", {"tier": "gold"})

    deleted = pv.customers.delete(acme.id)
    assert deleted == pivotal.Deleted(id=acme.id, display_id=acme.display_id, deleted=True)
    with pytest.raises(pivotal.NotFoundError):
        pv.customers.retrieve(acme.id)


def test_customer_list_filters_are_keyword_arguments(pv):
    active = pv.customers.create(name="A", lifecycle_stage="active", domain="a.example")
    pv.customers.create(name="B")
    page = pv.customers.list(lifecycle_stage="active", limit=5)
    assert isinstance(page, pivotal.Page)
    assert [c.id for c in page.data] == [active.id]
    assert not page.has_more and page.next_cursor is None
    assert [c.id for c in pv.customers.list(domain="A.example")] == [active.id]
    assert [c.name for c in pv.customers.list(order="asc")] == ["A", "B"]


def test_contact_methods_and_the_primary_contact(pv):
    acme = pv.customers.create(name="Acme")
    ada = pv.contacts.create(customer=acme.display_id, email="ada@acme.com", name="Ada",
                             is_primary=True)
    assert isinstance(ada, pivotal.Contact)
    assert (ada.customer, ada.is_primary) == (acme.id, True)
    assert pv.customers.retrieve(acme.id).primary_contact == ada.id
    assert pv.contacts.retrieve(ada.display_id) == ada
    assert pv.contacts.update(ada.id, title="CTO").title == "CTO"
    bob = pv.contacts.create(customer=acme.id, email="bob@acme.com")
    assert [c.id for c in pv.contacts.list(customer=acme.display_id, is_primary=False)] == [bob.id]
    assert pv.contacts.delete(bob.id).deleted is True
    assert [c.id for c in pv.contacts.list(customer=acme.id)] == [ada.id]


def test_onboarding_methods_and_a_refused_status_change(pv):
    acme = pv.customers.create(name="Acme")
    go_live = pv.onboardings.create(customer=acme.id, name="Go-live",
                                    target_date=datetime.date(2027, 1, 31), external_id="deal-9")
    assert isinstance(go_live, pivotal.Onboarding)
    assert (go_live.status, go_live.target_date, go_live.customer) == (
        "active", "2027-01-31", acme.id)
    paused = pv.onboardings.update(go_live.display_id, status="paused")
    assert paused.status == "paused"
    assert [o.id for o in pv.onboardings.list(status="paused")] == [go_live.id]
    assert [o.id for o in pv.onboardings.list(external_id="deal-9")] == [go_live.id]
    cancelled = pv.onboardings.update(go_live.id, status="cancelled")
    assert cancelled.cancelled_at is not None
    with pytest.raises(pivotal.ConflictError) as raised:
        pv.onboardings.update(go_live.id, status="paused")
    assert raised.value.code == "invalid_status_transition"
    assert pv.onboardings.delete(go_live.id).id == go_live.id


def test_webhook_endpoint_methods_show_the_secret_only_on_create(pv):
    created = pv.webhook_endpoints.create(url="http://127.0.0.1:9/hooks",
                                          enabled_events=["customer.*"], description="CRM")
    assert isinstance(created, pivotal.WebhookEndpointWithSecret)
    assert created.secret.startswith("whsec_")
    read = pv.webhook_endpoints.retrieve(created.display_id)
    assert isinstance(read, pivotal.WebhookEndpoint) and not hasattr(read, "secret")
    assert pv.webhook_endpoints.update(created.id, status="disabled").status == "disabled"
    assert [e.id for e in pv.webhook_endpoints.list()] == [created.id]
    assert list(pv.webhook_endpoints.deliveries(created.id)) == []
    assert pv.webhook_endpoints.delete(created.id).deleted is True


def test_events_are_typed_by_the_object_they_carry(pv):
    acme = pv.customers.create(name="Acme")
    pv.customers.update(acme.id, name="Acme Inc")
    contact = pv.contacts.create(customer=acme.id, email="ada@acme.com")
    events = list(pv.events.list())[::-1]  # newest first: no wait for the feed's horizon
    assert [e.type for e in events] == ["customer.created", "customer.updated", "contact.created"]
    assert all(isinstance(e, pivotal.Event) for e in events)
    created, updated, contact_created = events
    assert isinstance(created.data.object, pivotal.Customer)
    assert created.data.object.name == "Acme" and created.data.previous_attributes is None
    assert updated.data.previous_attributes == {"name": "Acme"}
    assert contact_created.data.object == contact
    assert pv.events.retrieve(updated.id) == updated
    assert pv.events.retrieve(updated.display_id) == updated
    assert [e.id for e in pv.events.list(type="contact.*")] == [contact_created.id]


def test_request_reaches_endpoints_the_resources_do_not_cover(pv):
    assert pv.request("GET", "/health")["object"] == "health"
    acme = pv.customers.create(name="Acme")
    assert pv.request("GET", f"/customers/{acme.display_id}")["id"] == acme.id


def test_create_with_the_same_idempotency_key_answers_the_first_object(pv):
    first = pv.customers.create(name="Once", idempotency_key="signup-42")
    again = pv.customers.create(name="Once", idempotency_key="signup-42")
    assert again == first
    assert [c.id for c in pv.customers.list()] == [first.id]
    with pytest.raises(pivotal.ConflictError) as raised:
        pv.customers.create(name="Other", idempotency_key="signup-42")
    assert raised.value.code == "idempotency_key_reused"
