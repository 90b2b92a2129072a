"""Idempotency-Key: one write per key, replayed responses, and misuse reported."""

from __future__ import annotations

import asyncio
import secrets

from tests.test_contacts import new_customer
from tests.test_errors import assert_error


def keyed(auth: dict, key: str) -> dict:
    return {**auth, "Idempotency-Key": key}


async def test_repeat_with_same_key_replays_the_first_response(client, auth, admin):
    key = secrets.token_hex(8)
    first = await client.post("/customers", json={"name": "Once"}, headers=keyed(auth, key))
    again = await client.post("/customers", json={"name": "Once"}, headers=keyed(auth, key))
    assert first.status_code == again.status_code == 201
    assert again.json() == first.json()
    assert again.headers["idempotent-replayed"] == "true"
    assert "idempotent-replayed" not in first.headers
    workspace_customers = await admin.fetchval(
        "select count(*) from customers where name = 'Once' and id = $1", first.json()["id"]
    )
    assert workspace_customers == 1
    events = await admin.fetchval(
        "select count(*) from events where object_id = $1", first.json()["id"]
    )
    assert events == 1


async def test_same_key_with_a_different_body_or_path_is_409(client, auth):
    key = secrets.token_hex(8)
    customer = (await client.post("/customers", json={"name": "A"}, headers=keyed(auth, key))).json()
    other_body = await client.post("/customers", json={"name": "B"}, headers=keyed(auth, key))
    assert_error(other_body, 409, "idempotency_key_reused", "Idempotency-Key")
    other_path = await client.post(
        "/contacts", json={"customer": customer["id"], "email": "a@b.co"}, headers=keyed(auth, key)
    )
    assert_error(other_path, 409, "idempotency_key_reused", "Idempotency-Key")


async def test_keys_are_scoped_per_workspace_and_mode(client, workspace):
    key = secrets.token_hex(8)
    live = await client.post("/customers", json={"name": "K"}, headers=keyed(workspace.live, key))
    test = await client.post("/customers", json={"name": "K"}, headers=keyed(workspace.test, key))
    assert live.json()["id"] != test.json()["id"]
    assert "idempotent-replayed" not in test.headers


async def test_eight_concurrent_requests_with_one_key_create_exactly_one_object(
    client, workspace, admin
):
    key = secrets.token_hex(8)

    async def attempt():
        return await client.post(
            "/customers", json={"name": "Concurrent"}, headers=keyed(workspace.live, key)
        )

    responses = await asyncio.gather(*(attempt() for _ in range(8)))
    created = {r.json()["id"] for r in responses if r.status_code == 201}
    assert len(created) == 1
    for response in responses:
        if response.status_code != 201:
            assert_error(response, 409, "idempotency_key_in_use")
    count = await admin.fetchval(
        "select count(*) from customers where workspace_id = $1", workspace.id
    )
    assert count == 1


async def test_repeat_while_the_first_is_running_is_409(client, workspace, admin):
    key = secrets.token_hex(8)
    async with admin.acquire() as conn, conn.transaction():
        # hold the key the way a first, still-running request does
        from app.core.db import queries

        assert await conn.fetchval(queries["idempotency.try_lock"], workspace.id, True, key)
        response = await client.post(
            "/customers", json={"name": "Busy"}, headers=keyed(workspace.live, key)
        )
        assert_error(response, 409, "idempotency_key_in_use")
    retried = await client.post(
        "/customers", json={"name": "Busy"}, headers=keyed(workspace.live, key)
    )
    assert retried.status_code == 201


async def test_failed_request_is_not_stored_and_can_be_retried(client, auth):
    key = secrets.token_hex(8)
    customer = await new_customer(client, auth, external_id="dup-key")
    clash = await client.post(
        "/customers", json={"name": "X", "external_id": "dup-key"}, headers=keyed(auth, key)
    )
    assert clash.status_code == 409
    await client.delete(f"/customers/{customer['id']}", headers=auth)
    retried = await client.post(
        "/customers", json={"name": "X", "external_id": "dup-key"}, headers=keyed(auth, key)
    )
    assert retried.status_code == 201


async def test_overlong_key_is_400(client, auth):
    response = await client.post("/customers", json={"name": "L"}, headers=keyed(auth, "k" * 256))
    assert_error(response, 400, "parameter_invalid", "Idempotency-Key")
