"""Contacts: a customer's people, and the one primary contact."""

from __future__ import annotations

import asyncio

import pytest

from tests.test_errors import assert_error


async def new_customer(client, auth, **fields) -> dict:
    response = await client.post("/customers", json={"name": "Acme", **fields}, headers=auth)
    assert response.status_code == 201, response.text
    return response.json()


async def new_contact(client, auth, customer, **fields) -> dict:
    body = {"customer": customer, "email": "ada@acme.com", **fields}
    response = await client.post("/contacts", json=body, headers=auth)
    assert response.status_code == 201, response.text
    return response.json()


@pytest.mark.parametrize("form", ["id", "display_id", "display_id_string"])
async def test_customer_reference_accepts_each_form_and_returns_the_cuid(client, auth, form):
    customer = await new_customer(client, auth)
    reference = {
        "id": customer["id"],
        "display_id": customer["display_id"],
        "display_id_string": str(customer["display_id"]),
    }[form]
    contact = await new_contact(client, auth, reference, name="Ada", title="CTO", phone="+1 555")
    assert contact["object"] == "contact"
    assert contact["customer"] == customer["id"]
    assert (contact["email"], contact["name"], contact["title"]) == ("ada@acme.com", "Ada", "CTO")
    assert contact["is_primary"] is False


@pytest.mark.parametrize("reference", [999999, "999999", "ckv9x2m1p0000qz8l3h6g7f2a", "bad id!"])
async def test_missing_customer_is_404_on_field_customer(client, auth, reference):
    response = await client.post(
        "/contacts", json={"customer": reference, "email": "a@b.co"}, headers=auth
    )
    assert_error(response, 404, "resource_not_found", "customer")


async def test_deleted_customer_cannot_get_new_contacts(client, auth):
    customer = await new_customer(client, auth)
    await client.delete(f"/customers/{customer['id']}", headers=auth)
    response = await client.post(
        "/contacts", json={"customer": customer["id"], "email": "a@b.co"}, headers=auth
    )
    assert_error(response, 404, "resource_not_found", "customer")


async def test_customer_of_a_contact_cannot_change(client, auth):
    customer = await new_customer(client, auth)
    other = await new_customer(client, auth, name="Other")
    contact = await new_contact(client, auth, customer["id"])
    same = await client.patch(
        f"/contacts/{contact['id']}", json={"customer": customer["display_id"]}, headers=auth
    )
    assert same.status_code == 200
    moved = await client.patch(
        f"/contacts/{contact['id']}", json={"customer": other["id"]}, headers=auth
    )
    # the request is well formed; the contact's current customer refuses it
    assert_error(moved, 409, "immutable_field", "customer")


async def test_email_is_validated_and_unique_per_customer_ignoring_case(client, auth):
    customer = await new_customer(client, auth)
    other = await new_customer(client, auth, name="Other")
    first = await new_contact(client, auth, customer["id"], email="Ada@Acme.com")
    clash = await client.post(
        "/contacts", json={"customer": customer["id"], "email": "ada@ACME.com"}, headers=auth
    )
    error = assert_error(clash, 409, "resource_already_exists", "email")
    assert first["id"] in error["message"]
    await new_contact(client, auth, other["id"], email="ada@acme.com")
    invalid = await client.post(
        "/contacts", json={"customer": customer["id"], "email": "nope"}, headers=auth
    )
    assert_error(invalid, 400, "parameter_invalid", "email")


async def test_setting_a_primary_contact_demotes_the_previous_one_with_an_event(
    client, auth, admin
):
    customer = await new_customer(client, auth)
    first = await new_contact(client, auth, customer["id"], email="a@acme.com", is_primary=True)
    second = await new_contact(client, auth, customer["id"], email="b@acme.com")
    shown = (await client.get(f"/customers/{customer['id']}", headers=auth)).json()
    assert shown["primary_contact"] == first["id"]

    promoted = await client.patch(
        f"/contacts/{second['id']}", json={"is_primary": True}, headers=auth
    )
    assert promoted.json()["is_primary"] is True
    demoted = (await client.get(f"/contacts/{first['id']}", headers=auth)).json()
    assert demoted["is_primary"] is False
    shown = (await client.get(f"/customers/{customer['id']}", headers=auth)).json()
    assert shown["primary_contact"] == second["id"]
    events = await admin.fetch(
        "select type, data from events where object_id = $1 order by created_at", first["id"]
    )
    assert [e["type"] for e in events] == ["contact.created", "contact.updated"]
    assert events[1]["data"]["previous_attributes"] == {"is_primary": True}
    assert events[1]["data"]["object"]["is_primary"] is False


async def test_concurrent_primary_contacts_leave_exactly_one_primary(client, auth):
    customer = await new_customer(client, auth)

    async def create(i: int) -> int:
        body = {"customer": customer["id"], "email": f"p{i}@acme.com", "is_primary": True}
        return (await client.post("/contacts", json=body, headers=auth)).status_code

    assert await asyncio.gather(*(create(i) for i in range(10))) == [201] * 10
    listed = await client.get(
        f"/contacts?customer={customer['id']}&is_primary=true&limit=100", headers=auth
    )
    assert len(listed.json()["data"]) == 1


async def test_contact_filters(client, auth):
    customer = await new_customer(client, auth)
    other = await new_customer(client, auth, name="Other")
    a = await new_contact(client, auth, customer["id"], email="A@x.io", external_id="hs-1",
                          is_primary=True)
    b = await new_contact(client, auth, customer["display_id"], email="b@x.io")
    c = await new_contact(client, auth, other["id"], email="c@x.io")
    cases = {
        f"customer={customer['display_id']}": [b, a],
        f"customer={other['id']}": [c],
        "email=a@X.io": [a],
        "is_primary=true": [a],
        "external_id=hs-1": [a],
    }
    for query, expected in cases.items():
        page = (await client.get(f"/contacts?{query}", headers=auth)).json()
        assert [x["id"] for x in page["data"]] == [x["id"] for x in expected], query
    missing = await client.get("/contacts?customer=424242", headers=auth)
    assert_error(missing, 404, "resource_not_found", "customer")
    assert_error(await client.get("/contacts?is_primary=yes", headers=auth), 400,
                 "parameter_invalid", "is_primary")


@pytest.mark.parametrize("email", ["İnfo@example.com", "ΣΊΣΥΦΟΣ@example.com", "Straße@example.com"])
async def test_a_contact_is_found_by_its_own_address_beyond_ascii(client, auth, email):
    customer = (await client.post("/customers", json={"name": "Acme"}, headers=auth)).json()
    created = await client.post("/contacts", headers=auth,
                                json={"customer": customer["id"], "email": email})
    assert created.status_code == 201, created.text
    page = (await client.get("/contacts", params={"email": email}, headers=auth)).json()
    assert [c["id"] for c in page["data"]] == [created.json()["id"]]
    again = await client.post("/contacts", headers=auth,
                              json={"customer": customer["id"], "email": email.upper()})
    assert again.status_code == 409


async def test_a_decomposed_address_is_the_same_contact_as_the_composed_one(client, auth):
    customer = (await client.post("/customers", json={"name": "Acme"}, headers=auth)).json()
    composed, decomposed = "\u00c4rger@example.com", "A\u0308rger@example.com"
    first = await client.post("/contacts", headers=auth,
                              json={"customer": customer["id"], "email": composed})
    assert first.status_code == 201
    second = await client.post("/contacts", headers=auth,
                               json={"customer": customer["id"], "email": decomposed})
    assert second.status_code == 409
    assert first.json()["id"] in second.json()["error"]["message"]
    page = (await client.get("/contacts", params={"email": decomposed}, headers=auth)).json()
    assert [c["id"] for c in page["data"]] == [first.json()["id"]]
