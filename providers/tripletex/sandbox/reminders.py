"""``PUT /invoice/{id}/:createReminder`` in the sandbox: checks, then a reminder with the
company's charges.

What it enforces (the spec's summary of the operation, and Norwegian law as Tripletex applies
it): a known ``type``; a date that is not in the future and after the due date; an open, non
credit-note invoice; ``NETS_PRINT`` only for ``NOTICE_OF_DEBT_COLLECTION`` and, like ``SMS``,
only when activated for the company; ``EMAIL`` only to an address (the parameter, else the
customer's); ``DEBT_COLLECTION`` only with a debt collector selected.

What it charges: with ``includeCharge``, a ``REMINDER`` or ``NOTICE_OF_DEBT_COLLECTION`` sent at
least 14 days after the due date carries the company's fee (its fixed fee, or the statutory cap
of the day), at most on two reminders per invoice and only on NOK invoices; with
``includeInterest`` it carries simple interest at the company's rate (fixed, or the statutory
rate of the day) from the due date to the reminder date. A ``SOFT_REMINDER`` carries neither.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, timedelta
from decimal import Decimal

from providers.tripletex.sandbox.seed import (
    TERM_DAYS,
    Book,
    Reminder,
    ReminderCounter,
    interest,
    statutory_charge,
    statutory_rate,
)

TYPES = ("SOFT_REMINDER", "REMINDER", "NOTICE_OF_DEBT_COLLECTION", "DEBT_COLLECTION")
DISPATCH_TYPES = ("NETS_PRINT", "EMAIL", "OWN_PRINTER", "SFTP", "API", "SMS")
CHARGED = ("REMINDER", "NOTICE_OF_DEBT_COLLECTION")
FEE_AFTER_DAYS = 14  # inkassoforskriften § 1-2
MAX_FEES = 2  # inkassoforskriften § 1-2: at most two fees per claim


@dataclass
class Refusal(Exception):
    status: int
    code: int
    field: str
    message: str


def _flag(value: str | None, name: str) -> bool:
    if value in (None, "", "false"):
        return False
    if value == "true":
        return True
    raise Refusal(422, 15000, name, f"Ugyldig verdi: {value!r} (true/false)")


def create(
    book: Book, index: int, query: dict[str, str], today: date, ids: ReminderCounter
) -> Reminder:
    kind = query.get("type", "")
    if kind not in TYPES:
        raise Refusal(422, 15000, "type", f"Ugyldig purretype: {kind!r}")
    try:
        on = date.fromisoformat(query.get("date", ""))
    except ValueError:
        raise Refusal(422, 15000, "date", "Dato må være på formen yyyy-MM-dd.") from None
    f = book.invoice_facts(index)
    if on > today:
        raise Refusal(422, 15000, "date", "Purredato kan ikke være frem i tid.")
    if f.credit_note_of is not None:
        raise Refusal(422, 18000, "id", "Kan ikke purre på en kreditnota.")
    outstanding = book.outstanding(index)
    if outstanding <= 0:
        raise Refusal(422, 18000, "id", "Fakturaen er betalt.")
    if on <= f.due:
        raise Refusal(422, 18000, "date", "Fakturaen er ikke forfalt på purredatoen.")
    dispatch = query.get("dispatchType") or (query.get("dispatchTypes") or "").split(",")[0]
    if not dispatch:
        raise Refusal(422, 15000, "dispatchType", "Utsendelsestype mangler.")
    if dispatch not in DISPATCH_TYPES:
        raise Refusal(422, 15000, "dispatchType", f"Ugyldig utsendelsestype: {dispatch!r}")
    settings = book.settings
    if dispatch == "NETS_PRINT" and kind != "NOTICE_OF_DEBT_COLLECTION":
        raise Refusal(
            422, 18000, "dispatchType", "NETS_PRINT krever typen NOTICE_OF_DEBT_COLLECTION."
        )
    if dispatch == "NETS_PRINT" and not settings.nets_print:
        raise Refusal(422, 18000, "dispatchType", "NETS_PRINT er ikke aktivert for firmaet.")
    if dispatch == "SMS" and not settings.sms:
        raise Refusal(422, 18000, "dispatchType", "SMS er ikke aktivert for firmaet.")
    if dispatch == "EMAIL":
        customer = book.customer(f.customer)
        to = (
            query.get("email")
            or customer.get("overdueNoticeEmail")
            or customer.get("invoiceEmail")
            or customer.get("email")
        )
        if not to:
            raise Refusal(422, 18000, "email", "Kunden har ingen e-postadresse for purring.")
    if kind == "DEBT_COLLECTION" and not settings.debt_collector:
        raise Refusal(422, 18000, "type", "Ingen inkassoselskap er valgt for firmaet.")
    include_charge = _flag(query.get("includeCharge"), "includeCharge")
    include_interest = _flag(query.get("includeInterest"), "includeInterest")

    earlier = book.reminders.get(book.invoice_id(index), [])
    charge = Decimal("0")
    fees_taken = sum(1 for r in earlier if r.charge > 0)
    if (
        include_charge
        and kind in CHARGED
        and f.currency == "NOK"
        and (on - f.due).days >= FEE_AFTER_DAYS
        and fees_taken < MAX_FEES
    ):
        charge = settings.charge if settings.charge is not None else statutory_charge(on)
    rate = settings.interest_rate if settings.interest_rate is not None else statutory_rate(on)
    interests = Decimal("0")
    if include_interest and kind in CHARGED:
        interests = interest(outstanding, rate, f.due, on)
    reminder = Reminder(
        id=ids.take(),
        invoice_id=book.invoice_id(index),
        kind=kind,
        on=on,
        charge=charge,
        charge_currency=charge,
        interests=interests,
        interest_rate=rate if kind in CHARGED else Decimal("0"),
        term=on + timedelta(days=TERM_DAYS),
        currency=f.currency,
        dispatch=dispatch,
    )
    book.reminders.setdefault(reminder.invoice_id, []).append(reminder)
    return reminder


__all__ = ["DISPATCH_TYPES", "TYPES", "Refusal", "create"]
