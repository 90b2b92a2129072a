"""Field rules shared by every resource: emails, hostnames and metadata."""

from __future__ import annotations

import re
import unicodedata
from typing import Annotated

import msgspec

from app.core.errors import InvalidRequest

MAX_METADATA_KEYS = 50
_EMAIL = re.compile(r"[^@\s]+@[^@\s]+\.[^@\s.]+")
_HOSTNAME_LABEL = re.compile(r"(?!-)[a-z0-9-]{1,63}(?<!-)")

MetadataKey = Annotated[str, msgspec.Meta(min_length=1, max_length=40)]
MetadataValue = Annotated[str, msgspec.Meta(max_length=500)]
# null or "" removes a key (PATCH); the 50-key cap is checked on the merged result
MetadataInput = dict[MetadataKey, MetadataValue | None]
Name = Annotated[str, msgspec.Meta(min_length=1, max_length=200)]
ShortText = Annotated[str, msgspec.Meta(max_length=255)]
ExternalId = Annotated[str, msgspec.Meta(min_length=1, max_length=255)]
Email = Annotated[str, msgspec.Meta(max_length=254)]
Domain = Annotated[str, msgspec.Meta(max_length=253)]


def ascii_int(value: str) -> int | None:
    """The integer a string of ASCII digits spells (surrounding spaces allowed), else None.

    str.isdigit() also accepts "²", "①" or "٣", which int() refuses or reads as a number.
    """
    value = value.strip()
    return int(value) if value.isascii() and value.isdigit() else None


def email(value: str | None, field: str) -> str | None:
    if value is None:
        return None
    value = value.strip()
    if not _EMAIL.fullmatch(value):
        raise InvalidRequest(f"{field} must be an email address", field=field)
    return value


def email_key(value: str) -> str:
    """The form emails are compared in, for uniqueness and lookups alike: Unicode NFC, then
    casefolded (so İnfo@ and ΣΊΣΥΦΟΣ@ find themselves, and a decomposed Ä is the same Ä)."""
    return unicodedata.normalize("NFC", value.strip()).casefold()


def hostname(value: str | None, field: str) -> str | None:
    """A bare hostname (`acme.com`), stored lowercase; URLs and paths are refused."""
    if value is None:
        return None
    value = value.strip().lower().rstrip(".")
    labels = value.split(".")
    if len(labels) < 2 or not all(_HOSTNAME_LABEL.fullmatch(label) for label in labels):
        raise InvalidRequest(f"{field} must be a hostname such as acme.com", field=field)
    return value


def metadata(current: dict[str, str], changes: dict[str, str | None]) -> dict[str, str]:
    """Merge key by key; a key set to null or "" is removed."""
    merged = dict(current)
    for key, value in changes.items():
        if value is None or value == "":
            merged.pop(key, None)
        else:
            merged[key] = value
    if len(merged) > MAX_METADATA_KEYS:
        raise InvalidRequest(
            f"metadata can have at most {MAX_METADATA_KEYS} keys", field="metadata"
        )
    return merged
# another object's cuid or display_id (an integer, or a string of digits)
Reference = Annotated[int, msgspec.Meta(ge=1)] | Annotated[str, msgspec.Meta(max_length=64)]
