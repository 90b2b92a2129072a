"""The contact resource: a customer's people, one of them the primary contact."""

from __future__ import annotations

from typing import Any

import asyncpg

from app.contacts.schemas import Contact, ContactCreate, ContactUpdate
from app.core import validation
from app.core.db import queries
from app.core.principal import Principal
from app.customers.resource import customers
from app.events.repo import append_event
from app.resources import repo
from app.resources.filters import Filter, Search, bool_filter, email_filter
from app.resources.model import NO_DERIVED, Derived, Hooks, Resource
from app.resources.references import keep_customer, required_reference, resolve_customer


async def demote_primary(
    conn: asyncpg.Connection, principal: Principal, customer_id: str, keep_id: str = ""
) -> None:
    """Clear the customer's current primary contact, with its own contact.updated event."""
    for row in await conn.fetch(queries["contacts.demote_primary"], principal.workspace_id,
                                customer_id, keep_id):
        demoted = contacts.render(await repo.fetch(conn, contacts, principal, row["id"]))
        await append_event(conn, principal, "contact.updated", demoted, {"is_primary": True})


class ContactHooks(Hooks):
    def normalise(self, values):
        if "email" in values:
            values["email"] = validation.email(values["email"], "email")
            values["email_normalized"] = validation.email_key(values["email"])
        return values

    def check_patch(self, current, requested):
        # the stored form is a column, not a field: it changes with the email (derived)
        requested.pop("email_normalized", None)
        return requested

    def derived(self, current, new):
        if "email" not in new:
            return NO_DERIVED
        return Derived({"email_normalized": validation.email_key(new["email"])}, {})

    def writes_other_rows(self, create, patch):
        return bool(create.is_primary) or patch.is_primary is True

    async def prepare_create(self, conn, principal, values):
        # a new primary serialises on its customer's row, so two can never both win
        lock = "no key update" if values["is_primary"] else "share"
        named = required_reference(values)
        values["customer"] = await resolve_customer(conn, principal, named, lock)
        if values["is_primary"]:
            await demote_primary(conn, principal, values["customer"])
        return values

    async def prepare_update(self, conn, principal, current, requested):
        await keep_customer(conn, principal, current, requested)
        if requested.get("is_primary") and not current.is_primary:
            await resolve_customer(conn, principal, ("customer", current.customer), "no key update")
            await demote_primary(conn, principal, current.customer, current.id)
        return requested

    def unique_values(self, resource, values, current) -> dict[str, Any]:
        unique = super().unique_values(resource, values, current)
        if "email" in unique:
            customer = values.get("customer") or current.customer
            unique["email"] = (customer, validation.email_key(unique["email"]))
        return unique


contacts = Resource(
    object="contact",
    table="contacts",
    read=Contact,
    create=ContactCreate,
    update=ContactUpdate,
    unique_fields=("external_id", "email"),
    filters=(
        Filter("customer", "customer_id", references=customers),
        Filter("customer_external_id", "customer_id", references=customers,
               reference_key="external_id"),
        Filter("email", "email_normalized", email_filter),
        Filter("is_primary", "is_primary", bool_filter),
        Filter("external_id", "external_id"),
    ),
    search=Search("(t.email || chr(31) || coalesce(t.name, ''))", ("email", "name")),
    expand={"customer": "customers"},
    columns={"customer": "customer_id"},
    parent=customers,
    parent_column="customer_id",
    hooks=ContactHooks(),
)
