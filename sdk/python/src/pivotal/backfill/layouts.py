"""The CSV layouts the backfill reads: how a row of each export becomes an upsert item.

Column names are those of the exports as the CRMs write them:
- HubSpot, Companies > Export: "Record ID", "Company name", "Company Domain Name", "Create Date",
  "Company owner", "Phone Number", "City", "Country/Region", "Industry", "Lifecycle Stage", ...
- HubSpot, Contacts > Export: "Record ID", "First Name", "Last Name", "Email", "Phone Number",
  "Job Title", "Contact owner", "Lead Status", ... and, with associations included,
  "Associated Company IDs" (semicolon-separated; older exports: "Associated Company ID" or
  "Company ID").
- Stripe, Customers > Export: "id", "Description", "Email", "Name", "Created (UTC)", "Phone",
  "Delinquent", "Currency", ... and one "<key> (metadata)" column per metadata key.

The external_id of every object is the CRM's own record id, and a contact names its company by
the company's record id (`customer_external_id`), so companies must be loaded first.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import Any
from urllib.parse import urlsplit

Row = Mapping[str, str]
Item = dict[str, Any]
COMPANY_ID_COLUMNS = ("Associated Company IDs", "Associated Company ID", "Company ID",
                      "Primary Associated Company ID")
METADATA_SUFFIX = " (metadata)"


def _value(row: Row, *columns: str) -> str | None:
    """The first non-blank value among `columns`."""
    for column in columns:
        value = (row.get(column) or "").strip()
        if value:
            return value
    return None


def _compact(item: Item) -> Item:
    """Leave out what the row does not say: an upsert then leaves that field as it is."""
    return {name: value for name, value in item.items() if value not in (None, "", {})}


def hostname(value: str | None) -> str | None:
    """"https://www.Acme.com/about" -> "www.acme.com": exports hold URLs where domains go."""
    if not value:
        return None
    text = value.strip()
    host = urlsplit(text if "//" in text else "//" + text).hostname
    return host or text


def hubspot_company(row: Row) -> Item:
    return _compact({
        "external_id": _value(row, "Record ID"),
        "name": _value(row, "Company name", "Name"),
        "domain": hostname(_value(row, "Company Domain Name", "Website URL")),
    })


def hubspot_contact(row: Row) -> Item:
    companies = _value(row, *COMPANY_ID_COLUMNS) or ""
    # a contact associated with several companies belongs to the first (its primary)
    company = next((c.strip() for c in companies.replace(",", ";").split(";") if c.strip()), None)
    name = " ".join(part for part in (_value(row, "First Name"), _value(row, "Last Name")) if part)
    return _compact({
        "external_id": _value(row, "Record ID"),
        "customer_external_id": company,
        "email": _value(row, "Email"),
        "name": name or None,
        "title": _value(row, "Job Title"),
        "phone": _value(row, "Phone Number", "Mobile Phone Number"),
    })


def stripe_customer(row: Row) -> Item:
    metadata = {
        column[: -len(METADATA_SUFFIX)]: value.strip()
        for column, value in row.items()
        if column.endswith(METADATA_SUFFIX) and value and value.strip()
    }
    if email := _value(row, "Email"):
        metadata.setdefault("stripe_email", email)
    return _compact({
        "external_id": _value(row, "id"),
        # a Stripe customer need not have a name: its description or email stands in
        "name": _value(row, "Name", "Description", "Email"),
        "metadata": metadata,
    })


@dataclass(frozen=True)
class Layout:
    name: str
    resource: str  # customers | contacts | onboardings
    # columns whose presence identifies the layout
    signature: frozenset[str]
    convert: Callable[[Row], Item]


LAYOUTS = (
    # contacts first: a HubSpot contacts export can also carry a "Company Name" column
    Layout("hubspot-contacts", "contacts", frozenset({"Record ID", "Email", "First Name"}),
           hubspot_contact),
    Layout("hubspot-companies", "customers", frozenset({"Record ID", "Company name"}),
           hubspot_company),
    Layout("hubspot-companies", "customers", frozenset({"Record ID", "Company Domain Name"}),
           hubspot_company),
    Layout("stripe-customers", "customers", frozenset({"id", "Created (UTC)"}), stripe_customer),
)
NAMES = sorted({layout.name for layout in LAYOUTS})


def detect(columns: list[str]) -> Layout | None:
    present = set(columns)
    return next((layout for layout in LAYOUTS if layout.signature <= present), None)


def by_name(name: str) -> Layout:
    return next(layout for layout in LAYOUTS if layout.name == name)


BOOLEAN_FIELDS = {"is_primary"}
TRUE = {"true", "yes", "y", "1"}


def parse_map(pairs: list[str]) -> dict[str, str]:
    """["name=Account Name", "metadata.tier=Tier"] -> {"name": "Account Name", ...}."""
    mapping = {}
    for pair in pairs:
        field, sep, column = pair.partition("=")
        if not sep or not field.strip() or not column.strip():
            raise ValueError(f"--map takes FIELD=COLUMN, got {pair!r}")
        mapping[field.strip()] = column.strip()
    return mapping


def mapped(mapping: dict[str, str], base: Callable[[Row], Item] | None = None) -> Callable[[Row], Item]:
    """A row converter from `--map FIELD=COLUMN` pairs, on top of a known layout's or alone.
    `metadata.<key>=COLUMN` fills one metadata key."""

    def convert(row: Row) -> Item:
        item = base(row) if base else {}
        for field, column in mapping.items():
            value = _value(row, column)
            if value is None:
                continue
            if field.startswith("metadata."):
                item.setdefault("metadata", {})[field.removeprefix("metadata.")] = value
            elif field in BOOLEAN_FIELDS:
                item[field] = value.lower() in TRUE
            else:
                item[field] = hostname(value) if field == "domain" else value
        return item

    return convert
