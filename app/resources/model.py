"""What the shared CRUD machinery needs to know about one resource."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any, NamedTuple

import asyncpg
import msgspec

from app.core.errors import InvalidRequest
from app.core.principal import Principal

# parse(value) -> the filter's SQL value; raises InvalidRequest with the filter's field
FilterParser = Callable[[str, str], object]


def text_filter(name: str, value: str) -> str:
    return value


def lowercase_filter(name: str, value: str) -> str:
    return value.strip().lower()


def bool_filter(name: str, value: str) -> bool:
    if value not in ("true", "false"):
        raise InvalidRequest(f"{name} must be 'true' or 'false'", field=name)
    return value == "true"


def choice_filter(*choices: str) -> FilterParser:
    def parse(name: str, value: str) -> str:
        if value not in choices:
            raise InvalidRequest(f"{name} must be one of: {', '.join(choices)}", field=name)
        return value

    parse.choices = choices  # type: ignore[attr-defined]  # the OpenAPI document lists them
    return parse


@dataclass(frozen=True)
class Filter:
    """A list filter: `?name=value` compares `column` to the parsed value.

    With `references`, the value is another object's id or display_id, resolved to its cuid.
    """

    name: str
    column: str
    parse: FilterParser = text_filter
    references: Resource | None = None


class Derived(NamedTuple):
    """What an update implies beyond the requested fields: extra columns and API fields."""

    columns: dict[str, Any]
    fields: dict[str, Any]


NO_DERIVED = Derived({}, {})


class Hooks:
    """A resource's own write rules, run inside the write's transaction. Defaults do nothing."""

    async def prepare_create(
        self, conn: asyncpg.Connection, principal: Principal, values: dict[str, Any]
    ) -> dict[str, Any]:
        """Validate and normalise a create's fields (resolve references, lowercase...)."""
        return values

    async def prepare_update(
        self,
        conn: asyncpg.Connection,
        principal: Principal,
        current: Any,
        requested: dict[str, Any],
    ) -> dict[str, Any]:
        """Validate and normalise the fields a PATCH sets."""
        return requested

    async def derived_changes(
        self, conn: asyncpg.Connection, principal: Principal, current: Any, new: dict[str, Any]
    ) -> Derived:
        """Columns that change because of `new` (e.g. a status's timestamp)."""
        return NO_DERIVED

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


_REGISTRY: list[Resource] = []


@dataclass(eq=False)
class Resource:
    """One API resource: its table, its wire structs, its filters and its write rules.

    `read` is built positionally from the `<table>.select` query's columns (the last column,
    the cursor, excluded). `<table>.insert` takes id, workspace, livemode, then
    `insert_fields` in order. `columns` maps an API field to its column where they differ.
    Objects of a resource with a `parent` are soft-deleted with their parent object, found
    by `parent_column`.
    """

    object: str
    table: str
    read: type[msgspec.Struct]
    create: type[msgspec.Struct]
    update: type[msgspec.Struct]
    filters: tuple[Filter, ...] = ()
    insert_fields: tuple[str, ...] = ()
    unique_fields: tuple[str, ...] = ("external_id",)
    columns: dict[str, str] = field(default_factory=dict)
    hooks: Hooks = field(default_factory=Hooks)
    # whether writes append events to the outbox (webhook endpoints are configuration)
    emits_events: bool = True
    # what the create call answers, when it shows more than reads do (a one-time secret)
    created_read: type[msgspec.Struct] | None = None
    parent: Resource | None = None
    parent_column: str | None = None

    def __post_init__(self) -> None:
        _REGISTRY.append(self)

    @property
    def children(self) -> list[Resource]:
        """Resources whose objects belong to one of these and are deleted with it."""
        return [resource for resource in _REGISTRY if resource.parent is self]

    @property
    def path(self) -> str:
        return "/" + self.table

    @property
    def created(self) -> type[msgspec.Struct]:
        return self.created_read or self.read

    @property
    def filter_names(self) -> frozenset[str]:
        return frozenset(f.name for f in self.filters)

    def column(self, api_field: str) -> str:
        return self.columns.get(api_field, api_field)

    def render(self, row: asyncpg.Record) -> msgspec.Struct:
        return self.read(*tuple(row)[:-1])
