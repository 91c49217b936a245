"""Small pure helpers shared by the provider mappings: strict reads of untrusted JSON.

Provider data is typed by thousands of strangers, so every field is read strictly and every
failure raises :class:`MappingError` naming the record and the field (the record is then skipped
with a ``record.malformed`` finding; the rest of the page is stored):

- text is a JSON string, nothing else (a number, an object or a list where text belongs is an
  error, never its Python ``repr``); it is normalised by :func:`normalise`;
- record ids and numbers are a string or an integer, at most :data:`MAX_ID` characters;
- booleans are JSON booleans only (``"false"`` is not false);
- lists are lists and objects are objects;
- dates are ``YYYY-MM-DD`` strings (a timestamp's first ten characters);
- amounts are exact (never via float) and below :data:`MAX_AMOUNT` in size.

Text normalisation (:func:`normalise`), applied to every text field:

- line breaks, tabs and other whitespace controls become one space each;
- other control characters (C0, DEL, C1 — ANSI escapes start with one), bidirectional
  overrides and isolates (U+202A–U+202E, U+2066–U+2069) and the line/paragraph separators are
  removed;
- lone surrogates (not text; they cannot be stored as UTF-8) become U+FFFD;
- leading and trailing whitespace is stripped;
- the result is capped at :data:`MAX_TEXT` characters (names and addresses; Fortnox allows
  1 024, Fiken 200), the last one replaced by "…" when cut.

Letters such as æøå/åäö and any other printable Unicode are kept exactly as sent.
"""

from __future__ import annotations

import re
import reprlib
from collections.abc import Mapping
from datetime import date
from decimal import Decimal, InvalidOperation
from typing import Any

from mappings.errors import MappingError

Date = date  # the type, where the method Fields.date shadows the name

MAX_TEXT = 1024  # characters of one text field (Fortnox's own maxLength for names)
MAX_ID = 100  # characters of a record id or number
MAX_AMOUNT = Decimal(10) ** 15  # major units; anything this large is not an invoice
MAX_COUNT = 10_000  # e.g. reminders sent on one invoice
_MICRO = Decimal("0.000001")

_WHITESPACE_CONTROLS = re.compile(r"[\t\n\v\f\r\x1c-\x1f\x85]+")
_DROPPED = re.compile(r"[\x00-\x08\x0e-\x1b\x7f-\x84\x86-\x9f\u200e\u200f\u2028\u2029\u202a-\u202e\u2066-\u2069]")
_SURROGATES = re.compile(r"[\ud800-\udfff]")
_DATE = re.compile(r"\d{4}-\d{2}-\d{2}")

_repr = reprlib.Repr()
_repr.maxstring = 40
_repr.maxother = 40
_repr.maxlevel = 2
_repr.maxdict = _repr.maxlist = 3


# kravsync's own fee invoices carry ``[kravsync:<idempotency key>]`` in their text; the key ends
# in ``<invoice id>:<stage>:<sequence>`` whatever comes before it.
_OWN_FEE = re.compile(r"\[kravsync:([^\]\s]+):[a-z_]+:\d+\]")


def own_fee_invoice_for(text: str | None) -> str | None:
    """The provider id of the invoice a kravsync fee invoice charges for (from the marker in its
    ``text``), or None when ``text`` carries no marker: not kravsync's fee invoice."""
    if not text:
        return None
    found = _OWN_FEE.search(text)
    if found is None:
        return None
    return found.group(1).rsplit(":", 1)[-1]


def loose_text(raw: Mapping[str, Any], key: str, limit: int = 500) -> str | None:
    """A free-text field only matched against (``Invoice.text``): normalised when it is text,
    None otherwise. Never a reason to skip the record."""
    value = raw.get(key)
    return (normalise(value, limit) or None) if isinstance(value, str) else None


def show(value: Any) -> str:
    """A short, safe ``repr`` of an untrusted value for an error message (never 1 MB, never
    deeper than two levels, never a control character)."""
    return normalise(_repr.repr(value), 80)


def normalise(value: str, limit: int = MAX_TEXT) -> str:
    """Provider text made safe to store and show (see the module docstring)."""
    text = _SURROGATES.sub("\ufffd", value)
    text = _WHITESPACE_CONTROLS.sub(" ", text)
    text = _DROPPED.sub("", text).strip()
    if len(text) > limit:
        text = text[: limit - 1].rstrip() + "…"
    return text


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


def record_id(kind: str, raw: Any, key: str) -> str:
    """The id of a raw record (``raw[key]``: a string or an integer), or a MappingError."""
    if not isinstance(raw, Mapping):
        raise MappingError(kind, "?", f"expected an object, got {type(raw).__name__}")
    value = raw.get(key)
    if value is None:
        raise MappingError(kind, "?", f"{key}: missing")
    if isinstance(value, bool) or not isinstance(value, str | int):
        raise MappingError(kind, "?", f"{key}: not an id: {show(value)}")
    text = normalise(str(value), MAX_ID + 1)
    if not text:
        raise MappingError(kind, "?", f"{key}: blank")
    if len(text) > MAX_ID:
        raise MappingError(kind, show(text), f"{key}: longer than {MAX_ID} characters")
    return text


class Fields:
    """Strict typed reads of one raw record; each failure names the record and the field.

    ``prefix`` names a nested object in messages (``sale.outstandingBalance``)."""

    def __init__(self, kind: str, record_id: str, raw: Mapping[str, Any], prefix: str = "") -> None:
        self.kind = kind
        self.record_id = record_id
        self.raw = raw
        self.prefix = prefix

    def error(self, key: str, message: str) -> MappingError:
        return MappingError(self.kind, self.record_id, f"{self.prefix}{key}: {message}")

    def has(self, key: str) -> bool:
        return key in self.raw

    def text(self, key: str, limit: int = MAX_TEXT) -> str | None:
        """Normalised text, or None for a missing, null or blank value."""
        value = self.raw.get(key)
        if value is None:
            return None
        if not isinstance(value, str):
            raise self.error(key, f"expected text, got {type(value).__name__} {show(value)}")
        return normalise(value, limit) or None

    def ident(self, key: str) -> str | None:
        """An id or number: a string or an integer, at most MAX_ID characters."""
        value = self.raw.get(key)
        if value is None:
            return None
        if isinstance(value, bool) or not isinstance(value, str | int):
            raise self.error(key, f"not an id: {show(value)}")
        text = normalise(str(value), MAX_ID + 1)
        if len(text) > MAX_ID:
            raise self.error(key, f"longer than {MAX_ID} characters")
        return text or None

    def flag(self, key: str, default: bool) -> bool:
        """A JSON boolean (missing or null: ``default``); nothing else counts as one."""
        value = self.raw.get(key)
        if value is None:
            return default
        if not isinstance(value, bool):
            raise self.error(key, f"not a boolean: {show(value)}")
        return value

    def items(self, key: str) -> list[Any]:
        """A JSON list (missing or null: empty)."""
        value = self.raw.get(key)
        if value is None:
            return []
        if not isinstance(value, list):
            raise self.error(key, f"expected a list, got {type(value).__name__} {show(value)}")
        return value

    def obj(self, key: str) -> Fields | None:
        """A nested JSON object as Fields (missing or null: None)."""
        value = self.raw.get(key)
        if value is None:
            return None
        if not isinstance(value, Mapping):
            raise self.error(key, f"expected an object, got {type(value).__name__} {show(value)}")
        return Fields(self.kind, self.record_id, value, f"{self.prefix}{key}.")

    def date(self, key: str) -> Date | None:
        value = self.raw.get(key)
        if value is None or value == "":
            return None
        if isinstance(value, str) and _DATE.fullmatch(value[:10]):
            try:
                return Date.fromisoformat(value[:10])
            except ValueError:
                pass
        raise self.error(key, f"not a date: {show(value)}")

    def required_date(self, key: str) -> Date:
        parsed = self.date(key)
        if parsed is None:
            raise self.error(key, "missing")
        return parsed

    def minor_units(self, key: str) -> Decimal:
        """Integer minor units (øre, öre, cents) as a Decimal in major units (missing: 0)."""
        value = self.raw.get(key)
        if value is None:
            return Decimal("0")
        if isinstance(value, bool) or not isinstance(value, int):
            raise self.error(key, f"expected integer minor units, got {show(value)}")
        return self._bounded(key, Decimal(value).scaleb(-2))

    def amount(self, key: str) -> Decimal:
        """A decimal amount in major units from a JSON number or string (never via float)."""
        value = self.raw.get(key)
        if value is None or value == "":
            return Decimal("0")
        if isinstance(value, bool) or not isinstance(value, int | Decimal | str | float):
            raise self.error(key, f"not an amount: {show(value)}")
        try:
            amount = Decimal(str(value).strip()) if len(str(value)) <= 64 else None
        except InvalidOperation:
            amount = None
        if amount is None or not amount.is_finite():
            raise self.error(key, f"not an amount: {show(value)}")
        return self._bounded(key, amount)

    def count(self, key: str) -> int:
        """A small non-negative integer (a JSON integer or digits; missing: 0)."""
        value = self.raw.get(key)
        if value is None or value == "":
            return 0
        if isinstance(value, bool) or not isinstance(value, int | str):
            raise self.error(key, f"not a count: {show(value)}")
        text = str(value).strip()
        if not text.isascii() or not text.isdigit() or len(text) > 6 or int(text) > MAX_COUNT:
            raise self.error(key, f"not a count: {show(value)}")
        return int(text)

    def _bounded(self, key: str, amount: Decimal) -> Decimal:
        if abs(amount) >= MAX_AMOUNT:
            raise self.error(key, f"amount out of range: {show(amount)}")
        if amount != amount.quantize(_MICRO):
            raise self.error(key, f"more than 6 decimals: {show(amount)}")
        return amount


def string_flag(fields: Fields, key: str, default: bool) -> bool:
    """A boolean the provider's API describes as a *string* (Fortnox ``Credit``): a JSON boolean
    or exactly "true"/"false" (any case); anything else is an error."""
    value = fields.raw.get(key)
    if isinstance(value, str) and value.strip().lower() in ("true", "false"):
        return value.strip().lower() == "true"
    if value == "":
        return default
    return fields.flag(key, default)
