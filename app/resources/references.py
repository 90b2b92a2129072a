"""Rules shared by objects that belong to a customer (contacts, onboardings).

A body names its customer by `customer` (id or display_id) or by `customer_external_id` (the
live customer holding that external id), never both.
"""

from __future__ import annotations

from typing import Any

import asyncpg

from app.core.errors import Conflict, InvalidRequest, ParameterMissing
from app.core.principal import Principal
from app.resources import repo

BY_EXTERNAL_ID = "customer_external_id"


def customer_reference(values: dict[str, Any]) -> tuple[str, Any] | None:
    """Take the customer a body names out of `values`: (field, reference), None if it names
    none; 400 when it names one both ways."""
    reference = values.pop("customer", None)
    external_id = values.pop(BY_EXTERNAL_ID, None)
    if reference is not None and external_id is not None:
        raise InvalidRequest(f"Send customer or {BY_EXTERNAL_ID}, not both", field=BY_EXTERNAL_ID)
    if external_id is not None:
        return BY_EXTERNAL_ID, external_id
    return ("customer", reference) if reference is not None else None


def required_reference(values: dict[str, Any]) -> tuple[str, Any]:
    named = customer_reference(values)
    if named is None:
        raise ParameterMissing(
            f"Missing required parameter: customer (or {BY_EXTERNAL_ID})", field="customer"
        )
    return named


async def resolve_customer(
    conn: asyncpg.Connection, principal: Principal, named: tuple[str, Any],
    lock: str | None = "share",
) -> str:
    """The cuid of the live customer a body names; 404 on the field that names it otherwise.

    The customer row stays locked until commit, so a concurrent delete cannot leave the new
    object behind as an orphan of a deleted customer.
    """
    from app.customers.resource import customers  # customers' own module imports this one

    field, reference = named
    key = "external_id" if field == BY_EXTERNAL_ID else None
    row = await repo.fetch(conn, customers, principal, reference, field=field, lock=lock, key=key)
    return row["id"]


async def keep_customer(
    conn: asyncpg.Connection, principal: Principal, current: Any, requested: dict[str, Any]
) -> None:
    """The customer is immutable: naming the same one is allowed, another one is a 409."""
    named = customer_reference(requested)
    if named is None or named == ("customer", current.customer):
        return
    customer_id = await resolve_customer(conn, principal, named, lock=None)
    if customer_id != current.customer:
        raise Conflict("customer cannot be changed", field=named[0], code="immutable_field")
