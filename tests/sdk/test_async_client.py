"""pivotal.AsyncClient: the same calls awaited, pages and tails iterated with `async for`."""

from __future__ import annotations

import asyncio

import pivotal
import pytest


@pytest.fixture
async def apv(api, ws):
    async with api.async_client(ws) as client:
        yield client


async def test_async_customer_methods(apv):
    acme = await apv.customers.create(name="Acme", domain="acme.com")
    assert isinstance(acme, pivotal.Customer)
    assert await apv.customers.retrieve(acme.display_id) == acme
    assert (await apv.customers.update(acme.id, lifecycle_stage="at_risk")).lifecycle_stage == "at_risk"
    assert [c.id async for c in await apv.customers.list(lifecycle_stage="at_risk")] == [acme.id]
    assert (await apv.customers.delete(acme.id)).deleted is True
    with pytest.raises(pivotal.NotFoundError) as raised:
        await apv.customers.retrieve(acme.id)
    assert raised.value.request_id.startswith("req_")


async def test_async_contacts_onboardings_endpoints_and_events(apv):
    acme = await apv.customers.create(name="Acme")
    ada = await apv.contacts.create(customer=acme.id, email="ada@acme.com", is_primary=True)
    assert (await apv.contacts.retrieve(ada.id)).is_primary is True
    assert (await apv.contacts.update(ada.id, phone="+1 555")).phone == "+1 555"
    go = await apv.onboardings.create(customer=acme.display_id, name="Go-live")
    assert (await apv.onboardings.update(go.id, status="completed")).completed_at is not None
    assert [o.id async for o in await apv.onboardings.list(customer=acme.id)] == [go.id]
    endpoint = await apv.webhook_endpoints.create(url="http://127.0.0.1:9/", enabled_events=["*"])
    assert endpoint.secret.startswith("whsec_")
    assert [d async for d in await apv.webhook_endpoints.deliveries(endpoint.id)] == []
    assert (await apv.webhook_endpoints.delete(endpoint.id)).deleted is True
    events = [e async for e in await apv.events.list()][::-1]
    assert [e.type for e in events] == [
        "customer.created", "contact.created", "contact.updated", "onboarding.created",
        "onboarding.updated"]
    assert (await apv.events.retrieve(events[0].id)).data.object.id == acme.id
    assert (await apv.contacts.delete(ada.id)).id == ada.id
    assert (await apv.onboardings.delete(go.id)).id == go.id


async def test_async_pages_go_through_every_following_page(apv):
    created = await asyncio.gather(*(apv.customers.create(name=f"c{i}") for i in range(25)))
    page = await apv.customers.list(limit=4, order="asc")
    ids = [c.id async for c in page]
    assert sorted(ids) == sorted(c.id for c in created) and len(set(ids)) == 25
    assert len([p async for p in page.iter_pages()]) == 7


async def test_async_tail_resumes_from_a_saved_position(apv):
    first = [(await apv.customers.create(name=f"c{i}")).id for i in range(3)]
    # a following tail: an event shows once no older write can still commit
    tail = apv.events.tail(limit=2, poll_interval=0.02)
    seen = [(await asyncio.wait_for(tail.__anext__(), 10)).data.object.id for _ in range(3)]
    assert seen == first
    saved = tail.cursor
    later = (await apv.customers.create(name="later")).id
    resumed = apv.events.tail(saved, poll_interval=0.02)
    assert (await asyncio.wait_for(resumed.__anext__(), 10)).data.object.id == later
    assert [e async for e in apv.events.tail(resumed.cursor, follow=False)] == []


async def test_async_errors_are_typed(apv):
    with pytest.raises(pivotal.InvalidRequestError) as raised:
        await apv.customers.create(name="x" * 201)
    assert raised.value.field == "name"
    with pytest.raises(pivotal.ConflictError):
        go = await apv.onboardings.create(
            customer=(await apv.customers.create(name="A")).id, name="Go", status="cancelled")
        await apv.onboardings.update(go.id, status="paused")


async def test_async_upsert_many_takes_an_async_iterable(batch_api, ws):
    async def rows():
        for i in range(150):
            yield {"external_id": f"a-{i}", "name": f"A{i}"}

    progress = []
    async with batch_api.async_client(ws) as client:
        summary = await client.customers.upsert_many(rows(), on_progress=lambda s: progress.append(s.processed))
        assert (summary.created, summary.failed, progress) == (150, 0, [100, 150])
        again = await client.customers.upsert_many(rows())
    assert (again.created, again.updated, again.unchanged) == (0, 0, 150)
