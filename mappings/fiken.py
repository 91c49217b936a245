"""Fiken API v2 payloads → canonical models (pure; no I/O, no clock).

Fiken facts that shape this mapping (shared/specs/fiken-openapi-2026.yaml):
- amounts are integers in øre (cents of the invoice currency);
- a contact has no company/person flag: a contact with an organisation number, contact persons
  or a Norwegian company-form suffix in its name is a company, anything else a person;
- the payment state of an invoice is in its embedded ``sale`` (``settled``,
  ``outstandingBalance`` in NOK øre, ``outstandingBalanceInCurrency`` for foreign currency);
- Fiken's own reminders show as invoice attachments of type ``reminder``; kravsync's own
  attachments carry an identifier starting ``kravsync:`` and are not a second sender.
"""

from __future__ import annotations

import re
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
from mappings.common import country_code, minor_units, parse_date, require_date, text
from mappings.errors import MappingError

PROVIDER = "fiken"
OWN_ATTACHMENT_PREFIX = "kravsync:"

# Norwegian (and common foreign) company forms, as the last word of a name.
_COMPANY_SUFFIX = re.compile(
    r"\b(AS|ASA|ANS|DA|SA|BA|ENK|NUF|KS|IKS|HF|SF|KF|SE|AB|ApS|A/S|Oy|Ltd|GmbH|Inc|LLC)\.?$",
    re.IGNORECASE,
)
_COMPANY_WORDS = re.compile(
    r"\b(kommune|fylkeskommune|stiftelse|forening|borettslag|sameie)\b", re.I
)


def _record_id(kind: str, raw: Any, key: str) -> str:
    if not isinstance(raw, dict):
        raise MappingError(kind, "?", f"expected an object, got {type(raw).__name__}")
    value = raw.get(key)
    if value is None:
        raise MappingError(kind, "?", f"{key} missing")
    return str(value)


def address(raw: Any) -> Address | None:
    if not isinstance(raw, dict):
        return None
    result = Address(
        street=text(raw.get("streetAddress")),
        street2=text(raw.get("streetAddressLine2")),
        postcode=text(raw.get("postCode")),
        city=text(raw.get("city")),
        country=country_code(raw.get("country")),
    )
    if result.is_empty() and result.country is None:
        return None
    return result


def _contact_persons(raw: Any) -> tuple[ContactPerson, ...]:
    people = []
    for person in raw or ():
        if not isinstance(person, dict):
            continue
        name = text(person.get("name"))
        if name:
            people.append(
                ContactPerson(
                    name=name,
                    email=text(person.get("email")),
                    phone=text(person.get("phoneNumber")),
                )
            )
    return tuple(people)


def _kind(name: str, org_number: str | None, persons: tuple[ContactPerson, ...]) -> CustomerKind:
    if org_number or persons or _COMPANY_SUFFIX.search(name) or _COMPANY_WORDS.search(name):
        return CustomerKind.COMPANY
    return CustomerKind.PERSON


def customer(raw: dict[str, Any]) -> Customer:
    record_id = _record_id("customer", raw, "contactId")
    name = text(raw.get("name"))
    if not name:
        raise MappingError("customer", record_id, "name missing")
    org_number = text(raw.get("organizationNumber"))
    persons = _contact_persons(raw.get("contactPerson"))
    invoice_address = address(raw.get("address"))
    number = raw.get("customerNumber")
    return Customer(
        provider=PROVIDER,
        provider_id=record_id,
        number=str(number) if number is not None else None,
        name=name,
        kind=_kind(name, org_number, persons),
        org_number=org_number,
        invoice_address=invoice_address,
        email=text(raw.get("email")),
        phone=text(raw.get("phoneNumber")),
        contact_persons=persons,
        active=not bool(raw.get("inactive", False)),
        currency=text(raw.get("currency")),
        country=invoice_address.country if invoice_address else None,
        last_modified=parse_date(
            "customer", record_id, "lastModifiedDate", raw.get("lastModifiedDate")
        ),
    )


def _dispatches(record_id: str, raw: dict[str, Any], fallback_date: Any) -> tuple[Dispatch, ...]:
    out: list[Dispatch] = []
    for item in raw.get("dispatches") or ():
        if not isinstance(item, dict):
            continue
        on = parse_date("invoice", record_id, "dispatches.date", item.get("date"))
        if on is not None:
            out.append(Dispatch(on=on, channel=str(item.get("dispatchType") or "unknown")))
    for attachment in raw.get("attachments") or ():
        if not isinstance(attachment, dict) or attachment.get("type") != "reminder":
            continue
        if str(attachment.get("identifier") or "").startswith(OWN_ATTACHMENT_PREFIX):
            continue
        on = parse_date("invoice", record_id, "lastModifiedDate", fallback_date)
        if on is not None:
            out.append(Dispatch(on=on, channel="unknown", kind="reminder"))
    return tuple(out)


def invoice(raw: dict[str, Any]) -> Invoice:
    record_id = _record_id("invoice", raw, "invoiceId")
    number = raw.get("invoiceNumber")
    if number is None:
        raise MappingError("invoice", record_id, "invoiceNumber missing")
    currency = str(raw.get("currency") or "NOK").upper()
    if not re.fullmatch(r"[A-Z]{3}", currency):
        raise MappingError("invoice", record_id, f"currency: not an ISO 4217 code: {currency!r}")
    gross = minor_units("invoice", record_id, "gross", raw.get("gross"))
    sale = raw.get("sale")
    if not isinstance(sale, dict):
        raise MappingError("invoice", record_id, "sale missing: payment state unknown")
    foreign = currency != "NOK"
    balance_key = "outstandingBalanceInCurrency" if foreign else "outstandingBalance"
    if sale.get(balance_key) is None:
        raise MappingError("invoice", record_id, f"sale.{balance_key} missing")
    outstanding = minor_units("invoice", record_id, f"sale.{balance_key}", sale.get(balance_key))
    status = _status(sale, outstanding, raw)
    dispatches = _dispatches(record_id, raw, raw.get("lastModifiedDate"))
    customer_field = raw.get("customer")
    customer_raw: dict[str, Any] = customer_field if isinstance(customer_field, dict) else {}
    customer_id = customer_raw.get("contactId")
    customer_number = customer_raw.get("customerNumber")
    reminders = [d for d in dispatches if d.kind == "reminder"]
    return Invoice(
        provider=PROVIDER,
        provider_id=record_id,
        number=str(number),
        customer_id=str(customer_id) if customer_id is not None else None,
        customer_number=str(customer_number) if customer_number is not None else None,
        customer_name=text(customer_raw.get("name")),
        issue_date=require_date("invoice", record_id, "issueDate", raw.get("issueDate")),
        due_date=require_date("invoice", record_id, "dueDate", raw.get("dueDate")),
        currency=currency,
        gross=gross,
        outstanding=outstanding,
        status=status,
        payment_reference=text(raw.get("kid")),
        sent=bool(raw.get("dispatches")) or bool(raw.get("sentManually")),
        dispatches=dispatches,
        reminders_sent=len(reminders),
        last_reminded=max((d.on for d in reminders), default=None),
        credit_note_ids=tuple(str(c) for c in raw.get("associatedCreditNotes") or ()),
        last_modified=parse_date(
            "invoice", record_id, "lastModifiedDate", raw.get("lastModifiedDate")
        ),
    )


def _status(sale: dict[str, Any], outstanding: Decimal, raw: dict[str, Any]) -> InvoiceStatus:
    if sale.get("deleted"):
        return InvoiceStatus.CANCELLED
    if sale.get("writeOff"):
        return InvoiceStatus.WRITTEN_OFF
    if sale.get("settled") or outstanding <= 0:
        if raw.get("associatedCreditNotes") and not sale.get("totalPaid"):
            return InvoiceStatus.CREDITED
        return InvoiceStatus.PAID
    return InvoiceStatus.OPEN
