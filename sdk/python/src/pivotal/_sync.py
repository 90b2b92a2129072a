"""The synchronous client: `pivotal.Client`."""

from __future__ import annotations

import time
from collections.abc import Callable, Iterable, Iterator, Mapping
from typing import Any, Generic, Self, TypeVar

import httpx

from pivotal import _core
from pivotal._core import BatchAnswer, Call, Config, ListAnswer, RetryPolicy, build_call, path_id
from pivotal.batch import MAX_BATCH, UpsertSummary, batch_key, chunks
from pivotal.errors import APIConnectionError, APITimeoutError
from pivotal.feed import TailState
from pivotal.resources import RESOURCES, ResourceSpec
from pivotal.types import (
    Contact,
    Customer,
    Deleted,
    Event,
    Onboarding,
    WebhookDelivery,
    WebhookEndpoint,
)

T = TypeVar("T")


class Client:
    """The Pivotal API, synchronously. Thread-safe; reuse one client (it pools connections).

    >>> client = pivotal.Client("pivotal_test_…")
    >>> acme = client.customers.create(name="Acme", domain="acme.com")
    """

    def __init__(self, api_key: str | None = None, *, base_url: str | None = None,
                 timeout: float | None = None, max_retries: int | None = None,
                 http_client: httpx.Client | None = None) -> None:
        self.config = Config.resolve(api_key, base_url, timeout, max_retries)
        self.retry_policy = RetryPolicy(max_retries=self.config.max_retries)
        self._http = http_client or httpx.Client(timeout=self.config.timeout)
        self._owns_http = http_client is None
        self.customers: Customers = Customers(self, RESOURCES["customers"])
        self.contacts: Contacts = Contacts(self, RESOURCES["contacts"])
        self.onboardings: Onboardings = Onboardings(self, RESOURCES["onboardings"])
        self.webhook_endpoints = WebhookEndpoints(self, RESOURCES["webhook_endpoints"])
        self.events = Events(self, RESOURCES["events"])

    def request(self, method: str, path: str, *, params: Mapping[str, Any] | None = None,
                json: Any = None, idempotency_key: str | None = None) -> Any:
        """Any API call, answered as plain JSON (dicts and lists): for what the typed
        resources do not cover. Retries and errors behave as everywhere else."""
        call = build_call(method.upper(), path, params=params, body=json,
                          idempotency_key=idempotency_key)
        return _core.decode(self.send(call).content, Any)

    def send(self, call: Call) -> httpx.Response:
        """Send `call`, retrying what is worth retrying; the answer, or a typed exception."""
        attempt = 0
        while True:
            try:
                response = self._http.request(
                    call.method, self.config.base_url + call.path, params=call.params,
                    content=call.content, headers={**self.config.headers(), **call.headers},
                    timeout=self.config.timeout,
                )
            except httpx.TransportError as exc:
                delay = self.retry_policy.after_disconnect(attempt)
                if delay is None:
                    kind = APITimeoutError if isinstance(exc, httpx.TimeoutException) else APIConnectionError
                    raise kind(f"{call.method} {call.path}: {exc!r}") from exc
            else:
                if response.is_success:
                    return response
                error = _core.error_of(response)
                delay = self.retry_policy.after_error(error, attempt)
                if delay is None:
                    raise error
            time.sleep(delay)
            attempt += 1

    def _typed(self, call: Call, kind: Any) -> Any:
        return _core.decode(self.send(call).content, kind)

    def close(self) -> None:
        if self._owns_http:
            self._http.close()

    def __enter__(self) -> Self:
        return self

    def __exit__(self, *exc_info: object) -> None:
        self.close()


class Page(Generic[T]):
    """One page of a list. Iterating it yields every item of this page and of all the pages
    after it, fetched lazily as the iteration gets there."""

    def __init__(self, resource: _Resource[T], params: dict[str, Any], answer: ListAnswer[T]):
        self._resource, self._params = resource, params
        self.data: list[T] = answer.data
        self.has_more = answer.has_more
        self.next_cursor = answer.next_cursor

    def next_page(self) -> Page[T] | None:
        if not self.has_more or not self.next_cursor:
            return None
        return self._resource._page({**self._params, "cursor": self.next_cursor})

    def iter_pages(self) -> Iterator[Page[T]]:
        page: Page[T] | None = self
        while page is not None:
            yield page
            page = page.next_page()

    def __iter__(self) -> Iterator[T]:
        for page in self.iter_pages():
            yield from page.data

    def __repr__(self) -> str:
        return f"<Page of {len(self.data)}, has_more={self.has_more}>"


class _Resource(Generic[T]):
    def __init__(self, client: Client, spec: ResourceSpec) -> None:
        self._client, self._spec = client, spec

    def retrieve(self, id: str | int, *, expand: Iterable[str] | None = None) -> T:
        """One object by its id or display_id."""
        call = build_call("GET", f"{self._spec.path}/{path_id(id)}", params={"expand": expand})
        return self._client._typed(call, self._spec.read(expand))

    def list(self, **params: Any) -> Page[T]:
        """A page of objects, newest first (order="asc" for oldest first); filters as keyword
        arguments. Iterate the page to go through every following page too."""
        return self._page(params)

    def _page(self, params: dict[str, Any]) -> Page[T]:
        call = build_call("GET", self._spec.path, params=params)
        answer = self._client._typed(call, ListAnswer[self._spec.read(params.get("expand"))])
        return Page(self, params, answer)


class _Writable(_Resource[T]):
    def create(self, *, idempotency_key: str | None = None, **params: Any) -> T:
        """Create an object. Safe to retry: the call carries an Idempotency-Key (yours, or a
        generated one that its retries reuse)."""
        call = build_call("POST", self._spec.path, body=params, idempotency_key=idempotency_key)
        return self._client._typed(call, self._spec.created)

    def update(self, id: str | int, **fields: Any) -> T:
        """Change the given fields only; metadata merges key by key (None removes a key)."""
        call = build_call("PATCH", f"{self._spec.path}/{path_id(id)}", body=fields)
        return self._client._typed(call, self._spec.object)

    def delete(self, id: str | int) -> Deleted:
        return self._client._typed(build_call("DELETE", f"{self._spec.path}/{path_id(id)}"), Deleted)


class _Upsertable(_Writable[T]):
    def upsert_many(self, items: Iterable[Mapping[str, Any]], *,
                    on_progress: Callable[[UpsertSummary[T]], object] | None = None,
                    batch_size: int = MAX_BATCH, idempotency_key: str | None = None,
                    expand: Iterable[str] | None = None) -> UpsertSummary[T]:
        """Create or update many objects through the batch API, matched on `external_id`.

        `items` may be any iterable (a generator over a CSV file, say): it is read lazily in
        batches of `batch_size` (at most 100). Items that fail do not stop the others: they are
        counted and listed in the summary's `failures`. `on_progress(summary)` runs after each
        batch. With `idempotency_key`, batch n sends `"{idempotency_key}:{n}"`.
        """
        summary: UpsertSummary[T] = UpsertSummary()
        kind = BatchAnswer[self._spec.read(expand)]
        for number, batch in enumerate(chunks(items, batch_size)):
            call = build_call("POST", f"{self._spec.path}/batch", params={"expand": expand},
                              body={"items": batch},
                              idempotency_key=batch_key(idempotency_key, number))
            answer = self._client._typed(call, kind)
            summary.add(summary.processed, batch, answer.data)
            if on_progress is not None:
                on_progress(summary)
        return summary


class Customers(_Upsertable[Customer]):
    """/customers"""


class Contacts(_Upsertable[Contact]):
    """/contacts"""


class Onboardings(_Upsertable[Onboarding]):
    """/onboardings"""


class WebhookEndpoints(_Writable[WebhookEndpoint]):
    """/webhook_endpoints; `create` answers the signing `secret`, shown only then."""

    def deliveries(self, id: str | int, **params: Any) -> Page[WebhookDelivery]:
        """The endpoint's deliveries, newest first, each with its attempts."""
        spec = RESOURCES["webhook_deliveries"].under(f"{self._spec.path}/{path_id(id)}")
        return _Resource(self._client, spec).list(**params)


class Events(_Resource[Event]):
    """/events: the change feed."""

    def tail(self, cursor: str | None = None, *, type: str | None = None, limit: int = 100,
             poll_interval: float = 1.0, follow: bool = True) -> Tail:
        """Every event after `cursor`, oldest first, then new ones as they happen.

        Save `tail.cursor` after handling each event and pass it back to resume exactly there
        after a restart: nothing skipped, nothing repeated. With follow=False the iteration
        ends once it has caught up; otherwise it polls every `poll_interval` seconds.
        """
        return Tail(self, TailState(cursor, limit, type), poll_interval, follow)

    def redeliver(self, id: str | int, *, idempotency_key: str | None = None) -> list[WebhookDelivery]:
        """Queue a fresh delivery of the event to every matching endpoint."""
        call = build_call("POST", f"/events/{path_id(id)}/redeliver",
                          idempotency_key=idempotency_key)
        return self._client._typed(call, ListAnswer[WebhookDelivery]).data


class Tail:
    """An iterator over the change feed; `cursor` is the position after the last event."""

    def __init__(self, events: Events, state: TailState, poll_interval: float, follow: bool):
        self._events, self._state = events, state
        self._poll_interval, self._follow = poll_interval, follow

    @property
    def cursor(self) -> str | None:
        return self._state.position

    def __iter__(self) -> Tail:
        return self

    def __next__(self) -> Event:
        while True:
            event = self._state.next_event()
            if event is not None:
                return event
            call = build_call("GET", "/events", params=self._state.params())
            if not self._state.accept(self._events._client._typed(call, ListAnswer[Event])):
                if not self._follow:
                    raise StopIteration
                time.sleep(self._poll_interval)
