"""The asynchronous client: `pivotal.AsyncClient`. The same calls as `pivotal.Client`, awaited;
pages and tails are iterated with `async for`."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterable, AsyncIterator, Callable, Iterable, Mapping
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


class AsyncClient:
    """The Pivotal API for asyncio. Reuse one client; close it with `await client.aclose()`
    or `async with pivotal.AsyncClient(...) as client:`."""

    def __init__(self, api_key: str | None = None, *, base_url: str | None = None,
                 timeout: float | None = None, max_retries: int | None = None,
                 http_client: httpx.AsyncClient | None = None) -> None:
        self.config = Config.resolve(api_key, base_url, timeout, max_retries)
        self.retry_policy = RetryPolicy(max_retries=self.config.max_retries)
        self._http = http_client or httpx.AsyncClient(timeout=self.config.timeout)
        self._owns_http = http_client is None
        self.customers: AsyncCustomers = AsyncCustomers(self, RESOURCES["customers"])
        self.contacts: AsyncContacts = AsyncContacts(self, RESOURCES["contacts"])
        self.onboardings: AsyncOnboardings = AsyncOnboardings(self, RESOURCES["onboardings"])
        self.webhook_endpoints = AsyncWebhookEndpoints(self, RESOURCES["webhook_endpoints"])
        self.events = AsyncEvents(self, RESOURCES["events"])

    async def request(self, method: str, path: str, *, params: Mapping[str, Any] | None = None,
                      json: Any = None, idempotency_key: str | None = None) -> Any:
        """Any API call, answered as plain JSON; see Client.request."""
        call = build_call(method.upper(), path, params=params, body=json,
                          idempotency_key=idempotency_key)
        return _core.decode((await self.send(call)).content, Any)

    async def send(self, call: Call) -> httpx.Response:
        """Send `call`, retrying what is worth retrying; the answer, or a typed exception."""
        attempt = 0
        while True:
            try:
                response = await self._http.request(
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
            await asyncio.sleep(delay)
            attempt += 1

    async def _typed(self, call: Call, kind: Any) -> Any:
        return _core.decode((await self.send(call)).content, kind)

    async def aclose(self) -> None:
        if self._owns_http:
            await self._http.aclose()

    async def __aenter__(self) -> Self:
        return self

    async def __aexit__(self, *exc_info: object) -> None:
        await self.aclose()


class AsyncPage(Generic[T]):
    """One page of a list; `async for` over it yields the items of this page and of every
    page after it, fetched as the iteration gets there."""

    def __init__(self, resource: _AsyncResource[T], params: dict[str, Any], answer: ListAnswer[T]):
        self._resource, self._params = resource, params
        self.data: list[T] = answer.data
        self.has_more = answer.has_more
        self.next_cursor = answer.next_cursor

    async def next_page(self) -> AsyncPage[T] | None:
        if not self.has_more or not self.next_cursor:
            return None
        return await self._resource._page({**self._params, "cursor": self.next_cursor})

    async def iter_pages(self) -> AsyncIterator[AsyncPage[T]]:
        page: AsyncPage[T] | None = self
        while page is not None:
            yield page
            page = await page.next_page()

    async def __aiter__(self) -> AsyncIterator[T]:
        async for page in self.iter_pages():
            for item in page.data:
                yield item

    def __repr__(self) -> str:
        return f"<AsyncPage of {len(self.data)}, has_more={self.has_more}>"


class _AsyncResource(Generic[T]):
    def __init__(self, client: AsyncClient, spec: ResourceSpec) -> None:
        self._client, self._spec = client, spec

    async def retrieve(self, id: str | int, *, expand: Iterable[str] | None = None) -> T:
        """One object by its id or display_id."""
        call = build_call("GET", f"{self._spec.path}/{path_id(id)}", params={"expand": expand})
        return await self._client._typed(call, self._spec.read(expand))

    async def list(self, **params: Any) -> AsyncPage[T]:
        """The first page; `async for` over it to go through every following page too."""
        return await self._page(params)

    async def _page(self, params: dict[str, Any]) -> AsyncPage[T]:
        call = build_call("GET", self._spec.path, params=params)
        answer = await self._client._typed(call, ListAnswer[self._spec.read(params.get("expand"))])
        return AsyncPage(self, params, answer)


class _AsyncWritable(_AsyncResource[T]):
    async def create(self, *, idempotency_key: str | None = None, **params: Any) -> T:
        """Create an object; safe to retry (see Client)."""
        call = build_call("POST", self._spec.path, body=params, idempotency_key=idempotency_key)
        return await self._client._typed(call, self._spec.created)

    async def update(self, id: str | int, **fields: Any) -> T:
        call = build_call("PATCH", f"{self._spec.path}/{path_id(id)}", body=fields)
        return await self._client._typed(call, self._spec.object)

    async def delete(self, id: str | int) -> Deleted:
        call = build_call("DELETE", f"{self._spec.path}/{path_id(id)}")
        return await self._client._typed(call, Deleted)


class _AsyncUpsertable(_AsyncWritable[T]):
    async def upsert_many(self, items: Iterable[Mapping[str, Any]] | AsyncIterable[Mapping[str, Any]],
                          *, on_progress: Callable[[UpsertSummary[T]], object] | None = None,
                          batch_size: int = MAX_BATCH, idempotency_key: str | None = None,
                          expand: Iterable[str] | None = None) -> UpsertSummary[T]:
        """Create or update many objects through the batch API; see Client's upsert_many.
        `items` may also be an async iterable."""
        summary: UpsertSummary[T] = UpsertSummary()
        kind = BatchAnswer[self._spec.read(expand)]
        number = 0
        async for batch in _async_chunks(items, batch_size):
            call = build_call("POST", f"{self._spec.path}/batch", params={"expand": expand},
                              body={"items": batch},
                              idempotency_key=batch_key(idempotency_key, number))
            answer = await self._client._typed(call, kind)
            summary.add(summary.processed, batch, answer.data)
            number += 1
            if on_progress is not None:
                outcome = on_progress(summary)
                if asyncio.iscoroutine(outcome):
                    await outcome
        return summary


async def _async_chunks(items: Any, size: int) -> AsyncIterator[list[Mapping[str, Any]]]:
    if not isinstance(items, AsyncIterable):
        for batch in chunks(items, size):
            yield batch
        return
    chunks([], size)  # the same check of `size`
    batch: list[Mapping[str, Any]] = []
    async for item in items:
        batch.append(item)
        if len(batch) == size:
            yield batch
            batch = []
    if batch:
        yield batch


class AsyncCustomers(_AsyncUpsertable[Customer]):
    """/customers"""


class AsyncContacts(_AsyncUpsertable[Contact]):
    """/contacts"""


class AsyncOnboardings(_AsyncUpsertable[Onboarding]):
    """/onboardings"""


class AsyncWebhookEndpoints(_AsyncWritable[WebhookEndpoint]):
    """/webhook_endpoints; `create` answers the signing `secret`, shown only then."""

    async def deliveries(self, id: str | int, **params: Any) -> AsyncPage[WebhookDelivery]:
        spec = RESOURCES["webhook_deliveries"].under(f"{self._spec.path}/{path_id(id)}")
        return await _AsyncResource(self._client, spec).list(**params)


class AsyncEvents(_AsyncResource[Event]):
    """/events: the change feed."""

    def tail(self, cursor: str | None = None, *, type: str | None = None, limit: int = 100,
             poll_interval: float = 1.0, follow: bool = True) -> AsyncTail:
        """Every event after `cursor`, then new ones as they happen (`async for`); see
        Client's events.tail for saving and resuming the position."""
        return AsyncTail(self, TailState(cursor, limit, type), poll_interval, follow)

    async def redeliver(self, id: str | int, *, idempotency_key: str | None = None) -> list[WebhookDelivery]:
        call = build_call("POST", f"/events/{path_id(id)}/redeliver",
                          idempotency_key=idempotency_key)
        return (await self._client._typed(call, ListAnswer[WebhookDelivery])).data


class AsyncTail:
    """An async iterator over the change feed; `cursor` is the position after the last event."""

    def __init__(self, events: AsyncEvents, state: TailState, poll_interval: float, follow: bool):
        self._events, self._state = events, state
        self._poll_interval, self._follow = poll_interval, follow

    @property
    def cursor(self) -> str | None:
        return self._state.position

    def __aiter__(self) -> AsyncTail:
        return self

    async def __anext__(self) -> Event:
        while True:
            event = self._state.next_event()
            if event is not None:
                return event
            call = build_call("GET", "/events", params=self._state.params())
            if not self._state.accept(await self._events._client._typed(call, ListAnswer[Event])):
                if not self._follow:
                    raise StopAsyncIteration
                await asyncio.sleep(self._poll_interval)
