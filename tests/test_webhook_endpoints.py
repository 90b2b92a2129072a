"""Webhook endpoints through the API: the secret shown once, filters validated, URLs checked."""

from __future__ import annotations

import secrets

import pytest
from litestar.testing import AsyncTestClient

from app.main import create_app
from tests.conftest import make_settings
from tests.test_errors import assert_error


async def create_endpoint(client, auth, **fields) -> dict:
    body = {"url": "https://hooks.example.com/pivotal", "enabled_events": ["*"], **fields}
    response = await client.post("/webhook_endpoints", json=body, headers=auth)
    assert response.status_code == 201, response.text
    return response.json()


async def test_secret_is_returned_only_by_the_create_call(client, auth):
    endpoint = await create_endpoint(client, auth, description="CRM sync")
    assert endpoint["object"] == "webhook_endpoint"
    assert endpoint["secret"].startswith("whsec_")
    assert endpoint["status"] == "enabled"
    assert endpoint["display_id"] == 1
    fetched = (await client.get(f"/webhook_endpoints/{endpoint['id']}", headers=auth)).json()
    assert "secret" not in fetched
    assert fetched == {k: v for k, v in endpoint.items() if k != "secret"}
    listed = (await client.get("/webhook_endpoints", headers=auth)).json()
    assert all("secret" not in item for item in listed["data"])


async def test_enabled_events_accept_types_families_and_star(client, auth):
    endpoint = await create_endpoint(
        client, auth, enabled_events=["customer.created", "onboarding.*", "customer.created"]
    )
    assert endpoint["enabled_events"] == ["customer.created", "onboarding.*"]
    for bad in (["customer.exploded"], [], ["*", 5]):
        response = await client.post(
            "/webhook_endpoints",
            json={"url": "https://x.example.com", "enabled_events": bad},
            headers=auth,
        )
        assert_error(response, 400, "parameter_invalid", "enabled_events")


async def test_patch_and_delete_endpoint(client, auth):
    endpoint = await create_endpoint(client, auth)
    patched = await client.patch(
        f"/webhook_endpoints/{endpoint['display_id']}",
        json={"status": "disabled", "enabled_events": ["contact.*"], "metadata": {"team": "cs"}},
        headers=auth,
    )
    assert patched.status_code == 200
    assert patched.json()["status"] == "disabled"
    assert patched.json()["enabled_events"] == ["contact.*"]
    deleted = await client.delete(f"/webhook_endpoints/{endpoint['id']}", headers=auth)
    assert deleted.json()["deleted"] is True
    gone = await client.get(f"/webhook_endpoints/{endpoint['id']}", headers=auth)
    assert_error(gone, 404, "resource_not_found")


async def test_endpoint_writes_emit_no_events(client, auth):
    await create_endpoint(client, auth)
    events = (await client.get("/events", headers=auth)).json()
    assert events["data"] == []


@pytest.mark.parametrize("url", ["ftp://x.example.com", "not a url", "https://user:pw@x.io/"])
async def test_malformed_urls_are_refused(client, auth, url):
    response = await client.post(
        "/webhook_endpoints", json={"url": url, "enabled_events": ["*"]}, headers=auth
    )
    assert_error(response, 400, "parameter_invalid", "url")


@pytest.mark.parametrize(
    "url",
    [
        "http://hooks.example.com/x",
        "https://127.0.0.1/x",
        "https://localhost/x",
        "https://10.1.2.3/x",
        "https://192.168.0.10/x",
        "https://169.254.169.254/latest/meta-data",
        "https://[::1]/x",
        "https://metadata.google.internal/x",
    ],
)
async def test_production_refuses_http_and_internal_addresses(database_url, servers, workspace, url):
    app = create_app(make_settings(database_url, servers.redis_url, env="production"))
    async with AsyncTestClient(app=app, base_url="http://testserver/api/v1") as client:
        response = await client.post(
            "/webhook_endpoints", json={"url": url, "enabled_events": ["*"]},
            headers=workspace.live,
        )
        assert_error(response, 400, "parameter_invalid", "url")
        patched_target = await client.post(
            "/webhook_endpoints",
            json={"url": "https://93.184.215.14/hook", "enabled_events": ["*"]},
            headers=workspace.live,
        )
        assert patched_target.status_code == 201
        patched = await client.patch(
            f"/webhook_endpoints/{patched_target.json()['id']}", json={"url": url},
            headers=workspace.live,
        )
        assert_error(patched, 400, "parameter_invalid", "url")


async def test_http_loopback_is_allowed_outside_production(client, auth):
    endpoint = await create_endpoint(client, auth, url="http://127.0.0.1:9/hook")
    assert endpoint["url"] == "http://127.0.0.1:9/hook"


async def test_redeliver_reaches_endpoints_created_after_the_event(client, auth):
    customer = (await client.post("/customers", json={"name": "R"}, headers=auth)).json()
    event = (await client.get("/events", headers=auth)).json()["data"][0]
    assert event["data"]["object"]["id"] == customer["id"]
    endpoint = await create_endpoint(client, auth, enabled_events=["customer.*"])
    await create_endpoint(client, auth, enabled_events=["contact.*"])
    response = await client.post(f"/events/{event['display_id']}/redeliver", headers=auth)
    assert response.status_code == 200
    deliveries = response.json()["data"]
    assert [(d["webhook_endpoint"], d["status"], d["redelivery"]) for d in deliveries] == [
        (endpoint["id"], "pending", True)
    ]
    listed = await client.get(f"/webhook_endpoints/{endpoint['id']}/deliveries", headers=auth)
    assert [d["id"] for d in listed.json()["data"]] == [deliveries[0]["id"]]
    missing = await client.post("/events/nope/redeliver", headers=auth)
    assert missing.status_code == 404


async def test_an_idempotent_replay_of_a_create_returns_no_secret_and_none_is_stored(
    client, workspace, admin
):
    headers = {**workspace.live, "Idempotency-Key": secrets.token_hex(8)}
    body = {"url": "https://hooks.example.com/replayed", "enabled_events": ["*"],
            "status": "disabled"}
    first = await client.post("/webhook_endpoints", json=body, headers=headers)
    assert first.status_code == 201 and first.json()["secret"].startswith("whsec_")
    replay = await client.post("/webhook_endpoints", json=body, headers=headers)
    assert replay.status_code == 201
    assert replay.headers["idempotent-replayed"] == "true"
    assert replay.json() == {k: v for k, v in first.json().items() if k != "secret"}
    stored = await admin.fetch(
        "select response from idempotency_keys where workspace_id = $1", workspace.id
    )
    assert len(stored) == 1
    assert b"whsec_" not in stored[0]["response"]
    assert first.json()["secret"].encode() not in stored[0]["response"]


async def test_openapi_says_a_replayed_create_carries_no_secret(client):
    document = (await client.get("/openapi.json")).json()
    created = document["paths"]["/webhook_endpoints"]["post"]["responses"]["201"]
    assert "replay" in created["description"] and "secret" in created["description"]
    schema = document["components"]["schemas"]["WebhookEndpointWithSecret"]
    assert "secret" in schema["properties"] and "secret" not in schema["required"]
