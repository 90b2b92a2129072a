"""Keyset lists: limit, cursor, order; nothing skipped or repeated, even within a millisecond."""

from __future__ import annotations

import asyncio

import pytest

from app.core.principal import Principal
from app.customers.resource import customers
from app.customers.schemas import CustomerCreate
from app.resources import writes
from tests.test_errors import assert_error


async def page_through(client, auth, order: str, limit: int = 7) -> list[str]:
    ids: list[str] = []
    cursor = None
    while True:
        query = f"/customers?limit={limit}&order={order}" + (f"&cursor={cursor}" if cursor else "")
        page = (await client.get(query, headers=auth)).json()
        assert len(page["data"]) <= limit
        ids += [item["id"] for item in page["data"]]
        if not page["has_more"]:
            # ascending pages name their position even at the end, so a tail can resume
            assert (page["next_cursor"] is None) == (order == "desc" or not page["data"])
            return ids
        cursor = page["next_cursor"]


async def assert_pages_cover_exactly(client, auth, expected: set[str]) -> None:
    for order in ("asc", "desc"):
        seen = await page_through(client, auth, order)
        assert len(seen) == len(set(seen)), f"an item repeated ({order})"
        assert set(seen) == expected, f"an item was skipped ({order})"


async def test_concurrent_creates_page_exactly_once_in_both_orders(client, auth):
    async def create(i: int) -> str:
        response = await client.post("/customers", json={"name": f"c{i}"}, headers=auth)
        assert response.status_code == 201, response.text
        return response.json()["id"]

    ids = await asyncio.gather(*(create(i) for i in range(300)))
    await assert_pages_cover_exactly(client, auth, set(ids))


async def test_creates_in_one_transaction_page_exactly_once(client, workspace, admin):
    principal = Principal(workspace.live_key_id, workspace.id, True)
    async with admin.acquire() as conn, conn.transaction():
        created = [
            await writes.create_object(conn, customers, principal, CustomerCreate(name=f"t{i}"))
            for i in range(200)
        ]
    milliseconds = {customer.created_at for customer in created}
    assert len(milliseconds) < len(created), "expected many objects within one millisecond"
    await assert_pages_cover_exactly(client, workspace.live, {c.id for c in created})


async def test_next_cursor_is_the_last_items_created_at_in_microseconds(client, auth, admin):
    for i in range(3):
        await client.post("/customers", json={"name": f"n{i}"}, headers=auth)
    page = (await client.get("/customers?limit=2", headers=auth)).json()
    assert page["has_more"] is True
    last = page["data"][-1]
    stored = await admin.fetchval("select created_at from customers where id = $1", last["id"])
    assert page["next_cursor"] == stored.strftime("%Y-%m-%dT%H:%M:%S.%fZ")
    assert page["next_cursor"].startswith(last["created_at"][:-1])


async def test_default_order_is_newest_first_with_limit_ten(client, auth):
    for i in range(12):
        await client.post("/customers", json={"name": f"d{i}"}, headers=auth)
    page = (await client.get("/customers", headers=auth)).json()
    assert page["object"] == "list"
    assert [c["name"] for c in page["data"]] == [f"d{i}" for i in range(11, 1, -1)]
    assert page["has_more"] is True


@pytest.mark.parametrize("limit", ["0", "101", "-1", "ten", ""])
async def test_limit_outside_one_to_hundred_is_400(client, auth, limit):
    assert_error(await client.get(f"/customers?limit={limit}", headers=auth), 400,
                 "parameter_invalid", "limit")


@pytest.mark.parametrize("cursor", ["yesterday", "2026-13-01T00:00:00Z", "12345"])
async def test_unparseable_cursor_is_400(client, auth, cursor):
    assert_error(await client.get(f"/customers?cursor={cursor}", headers=auth), 400,
                 "parameter_invalid", "cursor")


async def test_invalid_order_is_400(client, auth):
    assert_error(await client.get("/customers?order=up", headers=auth), 400,
                 "parameter_invalid", "order")


async def test_cursor_accepts_an_offset_timestamp(client, auth):
    await client.post("/customers", json={"name": "z"}, headers=auth)
    response = await client.get(
        "/customers", params={"cursor": "2999-01-01T00:00:00+00:00"}, headers=auth
    )
    assert response.status_code == 200
    assert len(response.json()["data"]) == 1
