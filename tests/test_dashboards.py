"""Reads for dashboards and BI (SPEC §8): expand, range and multi-value filters, search."""

from __future__ import annotations

import asyncio

import pytest


async def post(client, auth, path, **body):
    response = await client.post(f"/{path}", json=body, headers=auth)
    assert response.status_code == 201, response.text
    return response.json()


async def page(client, auth, path, **params):
    response = await client.get(f"/{path}", params=params, headers=auth)
    assert response.status_code == 200, response.text
    return response.json()


async def all_pages(client, auth, path, **params):
    """Every item of a list, page by page through the cursor."""
    items, cursor = [], None
    while True:
        query = {**params, "limit": 3, **({"cursor": cursor} if cursor else {})}
        body = await page(client, auth, path, **query)
        items += body["data"]
        if not body["has_more"]:
            return items
        cursor = body["next_cursor"]


async def test_expand_customer_on_contacts_and_onboardings(client, auth):
    customer = await post(client, auth, "customers", name="Acme")
    contact = await post(client, auth, "contacts", customer=customer["id"], email="a@acme.co",
                         is_primary=True)
    await post(client, auth, "onboardings", customer=customer["id"], name="Go-live")
    customer = (await client.get(f"/customers/{customer['id']}", headers=auth)).json()
    for path in ("contacts", "onboardings"):
        listed = await page(client, auth, path, expand="customer")
        assert listed["data"][0]["customer"] == customer
        one = await client.get(f"/{path}/{listed['data'][0]['id']}",
                               params={"expand": "customer"}, headers=auth)
        assert one.json()["customer"] == customer
        plain = await page(client, auth, path)
        assert plain["data"][0]["customer"] == customer["id"]
    expanded = await client.get(f"/customers/{customer['id']}",
                                params={"expand": "primary_contact"}, headers=auth)
    assert expanded.json()["primary_contact"] == contact


async def test_an_expanded_list_pages_like_the_plain_one_in_either_order(client, auth):
    """The page and its expansions come from one statement: the same items, order, cursors
    and has_more as the plain list, each field holding its own object (or null)."""
    customers = [await post(client, auth, "customers", name=f"Co {n}") for n in range(3)]
    await post(client, auth, "contacts", customer=customers[1]["id"], email="p@co.example",
               is_primary=True)
    for n in range(5):
        await post(client, auth, "onboardings", customer=customers[n % 3]["id"], name=f"O {n}")
    served = {c["id"]: (await client.get(f"/customers/{c['id']}", headers=auth)).json()
              for c in customers}
    for order in ("asc", "desc"):
        plain = await all_pages(client, auth, "onboardings", order=order)
        expanded = await all_pages(client, auth, "onboardings", order=order, expand="customer")
        assert [o["id"] for o in expanded] == [o["id"] for o in plain]
        assert [o["customer"] for o in expanded] == [served[o["customer"]] for o in plain]
        first = await page(client, auth, "onboardings", order=order, limit=2)
        first_expanded = await page(client, auth, "onboardings", order=order, limit=2,
                                    expand="customer")
        assert (first_expanded["has_more"], first_expanded["next_cursor"]) == (
            first["has_more"], first["next_cursor"])
    listed = await all_pages(client, auth, "customers", expand="primary_contact")
    contacts = {c["id"]: c["primary_contact"] for c in listed}
    assert contacts[customers[1]["id"]]["email"] == "p@co.example"
    assert contacts[customers[0]["id"]] is None and contacts[customers[2]["id"]] is None


async def test_an_expanded_object_is_the_bytes_its_own_get_answers(client, auth):
    """Expanded objects are written by PostgreSQL: the same JSON, byte for byte, as the object
    served alone (field order, compact separators, metadata in its stored order, escapes)."""
    metadata = {"source": "hubspot", "a": "1", "quote \" and \\": "tab\t, ünïcode, \u2028",
                "long key of metadata": ""}
    customer = await post(client, auth, "customers", name="Acme \"Intl\"", metadata=metadata)
    contact = await post(client, auth, "contacts", customer=customer["id"], email="b@acme.co",
                         is_primary=True, metadata={"k": "v"})
    await post(client, auth, "onboardings", customer=customer["id"], name="Go-live")
    alone = (await client.get(f"/customers/{customer['id']}", headers=auth)).content
    for path in ("contacts", "onboardings"):
        listed = await client.get(f"/{path}", params={"expand": "customer", "limit": 1},
                                  headers=auth)
        assert b'"customer":' + alone in listed.content
    contact_alone = (await client.get(f"/contacts/{contact['id']}", headers=auth)).content
    expanded = await client.get(f"/customers/{customer['id']}",
                                params={"expand": "primary_contact"}, headers=auth)
    assert b'"primary_contact":' + contact_alone in expanded.content


async def test_expand_is_repeatable_or_comma_separated_and_unknown_names_are_400(client, auth):
    await post(client, auth, "customers", name="Acme")
    repeated = await client.get("/customers?expand=primary_contact&expand=primary_contact",
                                headers=auth)
    assert repeated.status_code == 200
    assert repeated.json()["data"][0]["primary_contact"] is None
    for query in ("expand=customer", "expand=primary_contact,nope"):
        response = await client.get(f"/customers?{query}", headers=auth)
        assert response.status_code == 400
        assert response.json()["error"]["field"] == "expand"
    contacts = await client.get("/contacts?expand=primary_contact", headers=auth)
    assert contacts.status_code == 400


async def test_expand_applies_to_batch_answers(client, auth):
    await post(client, auth, "customers", name="Acme", external_id="crm-1")
    response = await client.post("/contacts/batch?expand=customer", headers=auth, json={
        "items": [{"customer_external_id": "crm-1", "email": "a@acme.co", "external_id": "p"}]})
    [result] = response.json()["data"]
    assert result["data"]["customer"]["object"] == "customer"
    assert result["data"]["customer"]["external_id"] == "crm-1"


async def test_expand_never_reaches_into_another_mode(client, workspace):
    live = await post(client, workspace.live, "customers", name="Live")
    await post(client, workspace.live, "contacts", customer=live["id"], email="a@b.co")
    other = await page(client, workspace.test, "contacts", expand="customer")
    assert other["data"] == []


async def test_created_and_updated_ranges_page_without_skips(client, auth):
    made = []
    for i in range(7):
        made.append(await post(client, auth, "customers", name=f"c{i}"))
    renamed = made[2]["id"]
    await client.patch(f"/customers/{renamed}", json={"name": "renamed"}, headers=auth)
    later = (await client.get(f"/customers/{renamed}", headers=auth)).json()["updated_at"]
    window = {"created[gte]": made[1]["created_at"], "created[lt]": made[6]["created_at"]}
    for order in ("asc", "desc"):
        found = await all_pages(client, auth, "customers", order=order, **window)
        ids = [c["id"] for c in found]
        expected = [c["id"] for c in made[1:6]]
        assert ids == (expected if order == "asc" else expected[::-1])
    updated = await page(client, auth, "customers", **{"updated[gte]": later})
    assert [c["id"] for c in updated["data"]] == [renamed]
    after_all = await page(client, auth, "customers", **{"created[gt]": made[6]["created_at"]})
    assert after_all["data"] == []


async def test_target_date_ranges_on_onboardings(client, auth):
    customer = await post(client, auth, "customers", name="Acme")
    for day in ("2027-01-10", "2027-01-20", "2027-01-31", None):
        await post(client, auth, "onboardings", customer=customer["id"], name=f"o{day}",
                   target_date=day)
    due = await page(client, auth, "onboardings", **{"target_date[lte]": "2027-01-20"})
    assert sorted(o["target_date"] for o in due["data"]) == ["2027-01-10", "2027-01-20"]
    window = await page(client, auth, "onboardings", **{"target_date[gt]": "2027-01-10",
                                                        "target_date[lt]": "2027-01-31"})
    assert [o["target_date"] for o in window["data"]] == ["2027-01-20"]


@pytest.mark.parametrize("name,value", [
    ("created[gte]", "yesterday"), ("updated[lt]", "2026-13-01T00:00:00Z"),
    ("target_date[gt]", "2027-02-30"), ("created[between]", "2026-01-01T00:00:00Z")])
async def test_malformed_or_unknown_ranges_are_400_on_their_parameter(client, auth, name, value):
    response = await client.get("/onboardings", params={name: value}, headers=auth)
    assert response.status_code == 400
    assert response.json()["error"]["field"] == name


async def test_enumerated_filters_take_several_values(client, auth):
    customer = await post(client, auth, "customers", name="Acme", lifecycle_stage="at_risk")
    await post(client, auth, "customers", name="Gone", lifecycle_stage="churned")
    await post(client, auth, "customers", name="Fine", lifecycle_stage="active")
    risky = await page(client, auth, "customers", lifecycle_stage="at_risk,churned")
    assert sorted(c["name"] for c in risky["data"]) == ["Acme", "Gone"]
    repeated = await client.get("/customers?lifecycle_stage=at_risk&lifecycle_stage=active",
                                headers=auth)
    assert sorted(c["name"] for c in repeated.json()["data"]) == ["Acme", "Fine"]
    for status in ("active", "paused", "completed"):
        onboarding = await post(client, auth, "onboardings", customer=customer["id"],
                                name=status)
        if status != "active":
            await client.patch(f"/onboardings/{onboarding['id']}", json={"status": status},
                               headers=auth)
    open_ones = await page(client, auth, "onboardings", status="active,paused")
    assert sorted(o["name"] for o in open_ones["data"]) == ["active", "paused"]
    bad = await client.get("/onboardings?status=active,nope", headers=auth)
    assert bad.status_code == 400 and bad.json()["error"]["field"] == "status"


async def test_q_searches_the_documented_fields_case_insensitively(client, auth):
    acme = await post(client, auth, "customers", name="Acme Rockets", domain="acme.io",
                      external_id="HS-4242")
    await post(client, auth, "customers", name="Globex", domain="globex.com")
    for q in ("ROCK", "acme.i", "hs-42"):
        found = await page(client, auth, "customers", q=q)
        assert [c["id"] for c in found["data"]] == [acme["id"]], q
    await post(client, auth, "contacts", customer=acme["id"], email="ada@acme.io", name="Ada L")
    assert len((await page(client, auth, "contacts", q="ADA@"))["data"]) == 1
    assert len((await page(client, auth, "contacts", q="da l"))["data"]) == 1
    await post(client, auth, "onboardings", customer=acme["id"], name="Rocket go-live")
    assert len((await page(client, auth, "onboardings", q="GO-LIVE"))["data"]) == 1


async def test_q_treats_wildcards_literally_and_needs_two_characters(client, auth):
    await post(client, auth, "customers", name="100% Pure")
    await post(client, auth, "customers", name="1000 Pure")
    found = await page(client, auth, "customers", q="0%")
    assert [c["name"] for c in found["data"]] == ["100% Pure"]
    assert (await page(client, auth, "customers", q="a_b"))["data"] == []
    short = await client.get("/customers", params={"q": "a"}, headers=auth)
    assert short.status_code == 400 and short.json()["error"]["field"] == "q"


async def test_q_and_ranges_never_reach_another_workspace_or_mode(client, workspace, admin):
    from tests.conftest import new_workspace

    other = await new_workspace(admin)
    await post(client, other.live, "customers", name="Secret Rockets")
    await post(client, workspace.test, "customers", name="Test Rockets")
    assert (await page(client, workspace.live, "customers", q="rockets"))["data"] == []
    everything = {"created[gte]": "2000-01-01T00:00:00Z", "updated[gte]": "2000-01-01T00:00:00Z"}
    assert (await page(client, workspace.live, "customers", **everything))["data"] == []


async def test_filters_combine_with_each_other_and_the_cursor(client, auth):
    made = await asyncio.gather(*(post(client, auth, "customers", name=f"Rocket {i}",
                                       lifecycle_stage=("active" if i % 2 else "at_risk"))
                                  for i in range(12)))
    start = min(c["created_at"] for c in made)
    found = await all_pages(client, auth, "customers", q="rocket", lifecycle_stage="active",
                            **{"created[gte]": start})
    assert len(found) == 6 and len({c["id"] for c in found}) == 6
    assert all(c["lifecycle_stage"] == "active" for c in found)
