"""Tenancy: no key ever reads, lists, changes, deletes or references another scope's objects.

Two workspaces, each with a live and a test key, make four scopes holding the same shapes of
data — so display_id 1 exists in every one of them. Every verb of every resource is aimed at
every other scope's objects, by cuid, by display_id and through filters and bodies.
"""

from __future__ import annotations

import itertools
from dataclasses import dataclass, field

import pytest

from app.core.ids import new_id
from tests.conftest import new_workspace

RESOURCES = ("/customers", "/contacts", "/onboardings", "/webhook_endpoints")
READABLE = (*RESOURCES, "/events")
TABLES = {"/customers": "customers", "/contacts": "contacts", "/onboardings": "onboardings",
          "/webhook_endpoints": "webhook_endpoints", "/events": "events"}


@dataclass
class Scope:
    name: str
    workspace_id: str
    livemode: bool
    headers: dict[str, str]
    objects: dict[str, list[dict]] = field(default_factory=dict)

    def ids(self, path: str) -> set[str]:
        return {obj["id"] for obj in self.objects[path]}


async def create(client, scope: Scope, path: str, body: dict) -> dict:
    response = await client.post(path, json=body, headers=scope.headers)
    assert response.status_code == 201, response.text
    return response.json()


async def list_all(client, scope: Scope, path: str, **params) -> list[dict]:
    items, cursor = [], None
    while True:
        query = {"limit": 100, **params, **({"cursor": cursor} if cursor else {})}
        page = await client.get(path, params=query, headers=scope.headers)
        assert page.status_code == 200, page.text
        items += page.json()["data"]
        if not page.json()["has_more"]:
            return items
        cursor = page.json()["next_cursor"]


async def populate(client, scope: Scope) -> None:
    """Two customers, each with a contact and an onboarding; an endpoint; their events."""
    tag = scope.name
    customers = [await create(client, scope, "/customers",
                              {"name": f"{tag} {n}", "external_id": f"{tag}-c{n}"}) for n in (1, 2)]
    scope.objects["/customers"] = customers
    scope.objects["/contacts"] = [await create(client, scope, "/contacts", {
        "customer": c["id"], "email": f"p{n}@{tag}.test", "external_id": f"{tag}-p{n}",
        "is_primary": True}) for n, c in enumerate(customers, 1)]
    scope.objects["/onboardings"] = [await create(client, scope, "/onboardings", {
        "customer": c["id"], "name": "Go-live", "external_id": f"{tag}-o{n}"})
        for n, c in enumerate(customers, 1)]
    scope.objects["/webhook_endpoints"] = [await create(client, scope, "/webhook_endpoints", {
        "url": "http://127.0.0.1:9/never-called", "enabled_events": ["*"]})]
    scope.objects["/events"] = await list_all(client, scope, "/events")


@pytest.fixture(scope="module")
async def scopes(client, admin) -> list[Scope]:
    result = []
    for ws in (await new_workspace(admin), await new_workspace(admin)):
        for livemode, headers in ((True, ws.live), (False, ws.test)):
            name = f"{ws.name}-{'live' if livemode else 'test'}"
            result.append(Scope(name, ws.id, livemode, headers))
    for scope in result:
        await populate(client, scope)
    return result


def pairs(scopes: list[Scope]):
    """Every (caller, other) pair of different scopes."""
    return itertools.permutations(scopes, 2)


async def foreign_ids(admin, scope: Scope, path: str) -> set[str]:
    """Every id in the database outside the caller's scope, other tests' objects included."""
    rows = await admin.fetch(
        f"select id from {TABLES[path]} where not (workspace_id = $1 and livemode = $2)",
        scope.workspace_id, scope.livemode,
    )
    return {row["id"] for row in rows}


async def test_get_by_cuid_never_reaches_another_scope(client, scopes):
    for caller, other in pairs(scopes):
        for path in READABLE:
            for obj in other.objects[path]:
                response = await client.get(f"{path}/{obj['id']}", headers=caller.headers)
                assert response.status_code == 404, (caller.name, path, obj["id"])


async def test_display_ids_resolve_only_within_the_callers_scope(client, admin, scopes):
    for caller in scopes:
        for path in READABLE:
            own = {obj["display_id"]: obj["id"] for obj in caller.objects[path]}
            found = {}
            for display_id in range(1, max(own) + 3):
                response = await client.get(f"{path}/{display_id}", headers=caller.headers)
                assert response.status_code in (200, 404)
                if response.status_code == 200:
                    assert response.json()["display_id"] == display_id
                    found[display_id] = response.json()["id"]
            assert own.items() <= found.items()
            assert not set(found.values()) & await foreign_ids(admin, caller, path)


def _all_ids(scopes: list[Scope], path: str) -> set[str]:
    return set().union(*(scope.ids(path) for scope in scopes))


async def test_random_cuids_are_404_everywhere(client, scopes):
    for caller in scopes:
        for path in READABLE:
            for _ in range(3):
                response = await client.get(f"{path}/{new_id()}", headers=caller.headers)
                assert response.status_code == 404


async def test_lists_show_only_the_callers_objects(client, admin, scopes):
    for caller in scopes:
        for path in READABLE:
            listed = await list_all(client, caller, path)
            ids = {item["id"] for item in listed}
            assert caller.ids(path) <= ids
            assert not ids & await foreign_ids(admin, caller, path), (caller.name, path)
            assert {item["livemode"] for item in listed} == {caller.livemode}
        family = await list_all(client, caller, "/events", type="customer.*")
        assert not {e["id"] for e in family} & await foreign_ids(admin, caller, "/events")


async def test_filters_never_reach_another_scope(client, scopes):
    for caller, other in pairs(scopes):
        for path in ("/contacts", "/onboardings"):
            for customer in other.objects["/customers"]:
                response = await client.get(path, params={"customer": customer["id"]},
                                            headers=caller.headers)
                assert response.status_code == 404
                assert response.json()["error"]["field"] == "customer"
        for path in ("/customers", "/contacts", "/onboardings"):
            for obj in other.objects[path]:
                found = await list_all(client, caller, path, external_id=obj["external_id"])
                assert found == []
        for contact in other.objects["/contacts"]:
            assert await list_all(client, caller, "/contacts", email=contact["email"]) == []


async def test_filters_by_display_id_stay_in_the_callers_scope(client, scopes):
    for caller in scopes:
        first = caller.objects["/customers"][0]
        for path in ("/contacts", "/onboardings"):
            listed = await list_all(client, caller, path, customer="1")
            assert listed and {item["customer"] for item in listed} == {first["id"]}


async def snapshot(admin, scopes: list[Scope]) -> dict[str, tuple]:
    state = {}
    for path in RESOURCES:
        ids = list(_all_ids(scopes, path))
        rows = await admin.fetch(
            f"select id, updated_at, deleted_at from {TABLES[path]} where id = any($1::text[])", ids
        )
        state.update({row["id"]: (row["updated_at"], row["deleted_at"]) for row in rows})
    return state


async def test_patch_and_delete_never_touch_another_scope(client, admin, scopes):
    before = await snapshot(admin, scopes)
    changes = {"/customers": {"name": "x"}, "/contacts": {"title": "x"},
               "/onboardings": {"name": "x"}, "/webhook_endpoints": {"description": "x"}}
    for caller, other in pairs(scopes):
        for path in RESOURCES:
            for obj in other.objects[path]:
                url, headers = f"{path}/{obj['id']}", caller.headers
                assert (await client.patch(url, json=changes[path], headers=headers)).status_code == 404
                assert (await client.delete(url, headers=headers)).status_code == 404
    assert await snapshot(admin, scopes) == before


async def test_bodies_cannot_reference_another_scopes_customer(client, scopes):
    for caller, other in pairs(scopes):
        theirs = other.objects["/customers"][0]["id"]
        for path, body in (("/contacts", {"email": "x@y.test"}), ("/onboardings", {"name": "x"})):
            response = await client.post(path, json={**body, "customer": theirs},
                                         headers=caller.headers)
            assert response.status_code == 404 and response.json()["error"]["field"] == "customer"
            mine = caller.objects[path][0]["id"]
            response = await client.patch(f"{path}/{mine}", json={"customer": theirs},
                                          headers=caller.headers)
            assert response.status_code == 404 and response.json()["error"]["field"] == "customer"


async def test_a_display_id_in_a_body_names_the_callers_own_customer(client, scopes):
    for caller in scopes:
        created = await create(client, caller, "/onboardings", {"customer": 1, "name": "Again"})
        assert created["customer"] == caller.objects["/customers"][0]["id"]
        assert created["livemode"] == caller.livemode


async def test_idempotency_keys_never_replay_across_scopes(client, scopes):
    key, body = f"tenancy-{new_id()}", {"name": "Same request"}
    created = []
    for scope in scopes:
        response = await client.post("/customers", json=body,
                                     headers={**scope.headers, "Idempotency-Key": key})
        assert response.status_code == 201 and "idempotent-replayed" not in response.headers
        created.append(response.json()["id"])
    assert len(set(created)) == len(scopes)
