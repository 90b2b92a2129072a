"""Webhook endpoints through the API: the secret shown once, filters validated, URLs checked."""

from __future__ import annotations

import secrets

import pytest
from litestar.testing import AsyncTestClient

from app.main import create_app
from app.settings import Settings, SettingsError
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
            json={"url": "https://93.184.215.14/hook", "enabled_events": ["*"],
                  "status": "disabled"},
            headers=workspace.live,
        )
        assert patched_target.status_code == 201
        patched = await client.patch(
            f"/webhook_endpoints/{patched_target.json()['id']}", json={"url": url},
            headers=workspace.live,
        )
        assert_error(patched, 400, "parameter_invalid", "url")


@pytest.fixture
async def production(database_url, servers):
    """The API in production mode. Endpoints it creates are disabled and no worker runs, so
    nothing is ever delivered to the addresses these tests name."""
    app = create_app(make_settings(database_url, servers.redis_url, env="production"))
    async with AsyncTestClient(app=app, base_url="http://testserver/api/v1") as client:
        yield client


async def create_disabled(client, auth, url: str):
    body = {"url": url, "enabled_events": ["*"], "status": "disabled"}
    return await client.post("/webhook_endpoints", json=body, headers=auth)


@pytest.mark.parametrize(
    "url",
    [
        "https://100.64.0.1/x",  # shared address space (CGNAT)
        "https://100.100.100.200/x",  # a cloud metadata service inside it
        "https://[fd00:ec2::254]/x",  # a cloud metadata service, unique-local
        "https://192.88.99.1/x",  # 6to4 relay anycast
        "https://192.0.0.192/x",  # IETF protocol assignments
        "https://224.0.0.1/x",  # multicast
        "https://[fec0::1]/x",  # IPv6 site-local
        "https://[ff0e::1]/x",  # IPv6 multicast
        "https://[2002:7f00:1::]/x",  # 6to4 of 127.0.0.1
        "https://[2002:a9fe:a9fe::]/x",  # 6to4 of 169.254.169.254
        "https://[::ffff:127.0.0.1]/x",  # IPv4-mapped loopback
        "https://[::ffff:a9fe:a9fe]/x",  # IPv4-mapped metadata address
        "https://[::127.0.0.1]/x",  # IPv4-compatible loopback
        "https://[64:ff9b::7f00:1]/x",  # NAT64 of 127.0.0.1
        "https://[64:ff9b::a00:1]/x",  # NAT64 of 10.0.0.1
        "https://[64:ff9b:1::5db8:d70e]/x",  # local-use NAT64
        "https://[2001:0:4136:e378:8000:63bf:80ff:fffe]/x",  # Teredo, client 127.0.0.1
        "https://:@93.184.215.14/x",  # empty credentials
        "https://user@93.184.215.14/x",
        "https://:secret@93.184.215.14/x",
        "https://93.184.215.14:0/x",
        "https://93.184.215.14:22/x",
        "https://93.184.215.14:5432/x",
        "https://93.184.215.14\\@127.0.0.1/x",
    ],
)
async def test_production_accepts_only_globally_routable_addresses(production, workspace, url):
    assert_error(await create_disabled(production, workspace.live, url), 400, "parameter_invalid",
                 "url")
    target = await create_disabled(production, workspace.live, "https://93.184.215.14/hook")
    assert target.status_code == 201, target.text
    patched = await production.patch(
        f"/webhook_endpoints/{target.json()['id']}", json={"url": url}, headers=workspace.live
    )
    assert_error(patched, 400, "parameter_invalid", "url")


@pytest.mark.parametrize(
    "url",
    [
        "https://93.184.215.14/x",
        "https://93.184.215.14:443/x",
        "https://93.184.215.14:80/x",
        "https://[2606:4700::1]/x",
        "https://[2002:5db8:d70e::1]/x",  # 6to4 of 93.184.215.14
        "https://[::ffff:93.184.215.14]/x",  # IPv4-mapped public address
    ],
)
async def test_production_accepts_public_addresses_on_allowed_ports(production, workspace, url):
    response = await create_disabled(production, workspace.live, url)
    assert response.status_code == 201, response.text


async def test_allowed_ports_are_configurable(database_url, servers, workspace):
    settings = make_settings(database_url, servers.redis_url, env="production",
                             webhook_allowed_ports=(8443,))
    async with AsyncTestClient(app=create_app(settings), base_url="http://testserver/api/v1") as c:
        accepted = await create_disabled(c, workspace.live, "https://93.184.215.14:8443/x")
        assert accepted.status_code == 201, accepted.text
        refused = await create_disabled(c, workspace.live, "https://93.184.215.14/x")
        assert_error(refused, 400, "parameter_invalid", "url")


def test_allowed_ports_are_read_from_the_environment():
    env = {"DATABASE_URL": "postgresql://db", "REDIS_URL": "redis://r"}
    assert Settings.from_env(env).webhook_allowed_ports == (443, 80)
    env["PIVOTAL_WEBHOOK_ALLOWED_PORTS"] = "443, 8443"
    assert Settings.from_env(env).webhook_allowed_ports == (443, 8443)
    for bad in ("https", "0", "70000", ","):
        env["PIVOTAL_WEBHOOK_ALLOWED_PORTS"] = bad
        with pytest.raises(SettingsError):
            Settings.from_env(env)


@pytest.mark.parametrize("url", ["https://:@hooks.example.com/x", "http://:@127.0.0.1:9/x",
                                 "http://u@127.0.0.1:9/x", "http://127.0.0.1:0/x"])
async def test_credentials_and_port_0_are_refused_outside_production_too(client, auth, url):
    assert_error(await create_disabled(client, auth, url), 400, "parameter_invalid", "url")


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
