"""API keys: bearer auth, modes, hashing and revocation."""

from __future__ import annotations

import asyncio
import hashlib

from tests.test_errors import assert_error


async def test_missing_key_is_401_missing_api_key(client):
    error = assert_error(await client.get("/customers"), 401, "missing_api_key")
    assert error["type"] == "authentication_error"


async def test_wrong_key_is_401_invalid_api_key(client, workspace):
    for header in (
        "Bearer pivotal_" + "x" * 40,
        "Bearer pivotal_test_" + "x" * 40,
        "Bearer sk_live_abc",
        "Basic " + workspace.live_key,
        "Bearer",
        # a live key's secret presented with the test prefix must not grant test mode
        "Bearer pivotal_test_" + workspace.live_key.removeprefix("pivotal_"),
    ):
        response = await client.get("/customers", headers={"Authorization": header})
        assert_error(response, 401, "invalid_api_key")


async def test_keys_have_prefixes_and_enough_randomness(workspace):
    assert workspace.test_key.startswith("pivotal_test_")
    assert workspace.live_key.startswith("pivotal_")
    assert not workspace.live_key.startswith("pivotal_test_")
    assert len(workspace.live_key.removeprefix("pivotal_")) >= 32
    assert workspace.live_key.removeprefix("pivotal_").isalnum()


async def test_keys_are_stored_only_as_hashes(admin, workspace):
    rows = await admin.fetch("select * from api_keys where workspace_id = $1", workspace.id)
    stored = " ".join(str(value) for row in rows for value in row.values())
    assert workspace.live_key not in stored and workspace.test_key not in stored
    digest = hashlib.sha256(workspace.live_key.encode()).digest()
    assert digest in [row["key_hash"] for row in rows]


async def test_a_workspace_never_sees_another_workspaces_customers(client, workspace, admin):
    from tests.conftest import new_workspace

    other = await new_workspace(admin)
    mine = (await client.post("/customers", json={"name": "Mine"}, headers=workspace.live)).json()
    for reference in (mine["id"], str(mine["display_id"])):
        assert (await client.get(f"/customers/{reference}", headers=other.live)).status_code == 404
    assert (await client.get("/customers", headers=other.live)).json()["data"] == []


async def test_revoked_key_stops_working_within_the_cache_window(client, workspace, admin):
    from app.workspaces.repo import revoke_key

    assert (await client.get("/customers", headers=workspace.live)).status_code == 200
    async with admin.acquire() as conn:
        await revoke_key(conn, workspace.live_key_id)
    # the test app trusts a resolved key for one second
    await asyncio.sleep(1.2)
    assert_error(await client.get("/customers", headers=workspace.live), 401, "invalid_api_key")
    assert (await client.get("/customers", headers=workspace.test)).status_code == 200


async def test_health_needs_no_key(client):
    response = await client.get("/health")
    assert response.status_code == 200
    assert response.json() == {"object": "health", "status": "ok", "postgres": "up", "redis": "up"}
