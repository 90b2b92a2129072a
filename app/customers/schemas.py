"""Customer wire structs: separate create, update and read shapes."""

from __future__ import annotations

from typing import Literal

import msgspec

from app.core.validation import Domain, Email, ExternalId, MetadataInput, Name

LifecycleStage = Literal["onboarding", "active", "at_risk", "churned"]


class CustomerCreate(msgspec.Struct, forbid_unknown_fields=True):
    name: Name
    domain: Domain | None = None
    lifecycle_stage: LifecycleStage = "onboarding"
    owner_email: Email | None = None
    external_id: ExternalId | None = None
    metadata: MetadataInput = {}


class CustomerUpdate(msgspec.Struct, forbid_unknown_fields=True):
    name: Name | msgspec.UnsetType = msgspec.UNSET
    domain: Domain | None | msgspec.UnsetType = msgspec.UNSET
    lifecycle_stage: LifecycleStage | msgspec.UnsetType = msgspec.UNSET
    owner_email: Email | None | msgspec.UnsetType = msgspec.UNSET
    external_id: ExternalId | None | msgspec.UnsetType = msgspec.UNSET
    metadata: MetadataInput | msgspec.UnsetType = msgspec.UNSET


class Customer(msgspec.Struct):
    object: str
    id: str
    display_id: int
    name: str
    domain: str | None
    lifecycle_stage: str
    owner_email: str | None
    primary_contact: str | None
    external_id: str | None
    metadata: dict[str, str]
    livemode: bool
    created_at: str
    updated_at: str
