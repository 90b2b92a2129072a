"""Typed objects of the Pivotal API. Generated from its OpenAPI document by
sdk/python/scripts/generate_types.py: do not edit by hand, run the script."""

from __future__ import annotations

import datetime
from typing import Any, Literal, Required, TypedDict

import msgspec

# ---- objects the API answers with ----------------------------------------------------------


class ErrorBody(msgspec.Struct, kw_only=True):
    type: str
    code: str
    message: str
    field: str | None = None


class ErrorEnvelope(msgspec.Struct, kw_only=True):
    error: ErrorBody


class Deleted(msgspec.Struct, kw_only=True, tag_field='object', tag='deleted'):
    id: str
    display_id: int
    deleted: bool

    @property
    def object(self) -> Literal['deleted']:
        return 'deleted'


class Health(msgspec.Struct, kw_only=True, tag_field='object', tag='health'):
    status: str
    postgres: str
    redis: str

    @property
    def object(self) -> Literal['health']:
        return 'health'


class WebhookAttempt(msgspec.Struct, kw_only=True, tag_field='object', tag='webhook_attempt'):
    attempted_at: str
    status_code: int | None
    latency_ms: int
    error: str | None
    response_body: str | None

    @property
    def object(self) -> Literal['webhook_attempt']:
        return 'webhook_attempt'


class WebhookDelivery(msgspec.Struct, kw_only=True, tag_field='object', tag='webhook_delivery'):
    id: str
    event: str
    event_type: str
    webhook_endpoint: str
    redelivery: bool
    status: str
    attempt_count: int
    next_attempt_at: str | None
    livemode: bool
    created_at: str
    updated_at: str
    attempts: list[WebhookAttempt] = msgspec.field(default_factory=list)

    @property
    def object(self) -> Literal['webhook_delivery']:
        return 'webhook_delivery'


class Contact(msgspec.Struct, kw_only=True, tag_field='object', tag='contact'):
    id: str
    display_id: int
    customer: str | Customer
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

    @property
    def object(self) -> Literal['contact']:
        return 'contact'


class Customer(msgspec.Struct, kw_only=True, tag_field='object', tag='customer'):
    id: str
    display_id: int
    name: str
    domain: str | None
    lifecycle_stage: str
    owner_email: str | None
    primary_contact: str | None | Contact
    external_id: str | None
    metadata: dict[str, str]
    livemode: bool
    created_at: str
    updated_at: str

    @property
    def object(self) -> Literal['customer']:
        return 'customer'


class Onboarding(msgspec.Struct, kw_only=True, tag_field='object', tag='onboarding'):
    id: str
    display_id: int
    customer: str | Customer
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

    @property
    def object(self) -> Literal['onboarding']:
        return 'onboarding'


class WebhookEndpoint(msgspec.Struct, kw_only=True, tag_field='object', tag='webhook_endpoint'):
    id: str
    display_id: int
    url: str
    enabled_events: list[str]
    description: str | None
    status: str
    metadata: dict[str, str]
    livemode: bool
    created_at: str
    updated_at: str

    @property
    def object(self) -> Literal['webhook_endpoint']:
        return 'webhook_endpoint'


class EventData(msgspec.Struct, kw_only=True):
    object: Customer | Contact | Onboarding | WebhookEndpoint
    previous_attributes: dict[str, Any] | None = None


class Event(msgspec.Struct, kw_only=True, tag_field='object', tag='event'):
    id: str
    display_id: int
    type: str
    livemode: bool
    created_at: str
    data: EventData

    @property
    def object(self) -> Literal['event']:
        return 'event'


class EventType(msgspec.Struct, kw_only=True, tag_field='object', tag='event_type'):
    type: str
    description: str
    example: Event

    @property
    def object(self) -> Literal['event_type']:
        return 'event_type'


class WebhookRecovery(msgspec.Struct, kw_only=True, tag_field='object', tag='webhook_recovery'):
    """What POST /webhook_endpoints/{id}/recover queued."""
    webhook_endpoint: str
    since: str
    deliveries_queued: int

    @property
    def object(self) -> Literal['webhook_recovery']:
        return 'webhook_recovery'


class WebhookEndpointWithSecret(msgspec.Struct, kw_only=True, tag_field='object', tag='webhook_endpoint'):
    """The new endpoint with its signing secret, shown this once; an idempotent replay (with
    Idempotent-Replayed: true) answers the endpoint without `secret`."""
    id: str
    display_id: int
    url: str
    enabled_events: list[str]
    description: str | None
    status: str
    metadata: dict[str, str]
    livemode: bool
    created_at: str
    updated_at: str
    secret: str | None = None

    @property
    def object(self) -> Literal['webhook_endpoint']:
        return 'webhook_endpoint'


OBJECT_TYPES: dict[str, type[msgspec.Struct]] = {
    'deleted': Deleted,
    'health': Health,
    'webhook_delivery': WebhookDelivery,
    'webhook_attempt': WebhookAttempt,
    'event_type': EventType,
    'event': Event,
    'customer': Customer,
    'contact': Contact,
    'onboarding': Onboarding,
    'webhook_endpoint': WebhookEndpoint,
    'webhook_recovery': WebhookRecovery,
}


# ---- request bodies: create and update parameters -----------------------------------------


class RotateSecretParams(TypedDict, total=False):
    expire_previous_in: int


class RecoverParams(TypedDict, total=False):
    since: Required[datetime.datetime | str]


class CustomerCreateParams(TypedDict, total=False):
    name: Required[str]
    domain: str | None
    lifecycle_stage: Literal['active', 'at_risk', 'churned', 'onboarding']
    owner_email: str | None
    external_id: str | None
    metadata: dict[str, str | None]


class CustomerUpdateParams(TypedDict, total=False):
    name: str
    domain: str | None
    lifecycle_stage: Literal['active', 'at_risk', 'churned', 'onboarding']
    owner_email: str | None
    external_id: str | None
    metadata: dict[str, str | None]


class ContactCreateParams(TypedDict, total=False):
    customer: int | str | None
    customer_external_id: str | None
    email: Required[str]
    name: str | None
    title: str | None
    phone: str | None
    is_primary: bool
    external_id: str | None
    metadata: dict[str, str | None]


class ContactUpdateParams(TypedDict, total=False):
    customer: int | str
    customer_external_id: str
    email: str
    name: str | None
    title: str | None
    phone: str | None
    is_primary: bool
    external_id: str | None
    metadata: dict[str, str | None]


class OnboardingCreateParams(TypedDict, total=False):
    customer: int | str | None
    customer_external_id: str | None
    name: Required[str]
    status: Literal['active', 'cancelled', 'completed', 'paused']
    owner_email: str | None
    target_date: datetime.date | str | None
    external_id: str | None
    metadata: dict[str, str | None]


class OnboardingUpdateParams(TypedDict, total=False):
    customer: int | str
    customer_external_id: str
    name: str
    status: Literal['active', 'cancelled', 'completed', 'paused']
    owner_email: str | None
    target_date: datetime.date | str | None
    external_id: str | None
    metadata: dict[str, str | None]


class WebhookEndpointCreateParams(TypedDict, total=False):
    url: Required[str]
    enabled_events: Required[list[Literal['*', 'customer.created', 'customer.updated', 'customer.deleted', 'contact.created', 'contact.updated', 'contact.deleted', 'onboarding.created', 'onboarding.updated', 'onboarding.deleted', 'webhook_endpoint.test', 'webhook_endpoint.disabled', 'contact.*', 'customer.*', 'onboarding.*', 'webhook_endpoint.*']]]
    description: str | None
    status: Literal['disabled', 'enabled']
    metadata: dict[str, str | None]


class WebhookEndpointUpdateParams(TypedDict, total=False):
    url: str
    enabled_events: list[Literal['*', 'customer.created', 'customer.updated', 'customer.deleted', 'contact.created', 'contact.updated', 'contact.deleted', 'onboarding.created', 'onboarding.updated', 'onboarding.deleted', 'webhook_endpoint.test', 'webhook_endpoint.disabled', 'contact.*', 'customer.*', 'onboarding.*', 'webhook_endpoint.*']]
    description: str | None
    status: Literal['disabled', 'enabled']
    metadata: dict[str, str | None]


# ---- list parameters ----------------------------------------------------------------------


class ListCustomersParams(TypedDict, total=False):
    limit: int
    cursor: datetime.datetime | str
    order: Literal['desc', 'asc']
    external_id: str
    domain: str
    lifecycle_stage: list[Literal['onboarding', 'active', 'at_risk', 'churned']]
    owner_email: str
    q: str
    expand: list[Literal['primary_contact']]


class ListContactsParams(TypedDict, total=False):
    limit: int
    cursor: datetime.datetime | str
    order: Literal['desc', 'asc']
    customer: str
    customer_external_id: str
    email: str
    is_primary: bool
    external_id: str
    q: str
    expand: list[Literal['customer']]


class ListOnboardingsParams(TypedDict, total=False):
    limit: int
    cursor: datetime.datetime | str
    order: Literal['desc', 'asc']
    customer: str
    customer_external_id: str
    status: list[Literal['active', 'paused', 'completed', 'cancelled']]
    owner_email: str
    external_id: str
    q: str
    expand: list[Literal['customer']]


class ListWebhookEndpointsParams(TypedDict, total=False):
    limit: int
    cursor: datetime.datetime | str
    order: Literal['desc', 'asc']
    status: Literal['enabled', 'disabled']


class ListEventsParams(TypedDict, total=False):
    limit: int
    cursor: datetime.datetime | str
    order: Literal['desc', 'asc']
    type: Literal['customer.created', 'customer.updated', 'customer.deleted', 'contact.created', 'contact.updated', 'contact.deleted', 'onboarding.created', 'onboarding.updated', 'onboarding.deleted', 'webhook_endpoint.test', 'webhook_endpoint.disabled', '*', 'contact.*', 'customer.*', 'onboarding.*', 'webhook_endpoint.*']


class ListWebhookDeliveriesParams(TypedDict, total=False):
    limit: int
    cursor: datetime.datetime | str
    order: Literal['desc', 'asc']


# ---- every error code the API answers with: (status, type) -------------------------------


ERROR_CODES: dict[str, tuple[int, str]] = {
    'parameter_missing': (400, 'invalid_request_error'),
    'parameter_invalid': (400, 'invalid_request_error'),
    'parameter_unknown': (400, 'invalid_request_error'),
    'invalid_json': (400, 'invalid_request_error'),
    'malformed_request': (400, 'invalid_request_error'),
    'missing_api_key': (401, 'authentication_error'),
    'invalid_api_key': (401, 'authentication_error'),
    'resource_not_found': (404, 'not_found_error'),
    'route_not_found': (404, 'not_found_error'),
    'method_not_allowed': (405, 'invalid_request_error'),
    'resource_already_exists': (409, 'conflict_error'),
    'invalid_status_transition': (409, 'conflict_error'),
    'idempotency_key_reused': (409, 'conflict_error'),
    'immutable_field': (409, 'conflict_error'),
    'idempotency_key_in_use': (409, 'conflict_error'),
    'payload_too_large': (413, 'invalid_request_error'),
    'uri_too_long': (414, 'invalid_request_error'),
    'unsupported_media_type': (415, 'invalid_request_error'),
    'rate_limited': (429, 'rate_limit_error'),
    'request_header_fields_too_large': (431, 'invalid_request_error'),
    'internal_error': (500, 'api_error'),
    'service_unavailable': (503, 'api_error'),
}
