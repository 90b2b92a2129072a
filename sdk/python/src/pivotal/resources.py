"""What the clients know about each resource: its path, its object type, and what `expand`
can replace with whole objects."""

from __future__ import annotations

import functools
from collections.abc import Iterable
from dataclasses import dataclass, field, replace

import msgspec

from pivotal import types

# §8: `expand` swaps a reference (an id) for the object it names. Checked against the served
# document's `expand` parameters by the SDK's tests.
EXPANDABLE: dict[str, dict[str, type[msgspec.Struct]]] = {
    "customers": {"primary_contact": types.Contact},
    "contacts": {"customer": types.Customer},
    "onboardings": {"customer": types.Customer},
}


@dataclass(frozen=True)
class ResourceSpec:
    path: str
    object: type[msgspec.Struct]
    # what the create call answers, when it shows more than reads (a one-time secret)
    created_as: type[msgspec.Struct] | None = None
    expandable: dict[str, type[msgspec.Struct]] = field(default_factory=dict)

    @property
    def created(self) -> type[msgspec.Struct]:
        return self.created_as or self.object

    def read(self, expand: Iterable[str] | str | None = None) -> type[msgspec.Struct]:
        """The type an answer decodes to: with `expand`, the named references hold objects."""
        if not expand:
            return self.object
        names = [expand] if isinstance(expand, str) else list(expand)
        names = sorted({n.strip() for name in names for n in name.split(",") if n.strip()})
        return _expanded(self.object, tuple((n, self.expandable[n]) for n in names
                                            if n in self.expandable))

    def under(self, prefix: str) -> ResourceSpec:
        return replace(self, path=prefix + self.path)


@functools.cache
def _expanded(base: type[msgspec.Struct],
              fields: tuple[tuple[str, type[msgspec.Struct]], ...]) -> type[msgspec.Struct]:
    """`base` with each named field holding either the id or the whole object (a subclass, so
    isinstance(contact, Contact) still holds)."""
    if not fields:
        return base
    annotations = base.__annotations__
    redefined = []
    for name, target in fields:
        optional = "None" in str(annotations.get(name, ""))
        kind = (str | target | None) if optional else (str | target)
        redefined.append((name, kind, None) if optional else (name, kind))
    suffix = "".join(name.title().replace("_", "") for name, _ in fields)
    return msgspec.defstruct(f"{base.__name__}With{suffix}", redefined, bases=(base,),
                             kw_only=True, module=base.__module__)


RESOURCES: dict[str, ResourceSpec] = {
    "customers": ResourceSpec("/customers", types.Customer,
                              expandable=EXPANDABLE["customers"]),
    "contacts": ResourceSpec("/contacts", types.Contact, expandable=EXPANDABLE["contacts"]),
    "onboardings": ResourceSpec("/onboardings", types.Onboarding,
                                expandable=EXPANDABLE["onboardings"]),
    "webhook_endpoints": ResourceSpec("/webhook_endpoints", types.WebhookEndpoint,
                                      created_as=types.WebhookEndpointWithSecret),
    "webhook_deliveries": ResourceSpec("/deliveries", types.WebhookDelivery),
    "events": ResourceSpec("/events", types.Event),
}
