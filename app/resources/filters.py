"""List filters: what `?name=value` may say about a resource's objects, and the SQL it means.

Each filter turns its raw query value into conditions on the list's rows (alias `t`): a SQL
fragment with one `{}` where its parameter goes, and the parameter's value. The pagination
builder numbers the parameters (app/core/pagination.py).
"""

from __future__ import annotations

import datetime
import re
from collections.abc import Callable
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any, NamedTuple

from app.core import validation
from app.core.errors import InvalidRequest
from app.http.parsing import parse_timestamp

if TYPE_CHECKING:
    from app.resources.model import Resource

# parse(name, value) -> the filter's SQL value; raises InvalidRequest with the filter's field
FilterParser = Callable[[str, str], object]
# the shortest `q` a search takes, and the longest
SEARCH_LENGTH = (2, 100)


class Condition(NamedTuple):
    sql: str  # with one `{}` for the parameter
    value: Any


def text_filter(name: str, value: str) -> str:
    return value


def lowercase_filter(name: str, value: str) -> str:
    return value.strip().lower()


def email_filter(name: str, value: str) -> str:
    return validation.email_key(value)


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


def timestamp_bound(name: str, value: str) -> datetime.datetime:
    return parse_timestamp(value, name)


def date_bound(name: str, value: str) -> datetime.date:
    try:
        return datetime.date.fromisoformat(value.strip()) if len(value.strip()) == 10 else \
            _bad_date(name)
    except ValueError:
        return _bad_date(name)


def _bad_date(name: str) -> datetime.date:
    raise InvalidRequest(f"{name} must be a date, e.g. 2027-01-31", field=name)


@dataclass(frozen=True)
class Filter:
    """`?name=value` compares `column` to the parsed value; with `multiple`, the value is a
    comma-separated list (`status=active,paused`) and any of them matches.

    With `references`, the value is another object's id or display_id (or its `reference_key`
    column, such as external_id), resolved to its cuid by the caller.
    """

    name: str
    column: str
    parse: FilterParser = text_filter
    references: Resource | None = None
    reference_key: str | None = None
    multiple: bool = False

    @property
    def names(self) -> tuple[str, ...]:
        return (self.name,)

    def conditions(self, raw: dict[str, str]) -> list[Condition]:
        if self.name not in raw:
            return []
        if not self.multiple:
            return [Condition(f"t.{self.column} = {{}}", self.parse(self.name, raw[self.name]))]
        values = list(dict.fromkeys(self.parse(self.name, part.strip())
                                    for part in raw[self.name].split(",")))
        if len(values) == 1:
            return [Condition(f"t.{self.column} = {{}}", values[0])]
        return [Condition(f"t.{self.column} = any({{}})", values)]


RANGE_OPERATORS = {"gt": ">", "gte": ">=", "lt": "<", "lte": "<="}
_FRACTION = re.compile(r"[T ]\d\d:\d\d:\d\d(?:[.,](\d+))?")


def timestamp_unit(raw: str) -> datetime.timedelta:
    """The precision a timestamp was written to: a bound names that whole second,
    millisecond or microsecond (as the API writes times, to the millisecond)."""
    match = _FRACTION.search(raw)
    digits = len(match[1] or "") if match else 0
    return datetime.timedelta(microseconds=10 ** max(0, 6 - min(digits, 6)))


@dataclass(frozen=True)
class RangeFilter:
    """`?name[gt|gte|lt|lte]=value`, Stripe style: bounds on `column`.

    A timestamp bound stands for the whole unit it is written to: `created[gt]` with an
    object's own created_at (milliseconds) leaves that object out, `created[lte]` keeps it.
    """

    name: str
    column: str
    parse: FilterParser = timestamp_bound

    @property
    def names(self) -> tuple[str, ...]:
        return tuple(f"{self.name}[{op}]" for op in RANGE_OPERATORS)

    def conditions(self, raw: dict[str, str]) -> list[Condition]:
        found = []
        for name, operator in zip(self.names, RANGE_OPERATORS.values(), strict=True):
            if name not in raw:
                continue
            value = self.parse(name, raw[name])
            if isinstance(value, datetime.datetime) and operator in (">", "<="):
                # after the unit it names (gt), or before its end (lte)
                value += timestamp_unit(raw[name])
                operator = ">=" if operator == ">" else "<"
            found.append(Condition(f"t.{self.column} {operator} {{}}", value))
        return found


@dataclass(frozen=True)
class Search:
    """`?q=text`: a case-insensitive substring of `expression` (a trigram index serves it)."""

    expression: str
    fields: tuple[str, ...]  # what the OpenAPI document says it searches
    name: str = "q"

    @property
    def names(self) -> tuple[str, ...]:
        return (self.name,)

    def conditions(self, raw: dict[str, str]) -> list[Condition]:
        if self.name not in raw:
            return []
        text = raw[self.name]
        shortest, longest = SEARCH_LENGTH
        if not shortest <= len(text) <= longest:
            raise InvalidRequest(f"q must be {shortest} to {longest} characters", field=self.name)
        if any(ord(char) < 32 for char in text):
            raise InvalidRequest("q must not contain control characters", field=self.name)
        escaped = text.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_")
        return [Condition(f"{self.expression} ilike {{}}", f"%{escaped}%")]


# the ranges every resource list takes
TIMESTAMP_RANGES = (RangeFilter("created", "created_at"), RangeFilter("updated", "updated_at"))
