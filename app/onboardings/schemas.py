"""Onboarding wire structs."""

from __future__ import annotations

import datetime
from typing import Literal

import msgspec

from app.core.validation import Email, ExternalId, MetadataInput, Name, Reference

Status = Literal["active", "paused", "completed", "cancelled"]


class OnboardingCreate(msgspec.Struct, forbid_unknown_fields=True, kw_only=True):
    # one of the two names the customer (app/resources/references.py)
    customer: Reference | None = None
    customer_external_id: ExternalId | None = None
    name: Name
    status: Status = "active"
    owner_email: Email | None = None
    target_date: datetime.date | None = None
    external_id: ExternalId | None = None
    metadata: MetadataInput = {}


class OnboardingUpdate(msgspec.Struct, forbid_unknown_fields=True):
    # accepted only to say clearly that it cannot change
    customer: Reference | msgspec.UnsetType = msgspec.UNSET
    customer_external_id: ExternalId | msgspec.UnsetType = msgspec.UNSET
    name: Name | msgspec.UnsetType = msgspec.UNSET
    status: Status | msgspec.UnsetType = msgspec.UNSET
    owner_email: Email | None | msgspec.UnsetType = msgspec.UNSET
    target_date: datetime.date | None | msgspec.UnsetType = msgspec.UNSET
    external_id: ExternalId | None | msgspec.UnsetType = msgspec.UNSET
    metadata: MetadataInput | msgspec.UnsetType = msgspec.UNSET


class Onboarding(msgspec.Struct):
    object: str
    id: str
    display_id: int
    customer: str
    name: str
    status: str
    owner_email: str | None
    target_date: str | None
    started_at: str | None
    completed_at: str | None
    cancelled_at: str | None
    external_id: str | None
    metadata: dict[str, str]
    livemode: bool
    created_at: str
    updated_at: str
