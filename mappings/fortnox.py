"""Fortnox API v3 JSON → canonical models. Pure and total: no I/O, no clock.

Accepts both the list shapes (``CustomerListItem``, ``InvoiceListItem``) and the detail shapes
(``Customer``, ``Invoice``); a field the list lacks maps to its "unknown" value. Fortnox sends
blank strings for unset text and numbers with decimals (parsed via ``str``, never float
arithmetic); amounts are in the invoice's own currency.
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
from mappings.common import country_code, decimal_amount, parse_date, require_date, text
from mappings.errors import MappingError

PROVIDER = "fortnox"
FORTNOX_FINANS = "fortnox_finans"
_KINDS = {"COMPANY": CustomerKind.COMPANY, "PRIVATE": CustomerKind.PERSON}


def _flag(kind: str, record_id: str, raw: dict[str, Any], key: str, default: bool) -> bool:
    """A boolean field; Fortnox sends JSON booleans, some older payloads "true"/"false"."""
    value = raw.get(key)
    if value is None or value == "":
        return default
    if isinstance(value, bool):
        return value
    if isinstance(value, str) and value.lower() in ("true", "false"):
        return value.lower() == "true"
    raise MappingError(kind, record_id, f"{key}: not a boolean: {value!r}")


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


def _kind(record_id: str, raw: dict[str, Any], org: str | None) -> CustomerKind:
    value = text(raw.get("Type"))
    if value is not None:
        try:
            return _KINDS[value.upper()]
        except KeyError:
            raise MappingError("customer", record_id, f"Type: unknown value {value!r}") from None
    # The list shape has no Type: a valid personnummer (month digit 0-1, where an orgnr has
    # 2-9) means a person, anything else a company.
    digits = _digits(org or "")[-10:]
    if len(digits) == 10 and digits[2] in "01" and se_personnummer.is_valid(org or ""):
        return CustomerKind.PERSON
    return CustomerKind.COMPANY


def _address(raw: dict[str, Any], prefix: str = "") -> Address | None:
    country = country_code(
        text(raw.get(f"{prefix}CountryCode")) or text(raw.get(f"{prefix}Country"))
    )
    address = Address(
        street=text(raw.get(f"{prefix}Address1")),
        street2=text(raw.get(f"{prefix}Address2")),
        postcode=text(raw.get(f"{prefix}ZipCode")),
        city=text(raw.get(f"{prefix}City")),
        country=country,
    )
    if address.is_empty() and country is None:
        return None
    return address


def customer(raw: dict[str, Any]) -> Customer:
    """A Fortnox customer (list item or detail) as a canonical :class:`Customer`."""
    record_id = text(raw.get("CustomerNumber"))
    if record_id is None:
        raise MappingError("customer", "?", "CustomerNumber: missing")
    name = text(raw.get("Name"))
    if name is None:
        raise MappingError("customer", record_id, "Name: missing")
    org = text(raw.get("OrganisationNumber"))
    kind = _kind(record_id, raw, org)
    org_number = person_id = None
    birth = None
    if org is not None:
        if kind is CustomerKind.PERSON:
            person_id, birth = national_id(org)
        else:
            org_number = _digits(org) or org
    reference = text(raw.get("YourReference"))
    email = text(raw.get("EmailInvoice")) or text(raw.get("Email"))
    phone = text(raw.get("Phone1")) or text(raw.get("Phone")) or text(raw.get("Phone2"))
    invoice_address = _address(raw)
    delivery = _address(raw, "Delivery")
    return Customer(
        provider=PROVIDER,
        provider_id=record_id,
        number=record_id,
        name=name,
        kind=kind,
        org_number=org_number,
        national_id=person_id,
        birth_date=birth,
        vat_number=text(raw.get("VATNumber")),
        invoice_address=invoice_address,
        delivery_address=delivery,
        email=email,
        phone=phone,
        contact_persons=(ContactPerson(name=reference),) if reference else (),
        active=_flag("customer", record_id, raw, "Active", True),
        currency=_currency("customer", record_id, raw.get("Currency"), required=False),
        country=invoice_address.country if invoice_address else None,
    )


def _currency(kind: str, record_id: str, value: Any, *, required: bool) -> str | None:
    code = text(value)
    if code is None:
        if required:
            raise MappingError(kind, record_id, "Currency: missing")
        return None
    if len(code) != 3 or not code.isalpha():
        raise MappingError(kind, record_id, f"Currency: not a currency code: {code!r}")
    return code.upper()


def _count(record_id: str, raw: dict[str, Any], key: str) -> int:
    value = raw.get(key)
    if value in (None, ""):
        return 0
    if isinstance(value, bool):
        raise MappingError("invoice", record_id, f"{key}: not a count: {value!r}")
    try:
        return int(str(value))
    except ValueError:
        raise MappingError("invoice", record_id, f"{key}: not a count: {value!r}") from None


def _reference(value: Any) -> str | None:
    ref = text(value)
    return None if ref in (None, "0") else ref


def _status(
    record_id: str, raw: dict[str, Any], outstanding: Decimal, credit_ref: str | None
) -> InvoiceStatus:
    if _flag("invoice", record_id, raw, "Cancelled", False):
        return InvoiceStatus.CANCELLED
    if not _flag("invoice", record_id, raw, "Booked", True):
        return InvoiceStatus.DRAFT
    if outstanding <= 0:
        return InvoiceStatus.CREDITED if credit_ref else InvoiceStatus.PAID
    return InvoiceStatus.OPEN


def invoice(raw: dict[str, Any]) -> Invoice:
    """A Fortnox invoice (list item or detail) as a canonical :class:`Invoice`.

    A credit invoice (``Credit`` true) maps with its negative amounts and never counts as open;
    an invoice that a credit invoice settled maps to ``credited`` with that credit's number.
    """
    record_id = text(raw.get("DocumentNumber"))
    if record_id is None:
        raise MappingError("invoice", "?", "DocumentNumber: missing")
    gross = decimal_amount("invoice", record_id, "Total", raw.get("Total"))
    outstanding = decimal_amount("invoice", record_id, "Balance", raw.get("Balance"))
    is_credit = _flag("invoice", record_id, raw, "Credit", False)
    credit_ref = None if is_credit else _reference(raw.get("CreditInvoiceReference"))
    last_reminded = parse_date("invoice", record_id, "LastRemindDate", raw.get("LastRemindDate"))
    reminders = _count(record_id, raw, "Reminders")
    status = _status(record_id, raw, outstanding, credit_ref)
    if is_credit and status is InvoiceStatus.OPEN:
        status = InvoiceStatus.PAID  # a credit note is money owed to the customer, never dunned
    return Invoice(
        provider=PROVIDER,
        provider_id=record_id,
        number=record_id,
        customer_id=text(raw.get("CustomerNumber")),
        customer_number=text(raw.get("CustomerNumber")),
        customer_name=text(raw.get("CustomerName")),
        issue_date=require_date("invoice", record_id, "InvoiceDate", raw.get("InvoiceDate")),
        due_date=require_date("invoice", record_id, "DueDate", raw.get("DueDate")),
        currency=_currency("invoice", record_id, raw.get("Currency"), required=True) or "",
        gross=gross,
        outstanding=outstanding,
        status=status,
        payment_reference=text(raw.get("OCR")),
        sent=_flag("invoice", record_id, raw, "Sent", True),
        booked=_flag("invoice", record_id, raw, "Booked", True),
        dispatches=(
            (Dispatch(on=last_reminded, channel="unknown", kind="reminder"),)
            if last_reminded
            else ()
        ),
        reminders_sent=max(reminders, 1 if last_reminded else 0),
        last_reminded=last_reminded,
        handled_by=FORTNOX_FINANS if _flag("invoice", record_id, raw, "NoxFinans", False) else None,
        credit_note_ids=(credit_ref,) if credit_ref else (),
    )


def needs_detail(raw: dict[str, Any]) -> bool:
    """Whether an invoice list item lacks fields that matter for dunning (reminders sent by
    Fortnox itself), i.e. it is open and the list shape has no ``Reminders``."""
    if "Reminders" in raw:
        return False
    try:
        balance = Decimal(str(raw.get("Balance") or 0))
    except ArithmeticError:
        return True
    return balance > 0 and not raw.get("Cancelled") and raw.get("Booked", True) is not False


__all__ = ["customer", "invoice", "national_id", "needs_detail"]
