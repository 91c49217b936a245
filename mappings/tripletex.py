"""Tripletex API v2 payloads → canonical models (pure; no I/O, no clock).

Tripletex facts that shape this mapping (shared/specs/tripletex-openapi.json, 2.72.00):
- amounts are decimal numbers in major units; ``amountCurrency`` / ``amountCurrencyOutstanding``
  are in the invoice's own currency (``amountOutstanding`` excludes reminder fees and remits);
- a customer says whether it is a person (``isPrivateIndividual``); contact persons are separate
  ``Contact`` records (``customer(id)``), handed in by the adapter;
- sub-objects arrive as far as the ``fields`` filter asked for them, e.g.
  ``postalAddress(addressLine1,...,country(isoAlpha2Code))``; a sub-object not asked for is only
  ``{id, url}``;
- an invoice lists its reminders (``Reminder``: ``type``, ``reminderDate``, ``charge``...). The
  three letter types are reminders the customer received; ``DEBT_COLLECTION`` means the claim
  went to a debt collector. The policy tells kravsync's own reminders from a second sender's by
  their dates (see ``connector.policy.engine``);
- ``GET /invoice`` lists charged invoices only (no drafts); a credit note has
  ``isCreditNote`` and negative amounts and is never dunned.
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from decimal import Decimal
from typing import Any

from connector.models import (
    Address,
    ContactPerson,
    Customer,
    CustomerKind,
    Dispatch,
    Invoice,
    InvoiceStatus,
)
from mappings.common import country_code, decimal_amount, parse_date, require_date, text
from mappings.errors import MappingError

PROVIDER = "tripletex"
REMINDER_TYPES = ("SOFT_REMINDER", "REMINDER", "NOTICE_OF_DEBT_COLLECTION", "DEBT_COLLECTION")
LETTER_TYPES = frozenset(REMINDER_TYPES[:3])
DEBT_COLLECTION = "DEBT_COLLECTION"
# Invoice.handled_by values: a second party owns the dunning of the invoice.
HANDED_TO_DEBT_COLLECTOR = "tripletex_debt_collection"
FACTORING = "factoring"
REMINDER_CHANNEL = "tripletex"
_CURRENCY = re.compile(r"[A-Z]{3}")
_MAX_AMOUNT = Decimal("1e15")  # beyond any invoice; also keeps Decimal quantizing in range


def _record_id(kind: str, raw: Any) -> str:
    if not isinstance(raw, dict):
        raise MappingError(kind, "?", f"expected an object, got {type(raw).__name__}")
    value = raw.get("id")
    if value is None or isinstance(value, bool):
        raise MappingError(kind, "?", "id missing")
    return str(value)


def _object(raw: dict[str, Any], key: str) -> dict[str, Any]:
    value = raw.get(key)
    return value if isinstance(value, dict) else {}


def _flag(kind: str, record_id: str, raw: dict[str, Any], key: str) -> bool | None:
    value = raw.get(key)
    if value is None or isinstance(value, bool):
        return value
    raise MappingError(kind, record_id, f"{key}: not a boolean: {value!r}")


def _amount(record_id: str, field: str, value: Any) -> Decimal:
    amount = decimal_amount("invoice", record_id, field, value)
    if abs(amount) >= _MAX_AMOUNT or amount != amount.quantize(Decimal("0.0001")):
        raise MappingError("invoice", record_id, f"{field}: not an amount: {value!r}")
    return amount


def _currency(kind: str, record_id: str, raw: dict[str, Any], *, default: str | None) -> str | None:
    code = text(_object(raw, "currency").get("code"))
    if code is None:
        return default
    code = code.upper()
    if not _CURRENCY.fullmatch(code):
        raise MappingError(kind, record_id, f"currency.code: not an ISO 4217 code: {code!r}")
    return code


def address(raw: Any) -> Address | None:
    """A Tripletex ``Address`` (``addressLine1/2``, ``postalCode``, ``city``, ``country``)."""
    if not isinstance(raw, dict):
        return None
    country = raw.get("country")
    iso = None
    if isinstance(country, dict):
        iso = text(country.get("isoAlpha2Code")) or text(country.get("name"))
    result = Address(
        street=text(raw.get("addressLine1")),
        street2=text(raw.get("addressLine2")),
        postcode=text(raw.get("postalCode")),
        city=text(raw.get("city")),
        country=country_code(iso),
    )
    if result.is_empty() and result.country is None:
        return None
    return result


def contact_person(raw: Any) -> ContactPerson | None:
    """A Tripletex ``Contact`` as a contact person; None for a nameless or inactive one."""
    if not isinstance(raw, dict) or raw.get("isInactive") is True:
        return None
    name = " ".join(p for p in (text(raw.get("firstName")), text(raw.get("lastName"))) if p)
    if not name:
        return None
    phone = text(raw.get("phoneNumberMobile")) or text(raw.get("phoneNumberWork"))
    return ContactPerson(name=name, email=text(raw.get("email")), phone=phone)


def contact_customer_id(raw: Any) -> str | None:
    """The id of the customer a ``Contact`` belongs to (``customer(id)``), if any."""
    if not isinstance(raw, dict):
        return None
    found = _object(raw, "customer").get("id")
    return str(found) if found is not None else None


def customer(raw: dict[str, Any], contacts: Iterable[dict[str, Any]] = ()) -> Customer:
    """A Tripletex ``Customer`` (and its ``Contact`` records) as a canonical :class:`Customer`."""
    record_id = _record_id("customer", raw)
    name = text(raw.get("name"))
    if not name:
        raise MappingError("customer", record_id, "name missing")
    private = _flag("customer", record_id, raw, "isPrivateIndividual")
    org_number = text(raw.get("organizationNumber"))
    if private is None:
        kind = CustomerKind.COMPANY if org_number else CustomerKind.PERSON
    else:
        kind = CustomerKind.PERSON if private else CustomerKind.COMPANY
    postal = address(raw.get("postalAddress"))
    physical = address(raw.get("physicalAddress"))
    invoice_address = postal if postal is not None and not postal.is_empty() else physical or postal
    persons = tuple(p for p in (contact_person(c) for c in contacts) if p is not None)
    number = raw.get("customerNumber")
    # Reminders go to the overdue-notice address where the customer card has one.
    email = (
        text(raw.get("overdueNoticeEmail"))
        or text(raw.get("invoiceEmail"))
        or text(raw.get("email"))
    )
    return Customer(
        provider=PROVIDER,
        provider_id=record_id,
        number=str(number) if number not in (None, 0) else None,
        name=name,
        kind=kind,
        org_number=org_number if kind is CustomerKind.COMPANY else None,
        invoice_address=invoice_address,
        email=email,
        phone=text(raw.get("phoneNumberMobile")) or text(raw.get("phoneNumber")),
        contact_persons=persons,
        active=not bool(_flag("customer", record_id, raw, "isInactive")),
        currency=_currency("customer", record_id, raw, default=None),
        country=invoice_address.country if invoice_address else None,
    )


def reminders(record_id: str, raw: dict[str, Any]) -> list[dict[str, Any]]:
    """The invoice's reminders, checked: each with a known ``type`` and a ``reminderDate``."""
    found = raw.get("reminders")
    if found is None:
        return []
    if not isinstance(found, list):
        raise MappingError("invoice", record_id, "reminders: not a list")
    out = []
    for item in found:
        if not isinstance(item, dict):
            raise MappingError("invoice", record_id, "reminders: not a list of objects")
        kind = item.get("type")
        if kind not in REMINDER_TYPES:
            raise MappingError("invoice", record_id, f"reminders.type: unknown value {kind!r}")
        require_date("invoice", record_id, "reminders.reminderDate", item.get("reminderDate"))
        out.append(item)
    return out


def _status(record_id: str, raw: dict[str, Any], outstanding: Decimal) -> InvoiceStatus:
    if _flag("invoice", record_id, raw, "isCharged") is False:
        return InvoiceStatus.DRAFT
    if _flag("invoice", record_id, raw, "isCreditNote"):
        return InvoiceStatus.PAID  # money owed to the customer, never dunned
    if outstanding <= 0:
        return (
            InvoiceStatus.CREDITED
            if _flag("invoice", record_id, raw, "isCredited")
            else InvoiceStatus.PAID
        )
    return InvoiceStatus.OPEN


def invoice(raw: dict[str, Any]) -> Invoice:
    """A Tripletex ``Invoice`` as a canonical :class:`Invoice`."""
    record_id = _record_id("invoice", raw)
    number = raw.get("invoiceNumber")
    if number is None or isinstance(number, bool):
        raise MappingError("invoice", record_id, "invoiceNumber missing")
    currency = _currency("invoice", record_id, raw, default="NOK") or "NOK"
    if "amountCurrencyOutstanding" not in raw:
        raise MappingError("invoice", record_id, "amountCurrencyOutstanding missing")
    outstanding = _amount(record_id, "amountCurrencyOutstanding", raw["amountCurrencyOutstanding"])
    gross = _amount(record_id, "amountCurrency", raw.get("amountCurrency"))
    found = reminders(record_id, raw)
    dispatches = tuple(
        Dispatch(
            on=require_date("invoice", record_id, "reminders.reminderDate", r["reminderDate"]),
            channel=REMINDER_CHANNEL,
            kind="reminder",
        )
        for r in sorted(found, key=lambda r: str(r["reminderDate"]))
        if r["type"] in LETTER_TYPES
    )
    customer_raw = _object(raw, "customer")
    handled_by = None
    if any(r["type"] == DEBT_COLLECTION for r in found):
        handled_by = HANDED_TO_DEBT_COLLECTOR
    elif customer_raw.get("isFactoring") is True:
        handled_by = FACTORING
    customer_id = customer_raw.get("id")
    customer_number = customer_raw.get("customerNumber")
    return Invoice(
        provider=PROVIDER,
        provider_id=record_id,
        number=str(number),
        customer_id=str(customer_id) if customer_id is not None else None,
        customer_number=str(customer_number) if customer_number not in (None, 0) else None,
        customer_name=text(customer_raw.get("name")),
        issue_date=require_date("invoice", record_id, "invoiceDate", raw.get("invoiceDate")),
        due_date=require_date("invoice", record_id, "invoiceDueDate", raw.get("invoiceDueDate")),
        currency=currency,
        gross=gross,
        outstanding=outstanding,
        status=_status(record_id, raw, outstanding),
        payment_reference=text(raw.get("kid")),
        dispatches=dispatches,
        reminders_sent=len(dispatches),
        last_reminded=max((d.on for d in dispatches), default=None),
        handled_by=handled_by,
        credit_note_ids=(),
        last_modified=None,
    )


def settled(raw: Any) -> bool:
    """Whether an invoice payload is plainly not open (nothing outstanding, or a credit note),
    so a pull of open invoices can pass it by without mapping it. Unsure means False."""
    if not isinstance(raw, dict):
        return False
    if raw.get("isCreditNote") is True:
        return True
    value = raw.get("amountCurrencyOutstanding")
    if isinstance(value, bool) or not isinstance(value, int | float | Decimal):
        return False
    return value <= 0


def reminder_on(raw: dict[str, Any]) -> Any:
    """A reminder's date (``reminderDate``) as a date, or None when missing or malformed."""
    try:
        return parse_date("reminder", str(raw.get("id")), "reminderDate", raw.get("reminderDate"))
    except MappingError:
        return None


__all__ = [
    "DEBT_COLLECTION",
    "LETTER_TYPES",
    "REMINDER_TYPES",
    "address",
    "contact_customer_id",
    "contact_person",
    "customer",
    "invoice",
    "reminder_on",
    "reminders",
    "settled",
]
