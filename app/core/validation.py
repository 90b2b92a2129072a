"""Field rules shared by every resource: emails, hostnames and metadata."""

from __future__ import annotations

import re
import unicodedata
from typing import Annotated

import msgspec

from app.core.errors import InvalidRequest

MAX_METADATA_KEYS = 50

# Patterns the OpenAPI document states (ECMA 262) and the server applies with re.fullmatch,
# written with explicit character ranges so both regex dialects read them alike.
# PostgreSQL text cannot hold U+0000: every free-text field refuses it (app/http/parsing.py)
NO_NUL = "^[^\\u0000]*$"
# what Python's \s matches, and the other control characters
_SPACE = "\\u0000-\\u0020\\u007f-\\u00a0\\u1680\\u2000-\\u200a\\u2028\\u2029\\u202f\\u205f\\u3000\\ufeff"
EMAIL_PATTERN = f"^[^@{_SPACE}]+@[^@{_SPACE}]+\\.[^@.{_SPACE}]+$"
_LABEL = "[A-Za-z0-9](?:[A-Za-z0-9-]{0,61}[A-Za-z0-9])?"
HOSTNAME_PATTERN = f"^(?:{_LABEL}\\.)+{_LABEL}\\.?$"
_EMAIL = re.compile(EMAIL_PATTERN)
_HOSTNAME = re.compile(HOSTNAME_PATTERN)


def text(pattern: str = NO_NUL, **limits: int) -> msgspec.Meta:
    """A string field's limits (enforced by msgspec) and its pattern (stated in the document,
    enforced by the field's own check: reject_nul, email, hostname...)."""
    return msgspec.Meta(**limits, extra_json_schema={"pattern": pattern})


MetadataKey = Annotated[str, text(min_length=1, max_length=40)]
MetadataValue = Annotated[str, text(max_length=500)]
# null or "" removes a key (PATCH); a request names at most 50 keys, and the cap is checked
# again on the merged result
MetadataInput = Annotated[dict[MetadataKey, MetadataValue | None],
                          msgspec.Meta(max_length=MAX_METADATA_KEYS)]
Name = Annotated[str, text(min_length=1, max_length=200)]
ShortText = Annotated[str, text(max_length=255)]
ExternalId = Annotated[str, text(min_length=1, max_length=255)]
Email = Annotated[str, text(EMAIL_PATTERN, max_length=254)]
Domain = Annotated[str, text(HOSTNAME_PATTERN, max_length=253)]


def ascii_int(value: str) -> int | None:
    """The integer a string of ASCII digits spells (surrounding spaces allowed), else None.

    str.isdigit() also accepts "²", "①" or "٣", which int() refuses or reads as a number.
    """
    value = value.strip()
    return int(value) if value.isascii() and value.isdigit() else None


def email(value: str | None, field: str) -> str | None:
    if value is None:
        return None
    if not _EMAIL.fullmatch(value):
        raise InvalidRequest(f"{field} must be an email address", field=field)
    return value


def email_key(value: str) -> str:
    """The form emails are compared in, for uniqueness and lookups alike: Unicode NFC, then
    casefolded (so İnfo@ and ΣΊΣΥΦΟΣ@ find themselves, and a decomposed Ä is the same Ä)."""
    return unicodedata.normalize("NFC", value.strip()).casefold()


def hostname(value: str | None, field: str) -> str | None:
    """A bare hostname (`acme.com`), stored lowercase without a final dot; URLs and paths
    are refused."""
    if value is None:
        return None
    if not _HOSTNAME.fullmatch(value):
        raise InvalidRequest(f"{field} must be a hostname such as acme.com", field=field)
    return value.lower().rstrip(".")


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
Reference = Annotated[int, msgspec.Meta(ge=1)] | Annotated[str, text(max_length=64)]
