"""Canonical models: one shape for every provider.

Provider payloads are translated into these by ``mappings/``; everything in ``connector/``
(validation, policy, store, reports) works on these only. Money is ``Decimal`` in major units
(kroner, kronor) of the model's currency; dates are ``date``; timestamps are timezone-aware.
"""

from __future__ import annotations

from datetime import date, datetime
from decimal import Decimal
from enum import StrEnum

from pydantic import AwareDatetime, BaseModel, ConfigDict, Field, field_validator

CENT = Decimal("0.01")


def to_cents(value: Decimal) -> Decimal:
    """Money is kept to two decimals (øre/öre/cents); providers send 64200.0 or 64200."""
    return value.quantize(CENT) if value == value.quantize(CENT) else value


class _Model(BaseModel):
    model_config = ConfigDict(frozen=True, extra="forbid")


class CustomerKind(StrEnum):
    COMPANY = "company"
    PERSON = "person"


class Address(_Model):
    """A postal address. ``country`` is an ISO 3166-1 alpha-2 code where the provider's value
    could be recognised, otherwise the provider's text as given (validation reports it)."""

    street: str | None = None
    street2: str | None = None
    postcode: str | None = None
    city: str | None = None
    country: str | None = None

    def is_empty(self) -> bool:
        return not any((self.street, self.street2, self.postcode, self.city))


class ContactPerson(_Model):
    name: str
    email: str | None = None
    phone: str | None = None


class Customer(_Model):
    provider: str
    provider_id: str
    number: str | None = None
    name: str
    kind: CustomerKind
    org_number: str | None = None
    national_id: str | None = None
    birth_date: date | None = None
    vat_number: str | None = None
    invoice_address: Address | None = None
    delivery_address: Address | None = None
    email: str | None = None
    phone: str | None = None
    contact_persons: tuple[ContactPerson, ...] = ()
    active: bool = True
    currency: str | None = None
    country: str | None = Field(
        default=None, description="Customer's country (ISO alpha-2) if known, else None"
    )
    last_modified: date | None = None
    # (code, field, message) of the findings on a national id or a personal org number, worked
    # out on the clear number before the store masked it (see connector/privacy.py).
    id_findings: tuple[tuple[str, str, str], ...] = ()

    @property
    def contact_person(self) -> ContactPerson | None:
        return self.contact_persons[0] if self.contact_persons else None


class InvoiceStatus(StrEnum):
    OPEN = "open"  # booked, sent or not, with an open balance
    PAID = "paid"  # settled in full
    CREDITED = "credited"  # fully credited by a credit note
    CREDIT = "credit"  # a negative balance: the customer is owed money; never "paid", never dunned
    CANCELLED = "cancelled"
    WRITTEN_OFF = "written_off"
    DRAFT = "draft"  # not yet booked: never reminded


class Dispatch(_Model):
    """One sending of the invoice (or of a reminder about it) by the accounting system."""

    on: date
    channel: str  # email, ehf, letter, efaktura, sms, print, unknown, …
    kind: str = "invoice"  # invoice | reminder


class Invoice(_Model):
    provider: str
    provider_id: str
    number: str
    customer_id: str | None  # provider id of the customer
    customer_number: str | None = None
    customer_name: str | None = None
    issue_date: date
    due_date: date
    currency: str
    gross: Decimal
    outstanding: Decimal
    status: InvoiceStatus
    payment_reference: str | None = None  # KID (NO) or OCR (SE)
    sent: bool = True
    booked: bool = True
    dispatches: tuple[Dispatch, ...] = ()
    reminders_sent: int = 0
    last_reminded: date | None = None
    handled_by: str | None = None  # a second sender that owns dunning (e.g. "fortnox_finans")
    credit_note_ids: tuple[str, ...] = ()
    last_modified: date | AwareDatetime | None = None
    # The invoice's own free text as the provider keeps it (e.g. Fiken's invoiceText), capped;
    # the tenant's `fee_invoices` patterns are matched against it.
    text: str | None = None
    # A fee or compensation invoice (kravsync's own, recognised by its ``[kravsync:<key>]``
    # marker, or one the tenant marks in its config): the provider id of the invoice it charges
    # for, "" when unknown. Never reminded, never charged a fee or interest of its own.
    fee_for: str | None = None

    _cents = field_validator("gross", "outstanding")(to_cents)

    @property
    def is_open(self) -> bool:
        return self.status is InvoiceStatus.OPEN and self.outstanding > 0

    @property
    def is_fee_invoice(self) -> bool:
        return self.fee_for is not None


class ActionStage(StrEnum):
    REMINDER = "reminder"
    COLLECTION_NOTICE = "collection_notice"
    HANDOVER = "handover"


class ActionState(StrEnum):
    PENDING = "pending"
    DONE = "done"
    FAILED = "failed"
    SKIPPED = "skipped"


class ReminderAction(_Model):
    """An action the policy planned (and, once journalled, kravsync took) on one invoice."""

    tenant: str
    invoice_id: str
    invoice_number: str
    customer_id: str | None
    customer_number: str | None = None
    stage: ActionStage
    sequence: int = 1
    planned_on: date
    deadline: date | None = None
    fee: Decimal = Decimal("0")
    interest: Decimal = Decimal("0")
    compensation: Decimal = Decimal("0")
    currency: str
    outstanding: Decimal
    # Still open on the fee invoices of earlier letters about this invoice: shown on this
    # letter (each fee invoice keeps its own KID/OCR), never charged anything again.
    earlier_fees: Decimal = Decimal("0")
    reason: str = ""

    @property
    def idempotency_key(self) -> str:
        return f"{self.tenant}:{self.invoice_id}:{self.stage.value}:{self.sequence}"


class NoteKind(StrEnum):
    CONTACT = "contact"
    PROMISE = "promise"
    DISPUTE = "dispute"
    PAYMENT_PLAN = "payment_plan"
    DO_NOT_REMIND = "do_not_remind"


class Note(_Model):
    """A logged contact with the customer; promises, disputes and plans also hold the ladder."""

    tenant: str
    invoice_id: str | None = None
    customer_id: str | None = None
    kind: NoteKind = NoteKind.CONTACT
    text: str
    author: str
    created_at: datetime
    until: date | None = None  # promise date / hold end
    resolved_at: datetime | None = None


__all__ = [
    "ActionStage",
    "ActionState",
    "Address",
    "ContactPerson",
    "Customer",
    "CustomerKind",
    "Dispatch",
    "Invoice",
    "InvoiceStatus",
    "Note",
    "NoteKind",
    "ReminderAction",
]
