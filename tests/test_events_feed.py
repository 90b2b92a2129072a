"""The change feed: GET /events, its filters, and a gap-free ascending tail."""

from __future__ import annotations

from app.core.db import create_pool
from app.core.principal import Principal
from app.customers.resource import customers
from app.customers.schemas import CustomerCreate
from app.resources import writes
from tests.test_errors import assert_error


async def tail(client, auth, cursor: str | None) -> tuple[list[dict], str | None]:
    """Read the feed ascending from a saved cursor to its current end; return the new cursor."""
    events: list[dict] = []
    while True:
        params = {"order": "asc", "limit": "3"} | ({"cursor": cursor} if cursor else {})
        page = (await client.get("/events", params=params, headers=auth)).json()
        events += page["data"]
        cursor = page["next_cursor"] or cursor
        if not page["has_more"]:
            return events, cursor


async def test_event_object_shape_and_retrieval(client, auth):
    customer = (await client.post("/customers", json={"name": "E"}, headers=auth)).json()
    page = (await client.get("/events", headers=auth)).json()
    event = page["data"][0]
    assert list(event)[:3] == ["object", "id", "display_id"]
    assert event["object"] == "event"
    assert event["type"] == "customer.created"
    assert event["livemode"] is True
    assert event["data"] == {"object": customer}
    # the stored event keeps the object's bytes: it still starts with object, id, display_id
    assert list(event["data"]["object"])[:3] == ["object", "id", "display_id"]
    for reference in (event["id"], str(event["display_id"])):
        fetched = await client.get(f"/events/{reference}", headers=auth)
        assert fetched.json() == event
    assert_error(await client.get("/events/nope", headers=auth), 404, "resource_not_found")


async def test_ascending_last_page_still_names_its_position(client, auth):
    await client.post("/customers", json={"name": "P"}, headers=auth)
    page = (await client.get("/events?order=asc", headers=auth)).json()
    assert page["has_more"] is False
    assert page["next_cursor"] is not None
    after = (await client.get(f"/events?order=asc&cursor={page['next_cursor']}", headers=auth))
    assert after.json() == {"object": "list", "data": [], "has_more": False, "next_cursor": None}
    newest_first = (await client.get("/events", headers=auth)).json()
    assert newest_first["next_cursor"] is None


async def test_type_filter_matches_exactly_or_by_family(client, auth):
    customer = (await client.post("/customers", json={"name": "F"}, headers=auth)).json()
    await client.patch(f"/customers/{customer['id']}", json={"name": "G"}, headers=auth)
    exact = (await client.get("/events?type=customer.updated", headers=auth)).json()
    assert [e["type"] for e in exact["data"]] == ["customer.updated"]
    family = (await client.get("/events?type=customer.*", headers=auth)).json()
    assert [e["type"] for e in family["data"]] == ["customer.updated", "customer.created"]
    none = (await client.get("/events?type=contact.*", headers=auth)).json()
    assert none["data"] == []
    assert_error(await client.get("/events?type=customer.exploded", headers=auth), 400,
                 "parameter_invalid", "type")


async def test_ascending_tail_never_passes_an_event_that_may_still_commit(
    client, workspace, settings
):
    auth = workspace.live
    principal = Principal(workspace.live_key_id, workspace.id, True)
    early = await client.post("/customers", json={"name": "before"}, headers=auth)
    seen, cursor = await tail(client, auth, None)
    assert [e["data"]["object"]["id"] for e in seen] == [early.json()["id"]]

    # the held transaction runs on the service's own kind of connection, as a slow API write
    service_pool = await create_pool(settings)
    async with service_pool.acquire() as slow:
        transaction = slow.transaction()
        await transaction.start()
        try:
            held = await writes.create_object(slow, customers, principal, CustomerCreate(name="slow"))
            later = (await client.post("/customers", json={"name": "fast"}, headers=auth)).json()
            during, cursor_during = await tail(client, auth, cursor)
            # the committed later event must wait until the older, open one is settled
            assert during == []
        finally:
            await transaction.commit()

    await service_pool.close()
    after, _ = await tail(client, auth, cursor_during)
    assert [e["data"]["object"]["id"] for e in after] == [held.id, later["id"]]


async def test_other_sessions_open_transactions_do_not_hold_the_feed_back(client, auth, admin):
    """A backup or a BI query holding a transaction open is not a writer of events."""
    async with admin.acquire() as reader, reader.transaction():
        await reader.fetchval("select count(*) from events")
        created = (await client.post("/customers", json={"name": "now"}, headers=auth)).json()
        seen, _ = await tail(client, auth, None)
        assert created["id"] in [e["data"]["object"]["id"] for e in seen]
