"""The shared resource machinery: the registry, unique clashes, rows rendered by position."""

from __future__ import annotations

import asyncio
import subprocess
import sys

import asyncpg
import pytest

from app.core.db import ColumnMismatch, check_columns
from app.core.principal import Principal
from app.customers.resource import customers
from app.registry import EVENT_TYPES, OBJECT_TYPES, RESOURCES, children, row_shapes
from app.resources import repo


def test_event_and_object_types_come_from_the_registered_resources():
    for resource in RESOURCES:
        assert resource.object in OBJECT_TYPES
        expected = {f"{resource.object}.{a}" for a in ("created", "updated", "deleted")}
        assert (expected <= set(EVENT_TYPES)) is resource.emits_events
    assert "event" in OBJECT_TYPES


def test_customer_delete_cascades_even_when_only_the_customers_module_is_imported():
    # the cascade used to come from a list filled as modules happened to be imported
    script = ("from app.customers.resource import customers\n"
              "from app.resources.writes import registry\n"
              "print(sorted(child.object for child in registry.children(customers)))")
    output = subprocess.run([sys.executable, "-c", script], capture_output=True, text=True,
                            check=True).stdout
    assert output.strip() == "['contact', 'onboarding']"
    assert {child.object for child in children(customers)} == {"contact", "onboarding"}


async def test_every_rendered_query_answers_its_structs_fields(admin):
    async with admin.acquire() as conn:
        await check_columns(conn, row_shapes())


async def test_a_query_whose_columns_drift_from_its_struct_fails_the_check(admin):
    shapes = row_shapes()
    fields = shapes["customers.select"]
    swapped = (*fields[:3], fields[4], fields[3], *fields[5:])  # name and domain swapped
    async with admin.acquire() as conn:
        with pytest.raises(ColumnMismatch, match="customers.select"):
            await check_columns(conn, {"customers.select": swapped})


async def test_a_unique_clash_that_is_not_created_at_raises_at_once(admin, workspace):
    """Only a taken created_at is retried; a taken external_id is reported as what it is,
    even when the caller did not say the field is unique (it used to end as a 500 after
    eight retries, 'could not find a free created_at')."""
    principal = Principal(workspace.live_key_id, workspace.id, True)
    values = {"name": "Acme", "domain": None, "lifecycle_stage": "onboarding",
              "owner_email": None, "external_id": "crm-1", "metadata": {}}
    async with admin.acquire() as conn:
        await repo.insert(conn, customers, principal, values, {})
        with pytest.raises(asyncpg.UniqueViolationError):
            await repo.insert(conn, customers, principal, values, {})
        with pytest.raises(repo.UniqueClash) as clash:
            await repo.insert(conn, customers, principal, values, {"external_id": "crm-1"})
    assert clash.value.field == "external_id"


async def test_concurrent_creates_of_one_external_id_make_one_customer_and_409s(client, auth):
    async def create():
        body = {"name": "Acme", "external_id": "crm-race"}
        return await client.post("/customers", json=body, headers=auth)

    responses = await asyncio.gather(*(create() for _ in range(8)))
    statuses = sorted(r.status_code for r in responses)
    assert statuses == [201] + [409] * 7
    winner = next(r.json() for r in responses if r.status_code == 201)
    for response in responses:
        if response.status_code == 409:
            error = response.json()["error"]
            assert error["code"] == "resource_already_exists"
            assert error["field"] == "external_id"
            assert winner["id"] in error["message"]
