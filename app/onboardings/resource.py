"""The onboarding resource: a customer's go-live project and its status machine."""

from __future__ import annotations

import datetime

from app.core import validation
from app.core.errors import Conflict
from app.customers.resource import customers
from app.onboardings.schemas import Onboarding, OnboardingCreate, OnboardingUpdate
from app.resources.model import Derived, Filter, Hooks, Resource, choice_filter
from app.resources.references import keep_customer, required_reference, resolve_customer

STATUSES = ("active", "paused", "completed", "cancelled")
# active <-> paused; active/paused -> completed or cancelled; completed -> active (reopen)
TRANSITIONS = {
    "active": {"paused", "completed", "cancelled"},
    "paused": {"active", "completed", "cancelled"},
    "completed": {"active"},
    "cancelled": set(),
}


def _api_timestamp(moment: datetime.datetime) -> str:
    return moment.isoformat(timespec="milliseconds").replace("+00:00", "Z")


def status_timestamps(current: Onboarding, status: str, now: datetime.datetime) -> dict:
    """The status timestamps a change to `status` sets or clears (column -> datetime | None)."""
    if status == "active":
        changes: dict = {} if current.started_at else {"started_at": now}
        if current.status == "completed":
            changes["completed_at"] = None  # reopened: no longer completed
        return changes
    if status in ("completed", "cancelled"):
        return {f"{status}_at": now}
    return {}


class OnboardingHooks(Hooks):
    def normalise(self, values):
        if "owner_email" in values:
            values["owner_email"] = validation.email(values["owner_email"], "owner_email")
        return values

    async def prepare_create(self, conn, principal, values):
        named = required_reference(values)
        values["customer"] = await resolve_customer(conn, principal, named)
        return values

    async def prepare_update(self, conn, principal, current, requested):
        await keep_customer(conn, principal, current, requested)
        return requested

    def columns(self, row):
        if isinstance(row["target_date"], str):
            row["target_date"] = datetime.date.fromisoformat(row["target_date"])
        return row

    def check_patch(self, current, requested):
        if requested.get("target_date") is not None:
            requested["target_date"] = requested["target_date"].isoformat()
        status = requested.get("status", current.status)
        if status != current.status and status not in TRANSITIONS[current.status]:
            raise Conflict(
                f"An onboarding cannot go from {current.status} to {status}",
                code="invalid_status_transition",
                field="status",
            )
        return requested

    def derived(self, current, new):
        columns: dict = {}
        if new.get("target_date") is not None:
            columns["target_date"] = datetime.date.fromisoformat(new["target_date"])
        if "status" in new:
            columns.update(status_timestamps(current, new["status"], datetime.datetime.now(datetime.UTC)))
        fields = {
            name: _api_timestamp(value) if value else None
            for name, value in columns.items()
            if name.endswith("_at")
        }
        return Derived(columns, fields)


onboardings = Resource(
    object="onboarding",
    table="onboardings",
    read=Onboarding,
    create=OnboardingCreate,
    update=OnboardingUpdate,
    filters=(
        Filter("customer", "customer_id", references=customers),
        Filter("customer_external_id", "customer_id", references=customers,
               reference_key="external_id"),
        Filter("status", "status", choice_filter(*STATUSES)),
        Filter("owner_email", "owner_email"),
        Filter("external_id", "external_id"),
    ),
    columns={"customer": "customer_id"},
    parent=customers,
    parent_column="customer_id",
    hooks=OnboardingHooks(),
)
