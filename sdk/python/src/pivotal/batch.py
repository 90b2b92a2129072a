"""upsert_many's bookkeeping: batches of at most 100 items, and the running summary."""

from __future__ import annotations

import itertools
from collections.abc import Iterable, Iterator, Mapping
from dataclasses import dataclass, field
from typing import Any, Generic, TypeVar

from pivotal._core import BatchResult
from pivotal.types import ErrorBody

T = TypeVar("T")
MAX_BATCH = 100  # the API takes 1 to 100 items per batch
RESULTS = ("created", "updated", "unchanged")


def chunks(items: Iterable[Mapping[str, Any]], size: int) -> Iterator[list[Mapping[str, Any]]]:
    """Any iterable, lazily, as lists of `size` items: a generator of a million rows is never
    held in memory at once."""
    if not 1 <= size <= MAX_BATCH:
        raise ValueError(f"batch_size must be between 1 and {MAX_BATCH}")
    iterator = iter(items)
    while batch := list(itertools.islice(iterator, size)):
        yield batch


@dataclass(frozen=True)
class UpsertFailure:
    """An item the API refused: its position in the whole input, the item itself, and why."""

    index: int
    item: Mapping[str, Any]
    error: ErrorBody


@dataclass
class UpsertSummary(Generic[T]):
    """What upsert_many did so far: counts per result, every item's result, and the failures.

    Passed to `on_progress` after each batch, and returned at the end.
    """

    created: int = 0
    updated: int = 0
    unchanged: int = 0
    failed: int = 0
    batches: int = 0
    results: list[BatchResult[T]] = field(default_factory=list)
    failures: list[UpsertFailure] = field(default_factory=list)

    @property
    def processed(self) -> int:
        return self.created + self.updated + self.unchanged + self.failed

    @property
    def objects(self) -> list[T]:
        """The objects created, updated or found unchanged, in input order."""
        return [r.data for r in self.results if r.data is not None]

    def add(self, offset: int, items: list[Mapping[str, Any]], results: list[BatchResult[T]]) -> None:
        """Count one batch's results; `offset` is the batch's first item's position overall."""
        self.batches += 1
        for result in results:
            result.index += offset
            self.results.append(result)
            if result.result in RESULTS:
                setattr(self, result.result, getattr(self, result.result) + 1)
            else:
                self.failed += 1
                error = result.error or ErrorBody(type="api_error", code="unknown",
                                                  message=f"result {result.result!r}")
                self.failures.append(UpsertFailure(result.index, items[result.index - offset], error))

    def __str__(self) -> str:
        return (f"{self.created} created, {self.updated} updated, {self.unchanged} unchanged, "
                f"{self.failed} failed")


def batch_key(prefix: str | None, number: int) -> str | None:
    """Each batch's Idempotency-Key: derived from the caller's, or generated per call."""
    return None if prefix is None else f"{prefix}:{number}"
