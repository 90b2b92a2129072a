"""What the shared CRUD machinery needs to know about one resource."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any, NamedTuple

import asyncpg
import msgspec

from app.core.principal import Principal
from app.resources.filters import TIMESTAMP_RANGES, Filter, RangeFilter, Search


class Derived(NamedTuple):
    """What an update implies beyond the requested fields: extra columns and API fields."""

    columns: dict[str, Any]
    fields: dict[str, Any]


NO_DERIVED = Derived({}, {})


class EventKind(NamedTuple):
    """An event a resource emits besides created/updated/deleted (`<object>.<action>`)."""

    action: str
    description: str
    # delivered only to the object it is about (a webhook endpoint's test), never fanned out
    to_subject_only: bool = False
    # what the event's object always shows (field, value): its example has them too
    sets: tuple[tuple[str, Any], ...] = ()


class Hooks:
    """A resource's own write rules. Defaults do nothing.

    The first three are pure (no database), so a batch can apply them to many items before
    its set-based writes; the async ones run inside the write's transaction.
    """

    def normalise(self, values: dict[str, Any]) -> dict[str, Any]:
        """Validate and normalise the fields a create or a PATCH sets (lowercase, trim...)."""
        return values

    def check_patch(self, current: Any, requested: dict[str, Any]) -> dict[str, Any]:
        """Rules of a change against the current object (e.g. allowed status changes)."""
        return requested

    def derived(self, current: Any, new: dict[str, Any]) -> Derived:
        """Columns that change because of `new` (e.g. a status's timestamp)."""
        return NO_DERIVED

    def columns(self, row: dict[str, Any]) -> dict[str, Any]:
        """A batch update's row of API values as its columns take them (dates...)."""
        return row

    def writes_other_rows(self, create: Any, patch: Any) -> bool:
        """Whether writing this batch item changes other objects too (demoting the previous
        primary contact): such batches are applied item by item."""
        return False

    async def prepare_create(
        self, conn: asyncpg.Connection, principal: Principal, values: dict[str, Any]
    ) -> dict[str, Any]:
        """What a create needs from the database (resolve references...)."""
        return values

    async def prepare_update(
        self,
        conn: asyncpg.Connection,
        principal: Principal,
        current: Any,
        requested: dict[str, Any],
    ) -> dict[str, Any]:
        """What a PATCH needs from the database (an immutable reference's check...)."""
        return requested

    def unique_values(
        self, resource: Resource, values: dict[str, Any], current: Any | None
    ) -> dict[str, Any]:
        """The unique fields among `values`, as `<table>.find_by_<field>` takes them."""
        return {name: values[name] for name in resource.unique_fields if name in values}

    async def check(self, settings: Any, body: Any) -> None:
        """Checks that need the service's settings, before any transaction (e.g. URL safety)."""

    def created_view(self, obj: Any, values: dict[str, Any]) -> Any:
        """What the create call answers; by default the object as every read shows it."""
        return obj

    def replay_view(self, created: Any) -> Any:
        """What an idempotent replay of the create answers (and the idempotency record
        stores): by default the same as the first answer."""
        return created

    async def after_write(
        self, conn: asyncpg.Connection, principal: Principal, obj: Any, previous: Any | None
    ) -> None:
        """Side effects of a create (`previous` None) or an update, with their own events."""


@dataclass(eq=False)
class Resource:
    """One API resource: its table, its wire structs, its filters and its write rules.

    `read` is built positionally from the `<table>.select` query's columns (the last column,
    the cursor, excluded; `check_columns` verifies the names at startup). `<table>.insert`
    takes its `:name` parameters from the create's fields by name, plus id, workspace_id and
    livemode. `columns` maps an API field to its column where they differ.
    Objects of a resource with a `parent` are soft-deleted with their parent object, found
    by `parent_column`.
    """

    object: str
    table: str
    read: type[msgspec.Struct]
    create: type[msgspec.Struct]
    update: type[msgspec.Struct]
    filters: tuple[Filter, ...] = ()
    ranges: tuple[RangeFilter, ...] = TIMESTAMP_RANGES
    search: Search | None = None
    # ?expand=<field>: the field's id replaced by that object, field -> the other table
    expand: dict[str, str] = field(default_factory=dict)
    unique_fields: tuple[str, ...] = ("external_id",)
    columns: dict[str, str] = field(default_factory=dict)
    hooks: Hooks = field(default_factory=Hooks)
    # whether writes append events to the outbox (webhook endpoints are configuration)
    emits_events: bool = True
    # events beyond created/updated/deleted, emitted by the resource's own operations
    extra_events: tuple[EventKind, ...] = ()
    # what the create call answers, when it shows more than reads do (a one-time secret)
    created_read: type[msgspec.Struct] | None = None
    parent: Resource | None = None
    parent_column: str | None = None

    @property
    def path(self) -> str:
        return "/" + self.table

    @property
    def created(self) -> type[msgspec.Struct]:
        return self.created_read or self.read

    @property
    def all_filters(self) -> tuple[Filter | RangeFilter | Search, ...]:
        return (*self.filters, *self.ranges, *((self.search,) if self.search else ()))

    @property
    def filter_names(self) -> frozenset[str]:
        """Every query parameter a list of these takes besides limit, cursor and order."""
        names = {name for spec in self.all_filters for name in spec.names}
        return frozenset(names | ({"expand"} if self.expand else set()))

    @property
    def repeatable(self) -> frozenset[str]:
        """Parameters that may be given several times, their values joined by commas."""
        names = {spec.name for spec in self.filters if spec.multiple}
        return frozenset(names | ({"expand"} if self.expand else set()))

    def column(self, api_field: str) -> str:
        return self.columns.get(api_field, api_field)

    def render(self, row: asyncpg.Record | tuple[Any, ...]) -> msgspec.Struct:
        return self.read(*tuple(row)[:-1])
