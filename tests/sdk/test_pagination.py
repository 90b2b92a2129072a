"""Iterating a page goes through every following page, lazily: each object exactly once."""

from __future__ import annotations

import asyncio

import pytest

from tests.conftest import Workspace, new_workspace

COUNT = 300


@pytest.fixture(scope="module")
async def ws(api) -> Workspace:
    """One workspace for the module: its burst of customers is made once."""
    return await new_workspace(api.pool)


@pytest.fixture(scope="module")
async def burst(api, ws) -> list[str]:
    """COUNT customers created in one concurrent burst; their ids, oldest first."""
    async with api.async_client(ws) as client:
        limit = asyncio.Semaphore(16)

        async def create(i: int) -> str:
            async with limit:
                return (await client.customers.create(name=f"c{i:03d}")).id

        await asyncio.gather(*(create(i) for i in range(COUNT)))
        # the server's order (created_at) may differ from the order the requests were sent in
        page = await client.customers.list(order="asc", limit=100)
        return [c.id async for c in page]


def test_iterating_a_page_yields_every_object_once_newest_first(api, ws, burst):
    with api.client(ws) as client:
        page = client.customers.list(limit=7)
        assert len(page.data) == 7 and page.has_more
        ids = [c.id for c in page]
    assert len(burst) == COUNT
    assert ids == burst[::-1]


def test_iterating_a_page_yields_every_object_once_oldest_first(api, ws, burst):
    with api.client(ws) as client:
        pages = list(client.customers.list(order="asc", limit=7).iter_pages())
    assert len(pages) == -(-COUNT // 7)
    assert [c.id for page in pages for c in page.data] == burst


def test_pages_are_fetched_only_as_the_iteration_reaches_them(api, ws, burst):
    from tests.sdk.test_retries import Recorder

    recorder = Recorder()
    with api.client(ws, http_client=recorder.client()) as client:
        page = client.customers.list(limit=10)
        first_fifteen = [c for _, c in zip(range(15), page, strict=False)]
    assert len(first_fifteen) == 15
    assert len(recorder.requests) == 2
    assert recorder.requests[1][1].url.params["cursor"] == page.next_cursor
