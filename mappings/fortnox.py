"""Fortnox API v3 JSON → canonical models. Pure and total: no I/O, no clock.

Accepts both the list shapes (``CustomerListItem``, ``InvoiceListItem``) and the detail shapes
(``Customer``, ``Invoice``); a field the list lacks maps to its "unknown" value. Fortnox sends
blank strings for unset text and numbers with decimals (parsed via ``str``, never float
arithmetic); amounts are in the invoice's own currency. Every field is read strictly
(``mappings.common.Fields``): booleans are JSON booleans (``Credit``, a string in Fortnox's own
description, is "true"/"false"), and a negative balance is a credit, never "paid".
"""

from __future__ import annotations

from datetime import date
from decimal import Decimal
from typing import Any

from stdnum.se import personnummer as se_personnummer

from connector.models import (
    Address,
    ContactPerson,
    Customer,
    CustomerKind,
    Dispatch,
    Invoice,
    InvoiceStatus,
)
from mappings.common import MAX_ID, Fields, country_code, loose_text, record_id, string_flag

PROVIDER = "fortnox"
FORTNOX_FINANS = "fortnox_finans"
_KINDS = {"COMPANY": CustomerKind.COMPANY, "PRIVATE": CustomerKind.PERSON}


def _digits(value: str) -> str:
    return "".join(ch for ch in value if ch.isdigit())


def national_id(value: str) -> tuple[str, date | None]:
    """A personnummer in its compact 12-digit form ``YYYYMMDDNNNN`` with the birth date, when
    valid; otherwise its digits as given (validation reports it) and no date."""
    try:
        born = se_personnummer.get_birth_date(se_personnummer.validate(value))
    except Exception:  # stdnum raises several ValidationError subclasses
        return _digits(value) or value, None
    return f"{born:%Y%m%d}{_digits(value)[-4:]}", born


def _kind(f: Fields, org: str | None) -> CustomerKind:
    value = f.text("Type", 20)
    if value is not None:
        try:
            return _KINDS[value.upper()]
        except KeyError:
            raise f.error("Type", f"unknown value {value!r}") from None
    # The list shape has no Type: a valid personnummer (month digit 0-1, where an orgnr has
    # 2-9) means a person, anything else a company.
    digits = _digits(org or "")[-10:]
    if len(digits) == 10 and digits[2] in "01" and se_personnummer.is_valid(org or ""):
        return CustomerKind.PERSON
    return CustomerKind.COMPANY


def _address(f: Fields, prefix: str = "") -> Address | None:
    country = country_code(
        f.text(f"{prefix}CountryCode", 10) or f.text(f"{prefix}Country")
    )
    address = Address(
        street=f.text(f"{prefix}Address1"),
        street2=f.text(f"{prefix}Address2"),
        postcode=f.text(f"{prefix}ZipCode", MAX_ID),
        city=f.text(f"{prefix}City"),
        country=country,
    )
    if address.is_empty() and country is None:
        return None
    return address


def customer(raw: dict[str, Any]) -> Customer:
    """A Fortnox customer (list item or detail) as a canonical :class:`Customer`."""
    f = Fields("customer", record_id("customer", raw, "CustomerNumber"), raw)
    name = f.text("Name")
    if name is None:
        raise f.error("Name", "missing")
    org = f.text("OrganisationNumber", MAX_ID)
    kind = _kind(f, org)
    org_number = person_id = None
    birth = None
    if org is not None:
        if kind is CustomerKind.PERSON:
            person_id, birth = national_id(org)
        else:
            org_number = _digits(org) or org
    reference = f.text("YourReference")
    email = f.text("EmailInvoice") or f.text("Email")
    phone = f.text("Phone1", MAX_ID) or f.text("Phone", MAX_ID) or f.text("Phone2", MAX_ID)
    invoice_address = _address(f)
    delivery = _address(f, "Delivery")
    return Customer(
        provider=PROVIDER,
        provider_id=f.record_id,
        number=f.record_id,
        name=name,
        kind=kind,
        org_number=org_number,
        national_id=person_id,
        birth_date=birth,
        vat_number=f.text("VATNumber", MAX_ID),
        invoice_address=invoice_address,
        delivery_address=delivery,
        email=email,
        phone=phone,
        contact_persons=(ContactPerson(name=reference),) if reference else (),
        active=f.flag("Active", True),
        currency=_currency(f, required=False),
        country=invoice_address.country if invoice_address else None,
    )


def _currency(f: Fields, *, required: bool) -> str | None:
    code = f.text("Currency", 10)
    if code is None:
        if required:
            raise f.error("Currency", "missing")
        return None
    if len(code) != 3 or not code.isascii() or not code.isalpha():
        raise f.error("Currency", f"not a currency code: {code!r}")
    return code.upper()


def _reference(f: Fields, key: str) -> str | None:
    ref = f.ident(key)
    return None if ref in (None, "0") else ref


def _status(f: Fields, outstanding: Decimal, credit_ref: str | None) -> InvoiceStatus:
    if f.flag("Cancelled", False):
        return InvoiceStatus.CANCELLED
    if not f.flag("Booked", True):
        return InvoiceStatus.DRAFT
    if outstanding < 0:
        return InvoiceStatus.CREDIT  # the customer is owed money: never "paid", never dunned
    if outstanding == 0:
        return InvoiceStatus.CREDITED if credit_ref else InvoiceStatus.PAID
    return InvoiceStatus.OPEN


def invoice(raw: dict[str, Any]) -> Invoice:
    """A Fortnox invoice (list item or detail) as a canonical :class:`Invoice`.

    A credit invoice (``Credit`` true) maps with its negative amounts as a ``credit`` and never
    counts as open; an invoice that a credit invoice settled maps to ``credited`` with that
    credit's number.
    """
    f = Fields("invoice", record_id("invoice", raw, "DocumentNumber"), raw)
    gross = f.amount("Total")
    outstanding = f.amount("Balance")
    is_credit = string_flag(f, "Credit", False)
    credit_ref = None if is_credit else _reference(f, "CreditInvoiceReference")
    last_reminded = f.date("LastRemindDate")
    reminders = f.count("Reminders")
    status = _status(f, outstanding, credit_ref)
    if is_credit and status in (InvoiceStatus.OPEN, InvoiceStatus.PAID):
        status = InvoiceStatus.CREDIT  # a credit note is money owed to the customer
    return Invoice(
        provider=PROVIDER,
        provider_id=f.record_id,
        number=f.record_id,
        customer_id=f.ident("CustomerNumber"),
        customer_number=f.ident("CustomerNumber"),
        customer_name=f.text("CustomerName"),
        issue_date=f.required_date("InvoiceDate"),
        due_date=f.required_date("DueDate"),
        currency=_currency(f, required=True) or "",
        gross=gross,
        outstanding=outstanding,
        status=status,
        payment_reference=f.text("OCR", MAX_ID),
        sent=f.flag("Sent", True),
        booked=f.flag("Booked", True),
        dispatches=(
            (Dispatch(on=last_reminded, channel="unknown", kind="reminder"),)
            if last_reminded
            else ()
        ),
        reminders_sent=max(reminders, 1 if last_reminded else 0),
        last_reminded=last_reminded,
        handled_by=FORTNOX_FINANS if f.flag("NoxFinans", False) else None,
        credit_note_ids=(credit_ref,) if credit_ref else (),
        text=loose_text(f.raw, "Remarks"),
    )


def needs_detail(raw: dict[str, Any]) -> bool:
    """Whether an invoice list item lacks fields that matter for dunning (reminders sent by
    Fortnox itself), i.e. it is open and the list shape has no ``Reminders``. Total: a row
    that is not an object, or has odd values, is fetched in full (and mapped strictly then)."""
    if not isinstance(raw, dict) or "Reminders" in raw:
        return False
    try:
        balance = Decimal(str(raw.get("Balance") or 0)[:64])
    except ArithmeticError:
        return True
    return balance > 0 and raw.get("Cancelled") is not True and raw.get("Booked", True) is not False


__all__ = ["customer", "invoice", "national_id", "needs_detail"]
