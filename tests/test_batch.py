"""Batch upsert (SPEC §7): POST /<resource>/batch matched on external_id."""

from __future__ import annotations

import asyncio

import pytest
from litestar.testing import AsyncTestClient

from app.main import create_app
from tests.conftest import make_settings


async def batch(client, auth, path, items, **headers):
    response = await client.post(f"/{path}/batch", json={"items": items},
                                 headers={**auth, **headers})
    assert response.status_code == 200, response.text
    body = response.json()
    assert body["object"] == "batch"
    assert [r["index"] for r in body["data"]] == list(range(len(items)))
    return body["data"]


async def events_of(client, auth, object_id):
    page = (await client.get("/events", params={"limit": 100}, headers=auth)).json()
    return [e["type"] for e in reversed(page["data"])
            if e["data"]["object"]["id"] == object_id]


async def test_items_are_created_then_updated_or_unchanged_by_external_id(client, auth):
    first = await batch(client, auth, "customers", [
        {"name": "Acme", "external_id": "hs-1", "domain": "acme.com"},
        {"name": "Globex", "external_id": "hs-2"},
        {"name": "No external id"},
    ])
    assert [r["result"] for r in first] == ["created", "created", "created"]
    acme = first[0]["data"]
    assert acme["object"] == "customer" and acme["domain"] == "acme.com"

    second = await batch(client, auth, "customers", [
        {"name": "Acme", "external_id": "hs-1", "domain": "acme.com"},
        {"name": "Globex Corp", "external_id": "hs-2", "metadata": {"tier": "gold"}},
    ])
    assert [r["result"] for r in second] == ["unchanged", "updated"]
    assert second[0]["data"] == acme
    globex = second[1]["data"]
    assert globex["id"] == first[1]["data"]["id"]
    assert globex["name"] == "Globex Corp" and globex["metadata"] == {"tier": "gold"}
    assert await events_of(client, auth, acme["id"]) == ["customer.created"]
    assert await events_of(client, auth, globex["id"]) == ["customer.created", "customer.updated"]
    updated = (await client.get("/events", params={"type": "customer.updated"},
                                headers=auth)).json()["data"][0]
    assert updated["data"]["previous_attributes"] == {"name": "Globex", "metadata": {}}


async def test_absent_fields_are_untouched_and_metadata_merges(client, auth):
    [created] = await batch(client, auth, "customers", [
        {"name": "Acme", "external_id": "hs-9", "lifecycle_stage": "active",
         "metadata": {"a": "1", "b": "2"}}])
    [updated] = await batch(client, auth, "customers", [
        {"name": "Acme", "external_id": "hs-9", "metadata": {"b": None, "c": "3"}}])
    assert updated["result"] == "updated"
    assert updated["data"]["lifecycle_stage"] == "active"  # absent: untouched, not the default
    assert updated["data"]["metadata"] == {"a": "1", "c": "3"}
    assert updated["data"]["id"] == created["data"]["id"]


async def test_the_same_external_id_twice_updates_what_the_first_created(client, auth):
    results = await batch(client, auth, "customers", [
        {"name": "First", "external_id": "dup"}, {"name": "Second", "external_id": "dup"}])
    assert [r["result"] for r in results] == ["created", "updated"]
    assert results[1]["data"]["id"] == results[0]["data"]["id"]
    assert results[1]["data"]["name"] == "Second"
    page = (await client.get("/customers", params={"external_id": "dup"}, headers=auth)).json()
    assert len(page["data"]) == 1


async def test_a_failing_item_writes_nothing_and_stops_no_other(client, auth):
    results = await batch(client, auth, "customers", [
        {"name": "Good", "external_id": "ok-1"},
        {"name": "Bad", "domain": "not a domain"},
        "not an object",
        {"name": "Typo", "nmae": "x"},
        {"external_id": "no-name"},
        {"name": "Also good"},
    ])
    assert [r["result"] for r in results] == [
        "created", "error", "error", "error", "error", "created"]
    errors = [r["error"] for r in results if r["result"] == "error"]
    assert [(e["code"], e.get("field")) for e in errors] == [
        ("parameter_invalid", "items.1.domain"),
        ("parameter_invalid", "items.2"),
        ("parameter_unknown", "items.3.nmae"),
        ("parameter_missing", "items.4.name"),
    ]
    assert all(e["type"] == "invalid_request_error" for e in errors)
    page = (await client.get("/customers", params={"limit": 100}, headers=auth)).json()
    assert sorted(c["name"] for c in page["data"]) == ["Also good", "Good"]


@pytest.mark.parametrize("count", [0, 101])
async def test_a_batch_of_zero_or_more_than_100_items_is_400_on_items(client, auth, count):
    items = [{"name": f"c{i}"} for i in range(count)]
    response = await client.post("/customers/batch", json={"items": items}, headers=auth)
    assert response.status_code == 400
    assert response.json()["error"]["field"] == "items"


async def test_a_body_without_items_is_400(client, auth):
    response = await client.post("/customers/batch", json={}, headers=auth)
    assert response.status_code == 400
    assert response.json()["error"] == {
        "type": "invalid_request_error", "code": "parameter_missing",
        "message": "Missing required parameter: items", "field": "items"}


async def test_contacts_reference_customers_by_external_id(client, auth):
    [customer] = await batch(client, auth, "customers", [{"name": "Acme", "external_id": "co-1"}])
    customer_id = customer["data"]["id"]
    results = await batch(client, auth, "contacts", [
        {"customer_external_id": "co-1", "email": "ada@acme.com", "external_id": "ct-1"},
        {"customer_external_id": "co-404", "email": "bob@acme.com"},
        {"customer": customer_id, "customer_external_id": "co-1", "email": "cy@acme.com"},
        {"customer_external_id": "co-1", "email": "ADA@acme.com"},
        {"customer": customer["data"]["display_id"], "email": "dee@acme.com"},
    ])
    assert [r["result"] for r in results] == ["created", "error", "error", "error", "created"]
    assert results[0]["data"]["customer"] == customer_id
    assert results[1]["error"]["code"] == "resource_not_found"
    assert results[1]["error"]["field"] == "items.1.customer_external_id"
    assert results[2]["error"]["field"] == "items.2.customer_external_id"
    assert results[3]["error"]["code"] == "resource_already_exists"
    assert results[3]["error"]["field"] == "items.3.email"
    assert results[0]["data"]["id"] in results[3]["error"]["message"]


async def test_an_immutable_customer_that_differs_is_an_item_error(client, auth):
    await batch(client, auth, "customers", [{"name": "A", "external_id": "a"},
                                            {"name": "B", "external_id": "b"}])
    await batch(client, auth, "onboardings", [
        {"customer_external_id": "a", "name": "Go-live", "external_id": "deal-1"}])
    [moved] = await batch(client, auth, "onboardings", [
        {"customer_external_id": "b", "name": "Go-live", "external_id": "deal-1"}])
    assert moved["result"] == "error"
    assert moved["error"]["field"] == "items.0.customer_external_id"
    [same] = await batch(client, auth, "onboardings", [
        {"customer_external_id": "a", "name": "Go-live", "external_id": "deal-1"}])
    assert same["result"] == "unchanged"


async def test_an_invalid_status_transition_is_an_item_error(client, auth):
    await batch(client, auth, "customers", [{"name": "A", "external_id": "a"}])
    [created] = await batch(client, auth, "onboardings", [
        {"customer_external_id": "a", "name": "Go", "external_id": "d", "status": "cancelled"}])
    results = await batch(client, auth, "onboardings", [
        {"customer_external_id": "a", "name": "Go", "external_id": "d", "status": "active"},
        {"customer_external_id": "a", "name": "Other", "external_id": "e"},
    ])
    assert [r["result"] for r in results] == ["error", "created"]
    assert results[0]["error"]["code"] == "invalid_status_transition"
    assert results[0]["error"]["type"] == "conflict_error"
    assert results[0]["error"]["field"] == "items.0.status"
    got = (await client.get(f"/onboardings/{created['data']['id']}", headers=auth)).json()
    assert got["status"] == "cancelled"


async def test_racing_batches_on_one_external_id_create_one_object(client, auth):
    async def send(name):
        return await client.post("/customers/batch", headers=auth, json={"items": [
            {"name": name, "external_id": "race-1"}, {"name": name, "external_id": "race-2"}]})

    responses = await asyncio.gather(*(send(f"n{i}") for i in range(6)))
    assert all(r.status_code == 200 for r in responses)
    results = [item["result"] for r in responses for item in r.json()["data"]]
    assert results.count("created") == 2
    assert "error" not in results
    for external_id in ("race-1", "race-2"):
        page = (await client.get("/customers", params={"external_id": external_id},
                                 headers=auth)).json()
        assert len(page["data"]) == 1


async def test_idempotency_key_replays_the_whole_batch(client, auth):
    items = [{"name": "Acme", "external_id": "idem-1"}]
    headers = {**auth, "Idempotency-Key": "batch-1"}
    first = await client.post("/customers/batch", json={"items": items}, headers=headers)
    again = await client.post("/customers/batch", json={"items": items}, headers=headers)
    assert again.headers["idempotent-replayed"] == "true"
    assert again.json() == first.json()
    assert first.json()["data"][0]["result"] == "created"


async def test_customer_external_id_in_single_creates_and_list_filters(client, auth):
    customer = (await client.post("/customers", json={"name": "Acme", "external_id": "x-1"},
                                  headers=auth)).json()
    contact = await client.post("/contacts", headers=auth, json={
        "customer_external_id": "x-1", "email": "ada@acme.com"})
    assert contact.status_code == 201, contact.text
    assert contact.json()["customer"] == customer["id"]
    onboarding = await client.post("/onboardings", headers=auth, json={
        "customer_external_id": "x-1", "name": "Go-live"})
    assert onboarding.json()["customer"] == customer["id"]
    for path in ("contacts", "onboardings"):
        page = (await client.get(f"/{path}", params={"customer_external_id": "x-1"},
                                 headers=auth)).json()
        assert [item["customer"] for item in page["data"]] == [customer["id"]]
        missing = await client.get(f"/{path}", params={"customer_external_id": "nope"},
                                   headers=auth)
        assert missing.status_code == 404
        assert missing.json()["error"]["field"] == "customer_external_id"


async def test_customer_external_id_errors_in_single_creates(client, auth):
    await client.post("/customers", json={"name": "Acme", "external_id": "y-1"}, headers=auth)
    unknown = await client.post("/contacts", headers=auth, json={
        "customer_external_id": "nope", "email": "a@b.co"})
    assert unknown.status_code == 404
    assert unknown.json()["error"]["field"] == "customer_external_id"
    both = await client.post("/contacts", headers=auth, json={
        "customer": 1, "customer_external_id": "y-1", "email": "a@b.co"})
    assert both.status_code == 400
    assert both.json()["error"]["field"] == "customer_external_id"
    neither = await client.post("/contacts", headers=auth, json={"email": "a@b.co"})
    assert neither.status_code == 400
    assert neither.json()["error"]["code"] == "parameter_missing"
    assert neither.json()["error"]["field"] == "customer"


async def test_customer_external_id_never_reaches_another_mode(client, workspace):
    await client.post("/customers", json={"name": "Live", "external_id": "m-1"},
                      headers=workspace.live)
    response = await client.post("/contacts", headers=workspace.test, json={
        "customer_external_id": "m-1", "email": "a@b.co"})
    assert response.status_code == 404


async def test_a_batched_status_change_sets_its_timestamp_and_keeps_the_others(client, auth, admin):
    await batch(client, auth, "customers", [{"name": "A", "external_id": "a"}])
    [created] = await batch(client, auth, "onboardings", [
        {"customer_external_id": "a", "name": "Go", "external_id": "d", "target_date": "2027-01-31"}])
    started = await admin.fetchval(
        "select started_at from onboardings where id = $1", created["data"]["id"])
    [done] = await batch(client, auth, "onboardings", [
        {"customer_external_id": "a", "name": "Go", "external_id": "d", "status": "completed"}])
    assert done["result"] == "updated"
    assert done["data"]["completed_at"] is not None
    assert done["data"]["target_date"] == "2027-01-31"
    row = await admin.fetchrow("select started_at, completed_at, target_date::text "
                               "from onboardings where id = $1", created["data"]["id"])
    assert row["started_at"] == started  # to the microsecond: untouched
    assert row["target_date"] == "2027-01-31"
    event = (await client.get("/events", params={"type": "onboarding.updated"},
                              headers=auth)).json()["data"][0]
    assert event["data"]["previous_attributes"] == {"status": "active", "completed_at": None}


async def test_a_batched_primary_contact_demotes_the_previous_one(client, auth):
    await batch(client, auth, "customers", [{"name": "A", "external_id": "a"}])
    results = await batch(client, auth, "contacts", [
        {"customer_external_id": "a", "email": "one@a.co", "external_id": "c1", "is_primary": True},
        {"customer_external_id": "a", "email": "two@a.co", "external_id": "c2", "is_primary": True},
    ])
    assert [r["result"] for r in results] == ["created", "created"]
    first = (await client.get(f"/contacts/{results[0]['data']['id']}", headers=auth)).json()
    assert first["is_primary"] is False
    customer = (await client.get("/customers", params={"external_id": "a"},
                                 headers=auth)).json()["data"][0]
    assert customer["primary_contact"] == results[1]["data"]["id"]
    types = [e["type"] for e in reversed((await client.get(
        "/events", params={"type": "contact.*"}, headers=auth)).json()["data"])]
    assert types == ["contact.created", "contact.updated", "contact.created"]


async def test_batch_events_are_those_of_the_single_calls_in_item_order(client, auth):
    await batch(client, auth, "customers", [{"name": "Old", "external_id": "k1"}])
    results = await batch(client, auth, "customers", [
        {"name": "New", "external_id": "k2"},
        {"name": "Renamed", "external_id": "k1"},
        {"name": "Newer", "external_id": "k3"},
    ])
    assert [r["result"] for r in results] == ["created", "updated", "created"]
    events = (await client.get("/events", params={"limit": 3}, headers=auth)).json()["data"]
    assert [(e["type"], e["data"]["object"]["name"]) for e in reversed(events)] == [
        ("customer.created", "New"), ("customer.updated", "Renamed"),
        ("customer.created", "Newer")]
    displayed = [r["data"]["display_id"] for r in results]
    assert displayed[0] < displayed[2]


async def test_a_batch_of_100_counts_as_one_request_against_the_rate_limit(database_url, servers,
                                                                          workspace):
    settings = make_settings(database_url, servers.redis_url, rate_limit_per_second=0.2,
                             rate_limit_burst=3)
    items = [{"name": f"c{i}", "external_id": f"rl-{i}"} for i in range(100)]
    async with AsyncTestClient(app=create_app(settings),
                               base_url="http://testserver/api/v1") as limited:
        remaining = []
        for _ in range(3):
            response = await limited.post("/customers/batch", json={"items": items},
                                          headers=workspace.live)
            assert response.status_code == 200
            remaining.append(response.headers["ratelimit-remaining"])
        refused = await limited.post("/customers/batch", json={"items": items},
                                     headers=workspace.live)
    assert remaining == ["2", "1", "0"]
    assert refused.status_code == 429


async def test_created_objects_and_their_events_are_the_bytes_a_get_answers(client, auth):
    """A batch's created objects, in its answer and in their events, are the same bytes,
    field for field, as the object served alone."""
    metadata = {"source": "hubspot", "quote \" and \\": "tab\t, ünïcode, \u2028", "z": "1"}
    customers = await batch(client, auth, "customers", [
        {"name": "Acme \"Intl\"", "domain": "acme.com", "external_id": "b1", "metadata": metadata},
        {"name": "Beta", "external_id": "b2", "lifecycle_stage": "at_risk"},
    ])
    contacts = await batch(client, auth, "contacts", [
        {"customer_external_id": "b1", "email": "Ann@Acme.com", "name": "Ann", "external_id": "c1"},
    ])
    onboardings = await batch(client, auth, "onboardings", [
        {"customer_external_id": "b2", "name": "Go-live", "external_id": "o1",
         "target_date": "2027-01-31"},
    ])
    feed = (await client.get("/events", params={"limit": 10}, headers=auth)).json()["data"]
    event_ids = {e["data"]["object"]["id"]: e["id"] for e in feed}
    for path, results in (("customers", customers), ("contacts", contacts),
                          ("onboardings", onboardings)):
        for result in results:
            assert result["result"] == "created"
            alone = (await client.get(f"/{path}/{result['data']['id']}", headers=auth)).content
            event = await client.get(f"/events/{event_ids[result['data']['id']]}", headers=auth)
            assert b'"data":{"object":' + alone + b"}" in event.content
    raw = await client.post("/customers/batch", headers=auth, json={"items": [
        {"name": "Gamma", "external_id": "b3", "metadata": {"k": "v"}}]})
    created = raw.json()["data"][0]["data"]
    alone = (await client.get(f"/customers/{created['id']}", headers=auth)).content
    assert b'"data":' + alone + b"}" in raw.content
