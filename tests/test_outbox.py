"""Every write appends its event in the same transaction; no event without its write."""

from __future__ import annotations

import asyncio

import pytest

from app.core.db import after_commit, transaction
from app.core.principal import Principal
from app.customers.resource import customers
from app.customers.schemas import CustomerCreate
from app.resources import writes


async def events_for(admin, object_id: str) -> list:
    return await admin.fetch(
        "select type, data from events where object_id = $1 order by created_at", object_id
    )


async def test_create_update_delete_each_append_one_event(client, auth, admin):
    customer = (await client.post("/customers", json={"name": "Old"}, headers=auth)).json()
    await client.patch(f"/customers/{customer['id']}", json={"name": "New"}, headers=auth)
    await client.delete(f"/customers/{customer['id']}", headers=auth)
    events = await events_for(admin, customer["id"])
    assert [e["type"] for e in events] == [
        "customer.created", "customer.updated", "customer.deleted",
    ]
    assert events[0]["data"] == {"object": customer}
    assert events[1]["data"]["object"]["name"] == "New"
    assert events[1]["data"]["previous_attributes"] == {"name": "Old"}
    assert "previous_attributes" not in events[2]["data"]


async def test_patch_that_changes_nothing_emits_nothing(client, auth, admin):
    customer = (
        await client.post("/customers", json={"name": "Same", "metadata": {"a": "1"}}, headers=auth)
    ).json()
    response = await client.patch(
        f"/customers/{customer['id']}",
        json={"name": "Same", "metadata": {"a": "1", "gone": None}},
        headers=auth,
    )
    assert response.status_code == 200
    assert response.json() == customer
    assert [e["type"] for e in await events_for(admin, customer["id"])] == ["customer.created"]


async def test_rolled_back_write_leaves_neither_object_nor_event(workspace, admin):
    principal = Principal(workspace.live_key_id, workspace.id, True)
    created = None
    with pytest.raises(RuntimeError):
        async with admin.acquire() as conn, conn.transaction():
            created = await writes.create_object(
                conn, customers, principal, CustomerCreate(name="Doomed")
            )
            raise RuntimeError("the request failed after the write")
    assert created is not None
    assert await admin.fetchval("select count(*) from customers where id = $1", created.id) == 0
    assert await events_for(admin, created.id) == []


async def test_rejected_write_emits_no_event(client, auth, admin):
    await client.post("/customers", json={"name": "A", "external_id": "dup"}, headers=auth)
    before = await admin.fetchval("select count(*) from events")
    response = await client.post("/customers", json={"name": "B", "external_id": "dup"}, headers=auth)
    assert response.status_code == 409
    assert await admin.fetchval("select count(*) from events") == before


async def test_every_committed_customer_has_exactly_one_created_event(client, workspace, admin):
    async def create(i: int) -> None:
        await client.post("/customers", json={"name": f"c{i}"}, headers=workspace.live)

    await asyncio.gather(*(create(i) for i in range(100)))
    rows = await admin.fetch(
        """select c.id, count(e.id) as events from customers c
           left join events e on e.object_id = c.id and e.type = 'customer.created'
           where c.workspace_id = $1 group by c.id""",
        workspace.id,
    )
    assert len(rows) == 100
    assert all(row["events"] == 1 for row in rows)


async def test_display_ids_stay_unique_and_dense_under_concurrent_creates(client, workspace):
    async def create(i: int) -> int:
        response = await client.post("/customers", json={"name": f"c{i}"}, headers=workspace.live)
        return response.json()["display_id"]

    display_ids = await asyncio.gather(*(create(i) for i in range(60)))
    assert sorted(display_ids) == list(range(1, 61))


async def test_after_commit_runs_once_after_a_commit_and_never_after_a_rollback(admin):
    calls = []
    with pytest.raises(RuntimeError):
        async with transaction(admin):
            after_commit(calls.append)
            raise RuntimeError("rolled back")
    assert calls == []
    async with transaction(admin):
        after_commit(calls.append)
        after_commit(calls.append)
        assert calls == []  # not before the commit
    assert calls == [admin]


async def test_a_committed_write_wakes_the_webhook_worker(client, auth, admin):
    """The worker LISTENs on pivotal_events; a write's wake-up follows its commit (the sweep,
    the fallback, sends no notification)."""
    heard = asyncio.Event()

    def notified(*_: object) -> None:
        heard.set()

    async with admin.acquire() as listener:
        await listener.add_listener("pivotal_events", notified)
        try:
            response = await client.post("/customers", json={"name": "Wakes"}, headers=auth)
            assert response.status_code == 201
            await asyncio.wait_for(heard.wait(), 5)
        finally:
            await listener.remove_listener("pivotal_events", notified)
