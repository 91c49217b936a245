"""Fiken API v2 payloads → canonical models (pure; no I/O, no clock).

Fiken facts that shape this mapping (shared/specs/fiken-openapi-2026.yaml):
- amounts are integers in øre (cents of the invoice currency);
- a contact has no company/person flag: a contact with an organisation number, contact persons
  or a Norwegian company-form suffix in its name is a company, anything else a person;
- the payment state of an invoice is in its embedded ``sale`` (``settled``,
  ``outstandingBalance`` in NOK øre, ``outstandingBalanceInCurrency`` for foreign currency);
- Fiken's own reminders show as invoice attachments of type ``reminder``; kravsync's own
  attachments carry an identifier starting ``kravsync:`` and are not a second sender;
- a negative balance is money owed to the customer (``credit``), never "paid".

Every field is read strictly (``mappings.common.Fields``): a record that does not fit the spec's
types raises :class:`MappingError` and is skipped by the caller.
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
from mappings.common import MAX_ID, Fields, country_code, own_fee_invoice_for, record_id

PROVIDER = "fiken"
OWN_ATTACHMENT_PREFIX = "kravsync:"
MAX_INVOICE_TEXT = 500  # Fiken's own limit on invoiceText

# Norwegian (and common foreign) company forms, as the last word of a name.
_COMPANY_SUFFIX = re.compile(
    r"\b(AS|ASA|ANS|DA|SA|BA|ENK|NUF|KS|IKS|HF|SF|KF|SE|AB|ApS|A/S|Oy|Ltd|GmbH|Inc|LLC)\.?$",
    re.IGNORECASE,
)
_COMPANY_WORDS = re.compile(
    r"\b(kommune|fylkeskommune|stiftelse|forening|borettslag|sameie)\b", re.I
)


def address(fields: Fields | None) -> Address | None:
    if fields is None:
        return None
    result = Address(
        street=fields.text("streetAddress"),
        street2=fields.text("streetAddressLine2"),
        postcode=fields.text("postCode"),
        city=fields.text("city"),
        country=country_code(fields.text("country")),
    )
    if result.is_empty() and result.country is None:
        return None
    return result


def _contact_persons(fields: Fields) -> tuple[ContactPerson, ...]:
    people = []
    for n, person in enumerate(fields.items("contactPerson")):
        if not isinstance(person, dict):
            raise fields.error(f"contactPerson[{n}]", f"expected an object, got {type(person).__name__}")
        one = Fields(fields.kind, fields.record_id, person, f"contactPerson[{n}].")
        name = one.text("name")
        if name:
            people.append(
                ContactPerson(name=name, email=one.text("email"), phone=one.text("phoneNumber"))
            )
    return tuple(people)


def _kind(name: str, org_number: str | None, persons: tuple[ContactPerson, ...]) -> CustomerKind:
    if org_number or persons or _COMPANY_SUFFIX.search(name) or _COMPANY_WORDS.search(name):
        return CustomerKind.COMPANY
    return CustomerKind.PERSON


def customer(raw: dict[str, Any]) -> Customer:
    f = Fields("customer", record_id("customer", raw, "contactId"), raw)
    name = f.text("name")
    if not name:
        raise f.error("name", "missing")
    org_number = f.text("organizationNumber", MAX_ID)
    persons = _contact_persons(f)
    invoice_address = address(f.obj("address"))
    return Customer(
        provider=PROVIDER,
        provider_id=f.record_id,
        number=f.ident("customerNumber"),
        name=name,
        kind=_kind(name, org_number, persons),
        org_number=org_number,
        invoice_address=invoice_address,
        email=f.text("email"),
        phone=f.text("phoneNumber", MAX_ID),
        contact_persons=persons,
        active=not f.flag("inactive", False),
        currency=_currency(f, required=False),
        country=invoice_address.country if invoice_address else None,
        last_modified=f.date("lastModifiedDate"),
    )


def _currency(f: Fields, *, required: bool) -> str | None:
    code = f.text("currency", 10)
    if code is None:
        return "NOK" if required else None
    code = code.upper()
    if not re.fullmatch(r"[A-Z]{3}", code):
        raise f.error("currency", f"not an ISO 4217 code: {code!r}")
    return code


def _dispatches(f: Fields) -> tuple[Dispatch, ...]:
    out: list[Dispatch] = []
    for n, item in enumerate(f.items("dispatches")):
        if not isinstance(item, dict):
            raise f.error(f"dispatches[{n}]", f"expected an object, got {type(item).__name__}")
        one = Fields(f.kind, f.record_id, item, f"dispatches[{n}].")
        on = one.date("date")
        if on is not None:
            out.append(Dispatch(on=on, channel=one.text("dispatchType", 40) or "unknown"))
    for n, attachment in enumerate(f.items("attachments")):
        if not isinstance(attachment, dict):
            raise f.error(f"attachments[{n}]", f"expected an object, got {type(attachment).__name__}")
        one = Fields(f.kind, f.record_id, attachment, f"attachments[{n}].")
        if one.text("type", 40) != "reminder":
            continue
        if (one.text("identifier") or "").startswith(OWN_ATTACHMENT_PREFIX):
            continue
        on = f.date("lastModifiedDate")
        if on is not None:
            out.append(Dispatch(on=on, channel="unknown", kind="reminder"))
    return tuple(out)


def _credit_notes(f: Fields) -> tuple[str, ...]:
    out = []
    for n, note in enumerate(f.items("associatedCreditNotes")):
        one = Fields(f.kind, f.record_id, {"id": note}, f"associatedCreditNotes[{n}].")
        ident = one.ident("id")
        if ident is None:
            raise f.error(f"associatedCreditNotes[{n}]", "not an invoice id")
        out.append(ident)
    return tuple(out)


def invoice(raw: dict[str, Any]) -> Invoice:
    f = Fields("invoice", record_id("invoice", raw, "invoiceId"), raw)
    number = f.ident("invoiceNumber")
    if number is None:
        raise f.error("invoiceNumber", "missing")
    currency = _currency(f, required=True) or "NOK"
    gross = f.minor_units("gross")
    sale = f.obj("sale")
    if sale is None:
        raise f.error("sale", "missing: payment state unknown")
    foreign = currency != "NOK"
    balance_key = "outstandingBalanceInCurrency" if foreign else "outstandingBalance"
    if sale.raw.get(balance_key) is None:
        raise sale.error(balance_key, "missing")
    outstanding = sale.minor_units(balance_key)
    credit_notes = _credit_notes(f)
    status = _status(sale, outstanding, credit_notes)
    dispatches = _dispatches(f)
    customer_fields = f.obj("customer")
    reminders = [d for d in dispatches if d.kind == "reminder"]
    sent_manually = f.flag("sentManually", False)
    text = f.text("invoiceText", MAX_INVOICE_TEXT)
    return Invoice(
        provider=PROVIDER,
        provider_id=f.record_id,
        number=number,
        customer_id=customer_fields.ident("contactId") if customer_fields else None,
        customer_number=customer_fields.ident("customerNumber") if customer_fields else None,
        customer_name=customer_fields.text("name") if customer_fields else None,
        issue_date=f.required_date("issueDate"),
        due_date=f.required_date("dueDate"),
        currency=currency,
        gross=gross,
        outstanding=outstanding,
        status=status,
        payment_reference=f.text("kid", MAX_ID),
        sent=bool(f.items("dispatches")) or sent_manually,
        dispatches=dispatches,
        reminders_sent=len(reminders),
        last_reminded=max((d.on for d in reminders), default=None),
        credit_note_ids=credit_notes,
        last_modified=f.date("lastModifiedDate"),
        text=text,
        fee_for=own_fee_invoice_for(text),
    )


def _status(sale: Fields, outstanding: Decimal, credit_notes: tuple[str, ...]) -> InvoiceStatus:
    if sale.flag("deleted", False):
        return InvoiceStatus.CANCELLED
    if sale.flag("writeOff", False):
        return InvoiceStatus.WRITTEN_OFF
    if outstanding < 0:
        return InvoiceStatus.CREDIT  # the customer is owed money: never "paid", never dunned
    if sale.flag("settled", False) or outstanding == 0:
        if credit_notes and not sale.minor_units("totalPaid"):
            return InvoiceStatus.CREDITED
        return InvoiceStatus.PAID
    return InvoiceStatus.OPEN
