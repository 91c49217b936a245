"""Small pure helpers shared by the provider mappings."""

from __future__ import annotations

from datetime import date
from decimal import Decimal, InvalidOperation
from typing import Any

from mappings.errors import MappingError

# Country names as the Nordic accounting systems write them, to ISO 3166-1 alpha-2.
_COUNTRY_NAMES = {
    "norge": "NO",
    "norway": "NO",
    "noreg": "NO",
    "sverige": "SE",
    "sweden": "SE",
    "danmark": "DK",
    "denmark": "DK",
    "finland": "FI",
    "suomi": "FI",
    "island": "IS",
    "iceland": "IS",
    "ísland": "IS",
    "tyskland": "DE",
    "germany": "DE",
    "deutschland": "DE",
    "storbritannia": "GB",
    "storbritannien": "GB",
    "united kingdom": "GB",
    "nederland": "NL",
    "nederländerna": "NL",
    "netherlands": "NL",
    "polen": "PL",
    "poland": "PL",
    "usa": "US",
    "united states": "US",
}


def country_code(value: str | None) -> str | None:
    """ISO alpha-2 for a country name or code; the text as given when unrecognised."""
    if value is None:
        return None
    text = value.strip()
    if not text:
        return None
    if len(text) == 2 and text.isalpha():
        return text.upper()
    return _COUNTRY_NAMES.get(text.casefold(), text)


def text(value: Any) -> str | None:
    """A stripped string, or None for missing/blank values."""
    if value is None:
        return None
    s = str(value).strip()
    return s or None


def parse_date(kind: str, record_id: str, field: str, value: Any) -> date | None:
    if value in (None, ""):
        return None
    try:
        return date.fromisoformat(str(value)[:10])
    except ValueError:
        raise MappingError(kind, record_id, f"{field}: not a date: {value!r}") from None


def require_date(kind: str, record_id: str, field: str, value: Any) -> date:
    parsed = parse_date(kind, record_id, field, value)
    if parsed is None:
        raise MappingError(kind, record_id, f"{field}: missing")
    return parsed


def minor_units(kind: str, record_id: str, field: str, value: Any) -> Decimal:
    """Integer minor units (øre, öre, cents) to a Decimal in major units."""
    if value is None:
        return Decimal("0")
    if isinstance(value, bool) or not isinstance(value, int):
        raise MappingError(kind, record_id, f"{field}: expected integer minor units, got {value!r}")
    return Decimal(value).scaleb(-2)


def decimal_amount(kind: str, record_id: str, field: str, value: Any) -> Decimal:
    """A decimal amount in major units, from a JSON number or string (never via float)."""
    if value is None or value == "":
        return Decimal("0")
    if isinstance(value, bool):
        raise MappingError(kind, record_id, f"{field}: not an amount: {value!r}")
    try:
        amount = Decimal(str(value))
    except InvalidOperation:
        raise MappingError(kind, record_id, f"{field}: not an amount: {value!r}") from None
    if not amount.is_finite():
        raise MappingError(kind, record_id, f"{field}: not an amount: {value!r}")
    return amount
