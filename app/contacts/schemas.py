"""Contact wire structs."""

from __future__ import annotations

import msgspec

from app.core.validation import Email, ExternalId, MetadataInput, Reference, ShortText


class ContactCreate(msgspec.Struct, forbid_unknown_fields=True, kw_only=True):
    # one of the two names the customer (app/resources/references.py)
    customer: Reference | None = None
    customer_external_id: ExternalId | None = None
    email: Email
    name: ShortText | None = None
    title: ShortText | None = None
    phone: ShortText | None = None
    is_primary: bool = False
    external_id: ExternalId | None = None
    metadata: MetadataInput = {}


class ContactUpdate(msgspec.Struct, forbid_unknown_fields=True):
    # accepted only to say clearly that it cannot change
    customer: Reference | msgspec.UnsetType = msgspec.UNSET
    customer_external_id: ExternalId | msgspec.UnsetType = msgspec.UNSET
    email: Email | msgspec.UnsetType = msgspec.UNSET
    name: ShortText | None | msgspec.UnsetType = msgspec.UNSET
    title: ShortText | None | msgspec.UnsetType = msgspec.UNSET
    phone: ShortText | None | msgspec.UnsetType = msgspec.UNSET
    is_primary: bool | msgspec.UnsetType = msgspec.UNSET
    external_id: ExternalId | None | msgspec.UnsetType = msgspec.UNSET
    metadata: MetadataInput | msgspec.UnsetType = msgspec.UNSET


class Contact(msgspec.Struct):
    object: str
    id: str
    display_id: int
    customer: str
    email: str
    name: str | None
    title: str | None
    phone: str | None
    is_primary: bool
    external_id: str | None
    metadata: dict[str, str]
    livemode: bool
    created_at: str
    updated_at: str
