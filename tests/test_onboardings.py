"""Onboardings: the status machine, dates, filters, and the customer cascade."""

from __future__ import annotations

import pytest

from tests.test_contacts import new_contact, new_customer
from tests.test_errors import assert_error


async def new_onboarding(client, auth, customer, **fields) -> dict:
    body = {"customer": customer, "name": "Go-live", **fields}
    response = await client.post("/onboardings", json=body, headers=auth)
    assert response.status_code == 201, response.text
    return response.json()


async def set_status(client, auth, onboarding, status):
    return await client.patch(
        f"/onboardings/{onboarding['id']}", json={"status": status}, headers=auth
    )


async def test_new_onboarding_is_active_and_started(client, auth):
    customer = await new_customer(client, auth)
    onboarding = await new_onboarding(client, auth, customer["display_id"], target_date="2027-01-31")
    assert onboarding["object"] == "onboarding"
    assert onboarding["customer"] == customer["id"]
    assert onboarding["status"] == "active"
    assert onboarding["target_date"] == "2027-01-31"
    assert onboarding["started_at"] == onboarding["created_at"]
    assert onboarding["completed_at"] is None and onboarding["cancelled_at"] is None


async def test_status_changes_set_their_timestamps(client, auth):
    customer = await new_customer(client, auth)
    onboarding = await new_onboarding(client, auth, customer["id"])
    paused = (await set_status(client, auth, onboarding, "paused")).json()
    assert paused["status"] == "paused" and paused["started_at"] == onboarding["started_at"]
    completed = (await set_status(client, auth, onboarding, "completed")).json()
    assert completed["completed_at"] is not None
    reopened = (await set_status(client, auth, onboarding, "active")).json()
    assert reopened["status"] == "active"
    assert reopened["completed_at"] is None
    assert reopened["started_at"] == onboarding["started_at"]
    cancelled = (await set_status(client, auth, onboarding, "cancelled")).json()
    assert cancelled["cancelled_at"] is not None
    stored = (await client.get(f"/onboardings/{onboarding['id']}", headers=auth)).json()
    assert stored == cancelled


@pytest.mark.parametrize(
    ("path", "target"),
    [
        (["cancelled"], "active"),
        (["cancelled"], "paused"),
        (["cancelled"], "completed"),
        (["completed"], "paused"),
        (["completed"], "cancelled"),
    ],
)
async def test_disallowed_status_change_is_409(client, auth, path, target):
    customer = await new_customer(client, auth)
    onboarding = await new_onboarding(client, auth, customer["id"])
    for status in path:
        assert (await set_status(client, auth, onboarding, status)).status_code == 200
    response = await set_status(client, auth, onboarding, target)
    assert_error(response, 409, "invalid_status_transition", "status")


async def test_target_date_must_be_a_date(client, auth):
    customer = await new_customer(client, auth)
    response = await client.post(
        "/onboardings",
        json={"customer": customer["id"], "name": "X", "target_date": "next week"},
        headers=auth,
    )
    assert_error(response, 400, "parameter_invalid", "target_date")
    onboarding = await new_onboarding(client, auth, customer["id"])
    patched = await client.patch(
        f"/onboardings/{onboarding['id']}", json={"target_date": "2027-03-01"}, headers=auth
    )
    assert patched.json()["target_date"] == "2027-03-01"


async def test_active_onboardings_filter(client, auth):
    customer = await new_customer(client, auth)
    active = await new_onboarding(client, auth, customer["id"], owner_email="o@p.dev")
    done = await new_onboarding(client, auth, customer["id"], name="Done", external_id="deal-7")
    await set_status(client, auth, done, "completed")
    cases = {
        "status=active": [active],
        "status=completed": [done],
        "owner_email=o@p.dev": [active],
        "external_id=deal-7": [done],
        f"customer={customer['display_id']}": [done, active],
    }
    for query, expected in cases.items():
        page = (await client.get(f"/onboardings?{query}", headers=auth)).json()
        assert [x["id"] for x in page["data"]] == [x["id"] for x in expected], query


async def test_retried_closed_won_gets_409_naming_the_open_onboarding(client, auth):
    customer = await new_customer(client, auth)
    first = await new_onboarding(client, auth, customer["id"], external_id="deal-42")
    again = await client.post(
        "/onboardings",
        json={"customer": customer["id"], "name": "Go-live", "external_id": "deal-42"},
        headers=auth,
    )
    error = assert_error(again, 409, "resource_already_exists", "external_id")
    assert first["id"] in error["message"]


async def test_deleting_a_customer_deletes_its_contacts_and_onboardings(client, auth, admin):
    customer = await new_customer(client, auth)
    contact = await new_contact(client, auth, customer["id"], is_primary=True)
    onboarding = await new_onboarding(client, auth, customer["id"])
    other = await new_customer(client, auth, name="Other")
    kept = await new_contact(client, auth, other["id"])

    assert (await client.delete(f"/customers/{customer['id']}", headers=auth)).status_code == 200
    assert (await client.get(f"/contacts/{contact['id']}", headers=auth)).status_code == 404
    assert (await client.get(f"/onboardings/{onboarding['id']}", headers=auth)).status_code == 404
    assert (await client.get(f"/contacts/{kept['id']}", headers=auth)).status_code == 200
    types = await admin.fetch(
        "select object_id, type from events where type like '%.deleted' and object_id = any($1)",
        [customer["id"], contact["id"], onboarding["id"]],
    )
    assert {(row["object_id"], row["type"]) for row in types} == {
        (customer["id"], "customer.deleted"),
        (contact["id"], "contact.deleted"),
        (onboarding["id"], "onboarding.deleted"),
    }
    states = await admin.fetch(
        "select deleted_at from contacts where id = $1 union all "
        "select deleted_at from onboardings where id = $2",
        contact["id"],
        onboarding["id"],
    )
    assert all(row["deleted_at"] is not None for row in states)
