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
from datetime import date as Date
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
from mappings.common import Fields, country_code, record_id, show
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


def _currency(fields: Fields, *, default: str | None) -> str | None:
    currency = fields.obj("currency")
    code = currency.text("code") if currency is not None else None
    if code is None:
        return default
    code = code.upper()
    if not _CURRENCY.fullmatch(code):
        raise fields.error("currency.code", f"not an ISO 4217 code: {code!r}")
    return code


def address(fields: Fields | None) -> Address | None:
    """A Tripletex ``Address`` (``addressLine1/2``, ``postalCode``, ``city``, ``country``)."""
    if fields is None:
        return None
    country = fields.obj("country")
    iso = (country.text("isoAlpha2Code") or country.text("name")) if country is not None else None
    result = Address(
        street=fields.text("addressLine1"),
        street2=fields.text("addressLine2"),
        postcode=fields.text("postalCode"),
        city=fields.text("city"),
        country=country_code(iso),
    )
    if result.is_empty() and result.country is None:
        return None
    return result


def contact_person(raw: Any) -> ContactPerson | None:
    """A Tripletex ``Contact`` as a contact person; None for a nameless, inactive or malformed
    one (a contact is an extra on its customer, never a reason to skip the customer)."""
    if not isinstance(raw, dict):
        return None
    fields = Fields("contact", str(raw.get("id", "?")), raw)
    try:
        if fields.flag("isInactive", False):
            return None
        name = " ".join(p for p in (fields.text("firstName"), fields.text("lastName")) if p)
        if not name:
            return None
        phone = fields.text("phoneNumberMobile") or fields.text("phoneNumberWork")
        return ContactPerson(name=name, email=fields.text("email"), phone=phone)
    except MappingError:
        return None


def contact_customer_id(raw: Any) -> str | None:
    """The id of the customer a ``Contact`` belongs to (``customer(id)``), if any."""
    if not isinstance(raw, dict):
        return None
    owner = raw.get("customer")
    if not isinstance(owner, dict):
        return None
    found = owner.get("id")
    return str(found) if isinstance(found, int | str) and not isinstance(found, bool) else None


def customer(raw: dict[str, Any], contacts: Iterable[dict[str, Any]] = ()) -> Customer:
    """A Tripletex ``Customer`` (and its ``Contact`` records) as a canonical :class:`Customer`."""
    rid = record_id("customer", raw, "id")
    fields = Fields("customer", rid, raw)
    name = fields.text("name")
    if not name:
        raise fields.error("name", "missing")
    private = raw.get("isPrivateIndividual")
    org_number = fields.text("organizationNumber")
    if private is None:
        kind = CustomerKind.COMPANY if org_number else CustomerKind.PERSON
    else:
        kind = CustomerKind.PERSON if fields.flag("isPrivateIndividual", False) else CustomerKind.COMPANY
    postal = address(fields.obj("postalAddress"))
    physical = address(fields.obj("physicalAddress"))
    invoice_address = postal if postal is not None and not postal.is_empty() else physical or postal
    persons = tuple(p for p in (contact_person(c) for c in contacts) if p is not None)
    number = fields.ident("customerNumber")
    # Reminders go to the overdue-notice address where the customer card has one.
    email = fields.text("overdueNoticeEmail") or fields.text("invoiceEmail") or fields.text("email")
    return Customer(
        provider=PROVIDER,
        provider_id=rid,
        number=number if number not in (None, "0") else None,
        name=name,
        kind=kind,
        org_number=org_number if kind is CustomerKind.COMPANY else None,
        invoice_address=invoice_address,
        email=email,
        phone=fields.text("phoneNumberMobile") or fields.text("phoneNumber"),
        contact_persons=persons,
        active=not fields.flag("isInactive", False),
        currency=_currency(fields, default=None),
        country=invoice_address.country if invoice_address else None,
    )


def reminders(fields: Fields) -> list[tuple[str, Date]]:
    """The invoice's reminders, checked: (type, reminderDate) for each, a known type each."""
    out = []
    for n, item in enumerate(fields.items("reminders")):
        if not isinstance(item, dict):
            raise fields.error(f"reminders[{n}]", f"expected an object, got {type(item).__name__}")
        one = Fields(fields.kind, fields.record_id, item, f"reminders[{n}].")
        kind = item.get("type")
        if kind not in REMINDER_TYPES:
            raise one.error("type", f"unknown value {show(kind)}")
        out.append((str(kind), one.required_date("reminderDate")))
    return out


def _status(fields: Fields, outstanding: Decimal) -> InvoiceStatus:
    if not fields.flag("isCharged", True):
        return InvoiceStatus.DRAFT
    if fields.flag("isCreditNote", False):
        return InvoiceStatus.CREDIT  # money owed to the customer, never dunned
    if outstanding < 0:
        return InvoiceStatus.CREDIT  # the customer is owed money: never "paid", never dunned
    if outstanding == 0:
        return InvoiceStatus.CREDITED if fields.flag("isCredited", False) else InvoiceStatus.PAID
    return InvoiceStatus.OPEN


def invoice(raw: dict[str, Any]) -> Invoice:
    """A Tripletex ``Invoice`` as a canonical :class:`Invoice`."""
    rid = record_id("invoice", raw, "id")
    fields = Fields("invoice", rid, raw)
    number = fields.ident("invoiceNumber")
    if number is None:
        raise fields.error("invoiceNumber", "missing")
    currency = _currency(fields, default="NOK") or "NOK"
    if not fields.has("amountCurrencyOutstanding"):
        raise fields.error("amountCurrencyOutstanding", "missing")
    outstanding = fields.amount("amountCurrencyOutstanding")
    gross = fields.amount("amountCurrency")
    found = reminders(fields)
    dispatches = tuple(
        Dispatch(on=on, channel=REMINDER_CHANNEL, kind="reminder")
        for kind, on in sorted(found, key=lambda r: r[1])
        if kind in LETTER_TYPES
    )
    owner = fields.obj("customer")
    handled_by = None
    if any(kind == DEBT_COLLECTION for kind, _ in found):
        handled_by = HANDED_TO_DEBT_COLLECTOR
    elif owner is not None and owner.flag("isFactoring", False):
        handled_by = FACTORING
    customer_number = owner.ident("customerNumber") if owner is not None else None
    return Invoice(
        provider=PROVIDER,
        provider_id=rid,
        number=number,
        customer_id=owner.ident("id") if owner is not None else None,
        customer_number=customer_number if customer_number not in (None, "0") else None,
        customer_name=owner.text("name") if owner is not None else None,
        issue_date=fields.required_date("invoiceDate"),
        due_date=fields.required_date("invoiceDueDate"),
        currency=currency,
        gross=gross,
        outstanding=outstanding,
        status=_status(fields, outstanding),
        payment_reference=fields.text("kid"),
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


def reminder_on(raw: dict[str, Any]) -> Date | None:
    """A reminder's date (``reminderDate``) as a date, or None when missing or malformed."""
    try:
        return Fields("reminder", str(raw.get("id")), raw).date("reminderDate")
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
