"""GET /event_types: every type the registry derives, each with a description and an example
built through the real structs, shaped exactly like the events the API writes."""

from __future__ import annotations

from app.registry import EVENT_KINDS, EVENT_TYPES
from tests.test_errors import assert_error


async def test_event_types_lists_every_registered_type_with_an_example(client, auth):
    response = await client.get("/event_types", headers=auth)
    assert response.status_code == 200
    page = response.json()
    assert (page["object"], page["has_more"], page["next_cursor"]) == ("list", False, None)
    assert [item["type"] for item in page["data"]] == list(EVENT_TYPES)
    assert {"webhook_endpoint.test", "webhook_endpoint.disabled"} <= set(EVENT_TYPES)
    for item in page["data"]:
        resource, _ = EVENT_KINDS[item["type"]]
        assert item["object"] == "event_type"
        assert item["description"]
        example = item["example"]
        assert (example["object"], example["type"], example["livemode"]) == (
            "event", item["type"], True)
        assert example["data"]["object"]["object"] == resource.object
        assert ("previous_attributes" in example["data"]) is item["type"].endswith(".updated")


async def test_event_type_examples_have_the_shape_of_real_events(client, auth, workspace):
    customer = (await client.post("/customers", json={"name": "Acme"}, headers=auth)).json()
    await client.patch(f"/customers/{customer['id']}", json={"name": "Acme Inc"}, headers=auth)
    real = {e["type"]: e for e in (await client.get("/events", headers=auth)).json()["data"]}
    examples = {item["type"]: item["example"]
                for item in (await client.get("/event_types", headers=auth)).json()["data"]}
    for kind in ("customer.created", "customer.updated"):
        assert examples[kind].keys() == real[kind].keys()
        assert examples[kind]["data"].keys() == real[kind]["data"].keys()
        assert examples[kind]["data"]["object"].keys() == real[kind]["data"]["object"].keys()
    previous = examples["customer.updated"]["data"]["previous_attributes"]
    updated = examples["customer.updated"]["data"]["object"]
    assert previous and all(updated[name] != value for name, value in previous.items())
    test_mode = (await client.get("/event_types", headers=workspace.test)).json()["data"]
    assert all(item["example"]["livemode"] is False for item in test_mode)


async def test_event_types_takes_no_parameters_and_needs_a_key(client, auth):
    assert_error(await client.get("/event_types?limit=5", headers=auth), 400,
                 "parameter_unknown", "limit")
    assert_error(await client.get("/event_types"), 401, "missing_api_key")


async def test_feed_filter_and_endpoint_subscriptions_accept_the_webhook_endpoint_types(
        client, auth):
    feed = await client.get("/events", params={"type": "webhook_endpoint.*"}, headers=auth)
    assert feed.status_code == 200
    created = await client.post(
        "/webhook_endpoints", headers=auth,
        json={"url": "https://hooks.example.com/x", "enabled_events": ["webhook_endpoint.disabled"]})
    assert created.status_code == 201
