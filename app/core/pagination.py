"""Keyset pages, for every list in the API: resources, the change feed, deliveries.

A page is the rows after the cursor in `created_at` order (unique per list scope, so no row
is skipped or repeated), one row more than asked to know whether more follow. The SQL is
built with `SqlArgs`, which numbers each `$n` as its value is added, so a query's text and
its arguments cannot disagree.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

import asyncpg
import msgspec


class ListParams(msgspec.Struct, frozen=True):
    limit: int
    cursor: datetime | None
    descending: bool
    filters: dict[str, str]


class SqlArgs:
    """Positional arguments of one query: `add(value)` appends it and answers its `$n`."""

    def __init__(self, *values: Any) -> None:
        self.values: list[Any] = list(values)

    def add(self, value: Any) -> str:
        self.values.append(value)
        return f"${len(self.values)}"


def keyset_sql(select: str, alias: str, conditions: list[str], args: SqlArgs,
               params: ListParams) -> str:
    """`select` narrowed by `conditions` (whose values are in `args`), after the cursor, in
    the page's order, one row more than the limit."""
    where = list(conditions)
    if params.cursor is not None:
        where.append(f"{alias}.created_at {'<' if params.descending else '>'} "
                     f"{args.add(params.cursor)}")
    direction = "desc" if params.descending else "asc"
    return (f"{select} where {' and '.join(where)} "
            f"order by {alias}.created_at {direction} limit {args.add(params.limit + 1)}")


def page_of(rows: list[asyncpg.Record], params: ListParams) -> tuple[list[asyncpg.Record], bool]:
    """The page's rows (the query asked for one more), and whether more follow."""
    return rows[: params.limit], len(rows) > params.limit


async def fetch_page(conn: asyncpg.Connection, select: str, alias: str, conditions: list[str],
                     args: SqlArgs, params: ListParams) -> tuple[list[asyncpg.Record], bool]:
    """One page of rows, and whether more follow."""
    rows = await conn.fetch(keyset_sql(select, alias, conditions, args, params), *args.values)
    return page_of(rows, params)


class ListPage(msgspec.Struct):
    object: str
    data: list[Any]
    has_more: bool
    next_cursor: str | None


def list_page(
    items: list[Any], has_more: bool, last_cursor: str | None, descending: bool
) -> ListPage:
    """`next_cursor` is the last item's created_at at full precision.

    It is null on the last page, except in ascending order: a reader tailing a feed reaches
    the end and must still be able to save where it stopped, so an ascending page with items
    always names its position (the next read from there returns the items added since).
    """
    keep = has_more or (not descending and bool(items))
    return ListPage("list", items, has_more, last_cursor if keep else None)
