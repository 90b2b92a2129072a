"""The customer resource: fields, filters and rules for the shared CRUD machinery."""

from __future__ import annotations

from app.core import validation
from app.customers.schemas import Customer, CustomerCreate, CustomerUpdate
from app.resources.model import Filter, Hooks, Resource, choice_filter, lowercase_filter


class CustomerHooks(Hooks):
    def normalise(self, values):
        if "domain" in values:
            values["domain"] = validation.hostname(values["domain"], "domain")
        if "owner_email" in values:
            values["owner_email"] = validation.email(values["owner_email"], "owner_email")
        return values


customers = Resource(
    object="customer",
    table="customers",
    read=Customer,
    create=CustomerCreate,
    update=CustomerUpdate,
    filters=(
        Filter("external_id", "external_id"),
        Filter("domain", "domain", lowercase_filter),
        Filter(
            "lifecycle_stage",
            "lifecycle_stage",
            choice_filter("onboarding", "active", "at_risk", "churned"),
        ),
        Filter("owner_email", "owner_email"),
    ),
    hooks=CustomerHooks(),
)

