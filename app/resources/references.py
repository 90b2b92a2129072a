"""Rules shared by objects that belong to a customer (contacts, onboardings)."""

from __future__ import annotations

from typing import Any

import asyncpg

from app.core.errors import InvalidRequest
from app.core.principal import Principal
from app.resources import repo


async def resolve_customer(
    conn: asyncpg.Connection, principal: Principal, reference: Any, lock: str | None = "share"
) -> str:
    """The cuid of the live customer a body names; 404 on `customer` when there is none.

    The customer row stays locked until commit, so a concurrent delete cannot leave the new
    object behind as an orphan of a deleted customer.
    """
    from app.customers.resource import customers

    return await repo.resolve_id(conn, customers, principal, reference, "customer", lock=lock)


async def keep_customer(
    conn: asyncpg.Connection, principal: Principal, current: Any, requested: dict[str, Any]
) -> None:
    """`customer` is immutable: naming the same one is allowed, another one is a 400."""
    if "customer" not in requested:
        return
    reference = requested.pop("customer")
    if reference == current.customer:
        return
    customer_id = await resolve_customer(conn, principal, reference, lock=None)
    if customer_id != current.customer:
        raise InvalidRequest("customer cannot be changed", field="customer")
