"""Customers end to end through the API."""

from __future__ import annotations

import re

import pytest

TIMESTAMP = re.compile(r"\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}Z")


async def create(client, auth, **fields):
    body = {"name": "Acme", **fields}
    response = await client.post("/customers", json=body, headers=auth)
    assert response.status_code == 201, response.text
    return response.json()


async def test_created_customer_has_every_field_in_wire_format(client, auth):
    customer = await create(
        client, auth, domain="Acme.COM", owner_email="csm@pivotal.dev", metadata={"plan": "pro"}
    )
    assert list(customer)[:3] == ["object", "id", "display_id"]
    assert customer["object"] == "customer"
    assert re.fullmatch(r"[a-z][a-z0-9]{23}", customer["id"])
    assert customer["display_id"] == 1
    assert customer["domain"] == "acme.com"
    assert customer["lifecycle_stage"] == "onboarding"
    assert customer["owner_email"] == "csm@pivotal.dev"
    assert customer["primary_contact"] is None
    assert customer["external_id"] is None
    assert customer["metadata"] == {"plan": "pro"}
    assert customer["livemode"] is True
    assert TIMESTAMP.fullmatch(customer["created_at"])
    assert customer["updated_at"] == customer["created_at"]


async def test_customer_resolves_by_display_id_and_by_cuid(client, auth):
    customer = await create(client, auth)
    for reference in (customer["id"], str(customer["display_id"])):
        response = await client.get(f"/customers/{reference}", headers=auth)
        assert response.status_code == 200
        assert response.json() == customer


@pytest.mark.parametrize(
    "reference", ["999999", "0", "-1", "abc", "ckv9x2m1p0000qz8l3h6g7f2a", "x" * 300, "1e5", "%20"]
)
async def test_unknown_or_malformed_customer_id_is_404(client, auth, reference):
    response = await client.get(f"/customers/{reference}", headers=auth)
    assert response.status_code == 404
    assert response.json()["error"]["code"] == "resource_not_found"


async def test_display_ids_count_from_one_per_workspace_and_mode(client, workspace):
    first = await create(client, workspace.live)
    second = await create(client, workspace.live)
    in_test_mode = await create(client, workspace.test)
    assert (first["display_id"], second["display_id"]) == (1, 2)
    assert in_test_mode["display_id"] == 1
    assert in_test_mode["livemode"] is False


async def test_test_key_never_sees_live_customers(client, workspace):
    live = await create(client, workspace.live)
    for reference in (live["id"], "1"):
        response = await client.get(f"/customers/{reference}", headers=workspace.test)
        assert response.status_code == 404
    listed = (await client.get("/customers", headers=workspace.test)).json()
    assert listed["data"] == []


async def test_patch_changes_only_given_fields_and_updates_timestamp(client, auth, admin):
    customer = await create(client, auth, domain="acme.com", owner_email="a@b.co")
    before = await admin.fetchval("select clock_timestamp()")
    response = await client.patch(
        f"/customers/{customer['display_id']}",
        json={"name": "Acme Inc", "owner_email": None},
        headers=auth,
    )
    after = await admin.fetchval("select clock_timestamp()")
    assert response.status_code == 200
    updated = response.json()
    assert updated["name"] == "Acme Inc"
    assert updated["owner_email"] is None
    assert updated["domain"] == "acme.com"
    # updated_at is the moment of this PATCH, as stored; created_at stays
    stored = await admin.fetchrow(
        "select updated_at, api_timestamp(updated_at) as wire from customers where id = $1",
        customer["id"],
    )
    assert before < stored["updated_at"] < after
    assert updated["updated_at"] == stored["wire"]
    assert updated["created_at"] == customer["created_at"]
    assert (await client.get(f"/customers/{customer['id']}", headers=auth)).json() == updated


async def test_patch_merges_metadata_and_removes_null_or_empty_keys(client, auth):
    customer = await create(client, auth, metadata={"a": "1", "b": "2", "c": "3"})
    response = await client.patch(
        f"/customers/{customer['id']}",
        json={"metadata": {"a": "10", "b": None, "c": "", "d": "4"}},
        headers=auth,
    )
    assert response.json()["metadata"] == {"a": "10", "d": "4"}


@pytest.mark.parametrize(
    ("metadata", "field"),
    [
        ({"k" * 41: "v"}, "metadata"),
        ({"k": "v" * 501}, "metadata"),
        ({"k": 5}, "metadata"),
        ({f"k{i}": "v" for i in range(51)}, "metadata"),
        ("not an object", "metadata"),
    ],
)
async def test_metadata_rules_are_enforced(client, auth, metadata, field):
    response = await client.post(
        "/customers", json={"name": "Acme", "metadata": metadata}, headers=auth
    )
    assert response.status_code == 400
    assert response.json()["error"]["field"] == field


async def test_metadata_cap_counts_merged_keys_on_patch(client, auth):
    customer = await create(client, auth, metadata={f"k{i}": "v" for i in range(50)})
    response = await client.patch(
        f"/customers/{customer['id']}", json={"metadata": {"one_more": "v"}}, headers=auth
    )
    assert response.status_code == 400
    assert response.json()["error"]["field"] == "metadata"


@pytest.mark.parametrize(
    ("body", "field"),
    [
        ({"name": ""}, "name"),
        ({"name": "x" * 201}, "name"),
        ({"name": "Acme", "domain": "https://acme.com/x"}, "domain"),
        ({"name": "Acme", "owner_email": "not-an-email"}, "owner_email"),
        ({"name": "Acme", "lifecycle_stage": "happy"}, "lifecycle_stage"),
        ({"name": "Acme", "external_id": "x" * 256}, "external_id"),
    ],
)
async def test_invalid_customer_fields_are_400_naming_the_field(client, auth, body, field):
    response = await client.post("/customers", json=body, headers=auth)
    assert response.status_code == 400
    error = response.json()["error"]
    assert (error["type"], error["code"], error["field"]) == (
        "invalid_request_error",
        "parameter_invalid",
        field,
    )


async def test_missing_name_is_parameter_missing(client, auth):
    response = await client.post("/customers", json={}, headers=auth)
    assert response.status_code == 400
    assert response.json()["error"] == {
        "type": "invalid_request_error",
        "code": "parameter_missing",
        "message": "Missing required parameter: name",
        "field": "name",
    }


async def test_unknown_field_is_rejected(client, auth):
    response = await client.post("/customers", json={"name": "A", "nmae": "B"}, headers=auth)
    assert response.status_code == 400
    assert response.json()["error"]["code"] == "parameter_unknown"
    assert response.json()["error"]["field"] == "nmae"


async def test_read_only_field_cannot_be_patched(client, auth):
    customer = await create(client, auth)
    response = await client.patch(
        f"/customers/{customer['id']}", json={"primary_contact": None}, headers=auth
    )
    assert response.status_code == 400
    assert response.json()["error"]["code"] == "parameter_unknown"


async def test_duplicate_external_id_is_409_naming_the_existing_customer(client, auth):
    existing = await create(client, auth, external_id="hubspot-1")
    response = await client.post(
        "/customers", json={"name": "Other", "external_id": "hubspot-1"}, headers=auth
    )
    assert response.status_code == 409
    error = response.json()["error"]
    assert error["code"] == "resource_already_exists"
    assert existing["id"] in error["message"]


async def test_patching_external_id_onto_a_taken_value_is_409(client, auth):
    existing = await create(client, auth, external_id="crm-1")
    other = await create(client, auth, external_id="crm-2")
    response = await client.patch(
        f"/customers/{other['id']}", json={"external_id": "crm-1"}, headers=auth
    )
    assert response.status_code == 409
    assert existing["id"] in response.json()["error"]["message"]
    unchanged = (await client.get(f"/customers/{other['id']}", headers=auth)).json()
    assert unchanged["external_id"] == "crm-2"


async def test_external_id_is_free_again_after_delete(client, auth):
    first = await create(client, auth, external_id="crm-9")
    await client.delete(f"/customers/{first['id']}", headers=auth)
    second = await create(client, auth, external_id="crm-9")
    assert second["id"] != first["id"]


async def test_external_id_may_repeat_across_modes(client, workspace):
    await create(client, workspace.live, external_id="crm-x")
    await create(client, workspace.test, external_id="crm-x")


async def test_list_filters_by_each_field(client, auth):
    a = await create(client, auth, external_id="e-a", domain="a.com", lifecycle_stage="active",
                     owner_email="x@p.dev")
    b = await create(client, auth, domain="b.com", owner_email="y@p.dev")
    cases = {
        "external_id=e-a": [a],
        "domain=A.com": [a],
        "lifecycle_stage=active": [a],
        "lifecycle_stage=onboarding": [b],
        "owner_email=y@p.dev": [b],
    }
    for query, expected in cases.items():
        response = await client.get(f"/customers?{query}", headers=auth)
        assert response.status_code == 200, query
        assert [c["id"] for c in response.json()["data"]] == [c["id"] for c in expected], query


async def test_unknown_list_parameter_is_rejected(client, auth):
    response = await client.get("/customers?lifecyle_stage=active", headers=auth)
    assert response.status_code == 400
    assert response.json()["error"]["field"] == "lifecyle_stage"


async def test_invalid_filter_value_is_400(client, auth):
    response = await client.get("/customers?lifecycle_stage=happy", headers=auth)
    assert response.status_code == 400
    assert response.json()["error"]["field"] == "lifecycle_stage"


async def test_delete_answers_deleted_object_and_keeps_the_row(client, auth, admin):
    customer = await create(client, auth)
    response = await client.delete(f"/customers/{customer['display_id']}", headers=auth)
    assert response.status_code == 200
    assert response.json() == {
        "object": "deleted",
        "id": customer["id"],
        "display_id": customer["display_id"],
        "deleted": True,
    }
    deleted_at = await admin.fetchval(
        "select deleted_at from customers where id = $1", customer["id"]
    )
    assert deleted_at is not None


async def test_deleted_customer_is_absent_everywhere(client, auth):
    customer = await create(client, auth, external_id="gone", domain="gone.com")
    await client.delete(f"/customers/{customer['id']}", headers=auth)
    for reference in (customer["id"], str(customer["display_id"])):
        assert (await client.get(f"/customers/{reference}", headers=auth)).status_code == 404
        patched = await client.patch(f"/customers/{reference}", json={"name": "x"}, headers=auth)
        assert patched.status_code == 404
        assert (await client.delete(f"/customers/{reference}", headers=auth)).status_code == 404
    for query in ("", "?external_id=gone", "?domain=gone.com"):
        listed = (await client.get(f"/customers{query}", headers=auth)).json()
        assert customer["id"] not in [c["id"] for c in listed["data"]]


async def test_display_id_is_never_reused_after_delete(client, auth):
    first = await create(client, auth)
    await client.delete(f"/customers/{first['id']}", headers=auth)
    second = await create(client, auth)
    assert second["display_id"] == first["display_id"] + 1
