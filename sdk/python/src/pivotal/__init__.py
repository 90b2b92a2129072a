"""Pivotal's Python SDK.

    import pivotal

    client = pivotal.Client("pivotal_test_…")
    acme = client.customers.create(name="Acme", domain="acme.com")
    for customer in client.customers.list(lifecycle_stage="active"):
        ...

See the README for every feature: retries and idempotency, pagination, batch upserts, the
change feed, webhook verification, the async client and the backfill command.
"""

from pivotal import types, webhooks
from pivotal._async import AsyncClient, AsyncPage, AsyncTail
from pivotal._core import BatchResult, RetryPolicy, __version__
from pivotal._sync import Client, Page, Tail
from pivotal.batch import UpsertFailure, UpsertSummary
from pivotal.errors import (
    APIConnectionError,
    APIError,
    APITimeoutError,
    AuthenticationError,
    ConflictError,
    InvalidRequestError,
    NotFoundError,
    PivotalError,
    RateLimitError,
    ServerError,
    WebhookVerificationError,
)
from pivotal.types import (
    Contact,
    Customer,
    Deleted,
    ErrorBody,
    Event,
    Onboarding,
    WebhookDelivery,
    WebhookEndpoint,
    WebhookEndpointWithSecret,
)

__all__ = [
    "APIConnectionError",
    "APIError",
    "APITimeoutError",
    "AsyncClient",
    "AsyncPage",
    "AsyncTail",
    "AuthenticationError",
    "BatchResult",
    "Client",
    "ConflictError",
    "Contact",
    "Customer",
    "Deleted",
    "ErrorBody",
    "Event",
    "InvalidRequestError",
    "NotFoundError",
    "Onboarding",
    "Page",
    "PivotalError",
    "RateLimitError",
    "RetryPolicy",
    "ServerError",
    "Tail",
    "UpsertFailure",
    "UpsertSummary",
    "WebhookDelivery",
    "WebhookEndpoint",
    "WebhookEndpointWithSecret",
    "WebhookVerificationError",
    "__version__",
    "types",
    "webhooks",
]
