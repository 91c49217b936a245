"""Deterministic data for the Tripletex sandbox: an accounting bureau and its client companies.

One employee (of the bureau "Fjordbyrå Regnskap AS") reaches its own company and three client
companies as their accountant:

* **Nordlys Hytteutleie AS** (the demo company): the same customers, defects and overdue stages as
  the Fiken demo book (``providers.fiken.sandbox.seed.DEMO_CONTACTS`` / ``DEMO_INVOICES``, rebuilt in
  Tripletex's shapes), or a generated book of any size for benchmarks. Tripletex follows the
  statutory fee and interest; a debt collector is selected; Tripletex itself reminded one
  invoice (a second sender).
* **Sørvik Bygg AS**: a small book whose Tripletex charges a fixed 70 NOK reminder fee (its
  reminders show it): kravsync refuses fee-bearing pushes there.
* **Elvebakken Kafé SA**: a small book, statutory charges, no debt collector, no SMS.

Records are built by index on demand (the generated book never holds 100 000 invoice dicts);
the books keep only compact facts. Amounts are ``Decimal`` in major units.
"""

from __future__ import annotations

import bisect
from array import array
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, timedelta
from decimal import ROUND_HALF_UP, Decimal
from typing import Any

from connector.clock import NORDIC
from connector.policy.rules import rules_for
from providers.fiken.sandbox import seed as fiken

CENT = Decimal("0.01")
EUR_RATE = Decimal("11.62")  # NOK per EUR in the sample data
BUREAU_ID = 1_000_001
DEMO_COMPANY_ID = 2_000_101
FIXED_FEE_COMPANY_ID = 2_000_102
SMALL_COMPANY_ID = 2_000_103
EMPLOYEE_ID = 30_001
CONSUMER_TOKEN = "sandbox-consumer-token"
EMPLOYEE_TOKEN = "sandbox-employee-token"
FIRST_REMINDER_ID = 7_000_001
TERM_DAYS = 14  # a reminder's term of payment (inkassoloven § 9: at least 14 days)

COUNTRIES: dict[str, dict[str, Any]] = {
    "NO": {"id": 161, "name": "Norge", "isoAlpha2Code": "NO", "isoAlpha3Code": "NOR", "isoNumericCode": "578"},
    "DE": {"id": 56, "name": "Tyskland", "isoAlpha2Code": "DE", "isoAlpha3Code": "DEU", "isoNumericCode": "276"},
    "SE": {"id": 208, "name": "Sverige", "isoAlpha2Code": "SE", "isoAlpha3Code": "SWE", "isoNumericCode": "752"},
}  # fmt: skip
CURRENCIES = {"NOK": (1, "Norske kroner", 1), "EUR": (5, "Euro", 1)}
_COUNTRY_OF = {"Norge": "NO", "Tyskland": "DE", "Sverige": "SE"}


def money(value: Decimal) -> Decimal:
    return value.quantize(CENT, rounding=ROUND_HALF_UP)


def ore(amount: int) -> Decimal:
    return Decimal(amount).scaleb(-2)


@dataclass
class Settings:
    """A company's reminder settings, as its Tripletex applies them to ``:createReminder``."""

    charge: Decimal | None = None  # a fixed reminder fee; None: the statutory cap of the day
    interest_rate: Decimal | None = None  # a fixed rate (% p.a.); None: the statutory rate
    debt_collector: str | None = None  # needed for DEBT_COLLECTION
    sms: bool = False  # dispatch type SMS activated
    nets_print: bool = False  # dispatch type NETS_PRINT activated


@dataclass(frozen=True)
class Company:
    id: int
    name: str
    org: str
    kind: str = "AS"
    email: str = ""
    street: str = ""
    postcode: str = ""
    city: str = ""


# --- facts --------------------------------------------------------------------------------------


@dataclass(frozen=True)
class CustomerFacts:
    number: int
    name: str
    org: str | None
    private: bool
    email: str | None
    street: str | None
    postcode: str | None
    city: str | None
    country: str = "NO"
    inactive: bool = False
    supplier: bool = False
    language: str = "NO"
    phone: str | None = None
    persons: tuple[tuple[str, str, str | None], ...] = ()
    changed: datetime = datetime(2024, 1, 1, tzinfo=UTC)


@dataclass(frozen=True)
class InvoiceFacts:
    number: int
    customer: int  # index of the customer in the book
    issue: date
    due: date
    gross: Decimal  # invoice currency
    paid: Decimal  # invoice currency
    currency: str = "NOK"
    credited: bool = False  # a credit note nullified it
    credit_note_of: int | None = None  # this is a credit note of invoice index …
    written_off: bool = False
    comment: str = ""


@dataclass
class Reminder:
    """A reminder on an invoice (seeded, or made by ``:createReminder``)."""

    id: int
    invoice_id: int
    kind: str
    on: date
    charge: Decimal  # company currency (NOK)
    charge_currency: Decimal  # invoice currency
    interests: Decimal  # invoice currency
    interest_rate: Decimal
    term: date
    currency: str
    dispatch: str = "EMAIL"


# --- the record builders (the shapes of the spec's schemas) ------------------------------------


def _ref(base: str, kind: str, rid: int) -> dict[str, Any]:
    return {"id": rid, "version": 0, "url": f"{base}/{kind}/{rid}"}


def country(base: str, iso: str) -> dict[str, Any]:
    c = COUNTRIES.get(iso, COUNTRIES["NO"])
    return {**_ref(base, "country", c["id"]), **{k: v for k, v in c.items() if k != "id"},
            "displayName": c["name"]}  # fmt: skip


def currency(base: str, code: str) -> dict[str, Any]:
    cid, description, factor = CURRENCIES.get(code, (99, code, 1))
    return {**_ref(base, "currency", cid), "code": code, "description": description,
            "factor": factor, "displayName": code, "isDisabled": False}  # fmt: skip


def address(base: str, aid: int, street: str | None, postcode: str | None, city: str | None,
            iso: str) -> dict[str, Any]:  # fmt: skip
    text = ", ".join(p for p in (street, f"{postcode or ''} {city or ''}".strip()) if p)
    return {
        **_ref(base, "address", aid),
        "addressLine1": street or "",
        "addressLine2": "",
        "postalCode": postcode or "",
        "city": city or "",
        "country": country(base, iso),
        "displayName": text,
        "addressAsString": text,
    }


def customer_record(
    base: str, cid: int, f: CustomerFacts, factoring: bool = False
) -> dict[str, Any]:
    email = f.email or ""
    return {
        **_ref(base, "customer", cid),
        "name": f.name,
        "organizationNumber": f.org or "",
        "customerNumber": f.number,
        "supplierNumber": 0,
        "isSupplier": f.supplier,
        "isCustomer": True,
        "isInactive": f.inactive,
        "email": email,
        "invoiceEmail": email,
        "overdueNoticeEmail": "",
        "phoneNumber": f.phone or "",
        "phoneNumberMobile": "",
        "description": "",
        "language": f.language,
        "displayName": f"{f.name} ({f.number})",
        "isPrivateIndividual": f.private,
        "singleCustomerInvoice": False,
        "invoiceSendMethod": "EMAIL" if email else "PAPER",
        "emailAttachmentType": "ATTACHMENT",
        "postalAddress": address(base, 3 * cid, f.street, f.postcode, f.city, f.country),
        "physicalAddress": address(base, 3 * cid + 1, None, None, None, f.country),
        "invoicesDueIn": 14,
        "invoicesDueInType": "DAYS",
        "currency": currency(base, "EUR" if f.country == "DE" else "NOK"),
        "isFactoring": factoring,
        "invoiceSendSMSNotification": False,
        "isAutomaticSoftReminderEnabled": False,
        "isAutomaticReminderEnabled": False,
        "isAutomaticNoticeOfDebtCollectionEnabled": False,
        "discountPercentage": 0,
        "website": "",
    }


def contact_record(base: str, kid: int, person: tuple[str, str, str | None],
                   customer: dict[str, Any]) -> dict[str, Any]:  # fmt: skip
    name, email, phone = person
    first, _, last = name.rpartition(" ")
    first, last = (first, last) if first else (name, "")
    return {
        **_ref(base, "contact", kid),
        "firstName": first,
        "lastName": last,
        "displayName": name,
        "email": email or "",
        "phoneNumberMobileCountry": country(base, "NO"),
        "phoneNumberMobile": phone or "",
        "phoneNumberWork": "",
        "customer": customer,
        "isInactive": False,
    }


def reminder_record(base: str, r: Reminder, kid: str, total: Decimal) -> dict[str, Any]:
    return {
        **_ref(base, "reminder", r.id),
        "reminderDate": r.on.isoformat(),
        "charge": r.charge,
        "chargeCurrency": r.charge_currency,
        "totalCharge": r.charge,
        "totalChargeCurrency": r.charge_currency,
        "totalAmountCurrency": total,
        "interests": r.interests,
        "interestRate": r.interest_rate,
        "termOfPayment": r.term.isoformat(),
        "currency": currency(base, r.currency),
        "type": r.kind,
        "comment": "",
        "kid": kid,
        "bankAccountNumber": "15035012348",
        "bankAccountIBAN": "NO9315035012348",
        "bankAccountSWIFT": "DNBANOKK",
        "bank": "DNB Bank ASA",
    }


# --- books ----------------------------------------------------------------------------------------


class Book:
    """One company's customers, contacts, invoices and reminders, built by index on demand."""

    CUSTOMER_BASE = 0
    INVOICE_BASE = 0

    def __init__(self, company: Company, settings: Settings, today: date) -> None:
        self.company = company
        self.settings = settings
        self.today = today
        self.base_url = "https://tripletex.no/v2"
        self.reminders: dict[int, list[Reminder]] = {}
        self.paid_extra: dict[int, Decimal] = {}  # test hook: payments after the seed
        self.changed: dict[int, datetime] = {}  # test hook: customer changes after the seed
        self.customer_over: dict[int, dict[str, Any]] = {}
        self._customer_records: dict[tuple[int, str], dict[str, Any]] = {}
        self.n_customers = 0
        self.n_invoices = 0

    # ids
    def customer_id(self, i: int) -> int:
        return self.CUSTOMER_BASE + i + 1

    def customer_index(self, cid: int) -> int | None:
        i = cid - self.CUSTOMER_BASE - 1
        return i if 0 <= i < self.n_customers else None

    def invoice_id(self, i: int) -> int:
        return self.INVOICE_BASE + i + 1

    def invoice_index(self, iid: int) -> int | None:
        i = iid - self.INVOICE_BASE - 1
        return i if 0 <= i < self.n_invoices else None

    # to be provided by a book
    def customer_facts(self, i: int) -> CustomerFacts:
        raise NotImplementedError

    def invoice_facts(self, i: int) -> InvoiceFacts:
        raise NotImplementedError

    def issue_ordinal(self, i: int) -> int:
        return self.invoice_facts(i).issue.toordinal()

    # records
    def customer(self, i: int) -> dict[str, Any]:
        """The customer record (shared: callers project it, never change it)."""
        key = (i, self.base_url)
        record = self._customer_records.get(key)
        if record is None:
            record = customer_record(self.base_url, self.customer_id(i), self.customer_facts(i))
            over = self.customer_over.get(i)
            if over:
                record.update(over)
            if len(self._customer_records) > 50_000:
                self._customer_records.clear()
            self._customer_records[key] = record
        return record

    def forget_customer(self, i: int) -> None:
        """Drop the shared record of customer ``i`` after a change."""
        for key in [k for k in self._customer_records if k[0] == i]:
            del self._customer_records[key]

    def customer_changed(self, i: int) -> datetime:
        return self.changed.get(i) or self.customer_facts(i).changed

    def customer_inactive(self, i: int) -> bool:
        over = self.customer_over.get(i, {})
        return bool(over.get("isInactive", self.customer_facts(i).inactive))

    def contact_id(self, i: int, k: int) -> int:
        return 10 * self.customer_id(i) + k

    def contact(self, i: int, k: int) -> dict[str, Any]:
        """Contact person ``k`` of customer ``i``."""
        person = self.customer_facts(i).persons[k]
        return contact_record(self.base_url, self.contact_id(i, k), person, self.customer(i))

    def outstanding(self, i: int) -> Decimal:
        f = self.invoice_facts(i)
        if f.credit_note_of is not None:
            return Decimal("0")
        if f.credited or f.written_off:
            return Decimal("0")
        extra = self.paid_extra.get(self.invoice_id(i), Decimal("0"))
        return max(Decimal("0"), f.gross - f.paid - extra)

    def kid(self, i: int) -> str:
        f = self.invoice_facts(i)
        return fiken.kid(self.customer_facts(f.customer).number, f.number)

    def invoice(self, i: int) -> dict[str, Any]:
        f = self.invoice_facts(i)
        base, iid = self.base_url, self.invoice_id(i)
        rate = EUR_RATE if f.currency == "EUR" else Decimal("1")
        sign = Decimal("-1") if f.credit_note_of is not None else Decimal("1")
        gross = sign * f.gross
        net = money(gross / Decimal("1.25")) if f.currency == "NOK" else gross
        open_now = self.outstanding(i)
        charges = sum(
            (r.charge_currency + r.interests for r in self.reminders.get(iid, ())), Decimal("0")
        )
        kid = self.kid(i)
        reminders = [
            reminder_record(base, r, kid, money(open_now + r.charge_currency + r.interests))
            for r in self.reminders.get(iid, ())
        ]
        record: dict[str, Any] = {
            **_ref(base, "invoice", iid),
            "invoiceNumber": f.number,
            "invoiceDate": f.issue.isoformat(),
            "customer": self.customer(f.customer),
            "invoiceDueDate": f.due.isoformat(),
            "kid": kid,
            "invoiceComment": f.comment,
            "comment": "",
            "voucher": _ref(base, "ledger/voucher", 9_000_000 + iid % 1_000_000),
            "deliveryDate": f.issue.isoformat(),
            "amount": money(gross * rate),
            "amountCurrency": money(gross),
            "amountExcludingVat": money(net * rate),
            "amountExcludingVatCurrency": money(net),
            "amountRoundoff": Decimal("0"),
            "amountRoundoffCurrency": Decimal("0"),
            "amountOutstanding": money(open_now * rate),
            "amountCurrencyOutstanding": money(open_now),
            "amountOutstandingTotal": money((open_now + charges) * rate),
            "amountCurrencyOutstandingTotal": money(open_now + charges),
            "sumRemits": Decimal("0"),
            "currency": currency(base, f.currency),
            "isCreditNote": f.credit_note_of is not None,
            "isCharged": True,
            "isApproved": True,
            "isCredited": f.credited,
            "reminders": reminders,
            "isPeriodizationPossible": False,
            "ehfSendStatus": "DO_NOT_SEND",
        }
        if f.credit_note_of is not None:
            record["creditedInvoice"] = self.invoice_id(f.credit_note_of)
        return record

    def reminder_list(self) -> list[tuple[Reminder, int]]:
        """Every reminder with the index of its invoice, in id order."""
        out: list[tuple[Reminder, int]] = []
        for iid, items in self.reminders.items():
            i = self.invoice_index(iid)
            if i is not None:
                out.extend((r, i) for r in items)
        out.sort(key=lambda item: item[0].id)
        return out


class ListBook(Book):
    """A book of explicit facts (the demo company and the small ones)."""

    def __init__(
        self,
        company: Company,
        settings: Settings,
        today: date,
        customers: list[CustomerFacts],
        invoices: list[InvoiceFacts],
        customer_base: int,
        invoice_base: int,
    ) -> None:
        super().__init__(company, settings, today)
        self.CUSTOMER_BASE, self.INVOICE_BASE = customer_base, invoice_base
        self._customers, self._invoices = customers, invoices
        self.n_customers, self.n_invoices = len(customers), len(invoices)
        self.tags: dict[str, int] = {}
        self.customer_keys: dict[str, int] = {}

    def customer_facts(self, i: int) -> CustomerFacts:
        return self._customers[i]

    def invoice_facts(self, i: int) -> InvoiceFacts:
        return self._invoices[i]


def statutory_charge(day: date) -> Decimal:
    return rules_for("NO").reminder_fee_cap.at(day).value or Decimal("0")


def statutory_rate(day: date) -> Decimal:
    """The rate Tripletex itself would apply: the latest figure in force, confirmed or not (the
    real Tripletex knows this half-year's rate; kravsync's tables may not have confirmed it)."""
    known = [p for p in rules_for("NO").interest_rate.periods if p.valid_from <= day and p.value]
    return known[-1].value if known and known[-1].value is not None else Decimal("0")


def interest(outstanding: Decimal, rate: Decimal, due: date, on: date) -> Decimal:
    """Tripletex's interest on a reminder: simple, one rate, due date → reminder date."""
    days = max((on - due).days, 0)
    return (outstanding * rate * days / Decimal(36500)).quantize(CENT, rounding=ROUND_HALF_UP)


class ReminderCounter:
    """Reminder ids shared by every company of the sandbox."""

    def __init__(self, start: int = FIRST_REMINDER_ID) -> None:
        self.next = start

    def take(self) -> int:
        rid, self.next = self.next, self.next + 1
        return rid


def seed_reminder(book: Book, i: int, kind: str, on: date, ids: ReminderCounter,
                  charge: Decimal | None = None) -> Reminder:  # fmt: skip
    """A reminder Tripletex made itself before kravsync came (a second sender's evidence)."""
    f = book.invoice_facts(i)
    fee = charge if charge is not None else statutory_charge(on)
    rate = statutory_rate(on)
    fee_currency = fee if f.currency == "NOK" else Decimal("0")
    reminder = Reminder(
        id=ids.take(),
        invoice_id=book.invoice_id(i),
        kind=kind,
        on=on,
        charge=fee if f.currency == "NOK" else Decimal("0"),
        charge_currency=fee_currency,
        interests=interest(book.outstanding(i), rate, f.due, on),
        interest_rate=rate,
        term=on + timedelta(days=TERM_DAYS),
        currency=f.currency,
    )
    book.reminders.setdefault(reminder.invoice_id, []).append(reminder)
    return reminder


def _at_noon(day: date) -> datetime:
    return datetime(day.year, day.month, day.day, 12, tzinfo=NORDIC)


def _gross(lines: tuple[fiken.Line, ...]) -> int:
    return sum(ln.unit_price * ln.quantity * (100 + ln.vat_rate_pct) // 100 for ln in lines)


def demo_book(today: date, ids: ReminderCounter) -> ListBook:
    """The Fiken demo book's customers, defects and stages, as a Tripletex company."""
    company = Company(DEMO_COMPANY_ID, "Nordlys Hytteutleie AS", fiken.valid_orgnr(7), "AS",
                      "post@nordlyshytter.no", "Storgata 14", "9008", "Tromsø")  # fmt: skip
    customers: list[CustomerFacts] = []
    keys: dict[str, int] = {}
    orgs: dict[str, str | None] = {}
    number = 10001
    for i, c in enumerate(fiken.DEMO_CONTACTS):
        if c.org == "valid":
            org: str | None = fiken.valid_orgnr(100 + i)
        elif c.org == "bad_checksum":
            org = fiken.bad_checksum_orgnr(100 + i)
        elif c.org and c.org.startswith("same_as:"):
            org = orgs[c.org.split(":", 1)[1]]
        else:
            org = None
        orgs[c.key] = org
        if not c.customer:
            continue  # a supplier only: Tripletex lists it under /supplier, not /customer
        keys[c.key] = len(customers)
        customers.append(
            CustomerFacts(
                number=number,
                name=c.name,
                org=org,
                private=org is None and not c.persons,
                email=c.email,
                street=c.street,
                postcode=c.postcode,
                city=c.city,
                country=_COUNTRY_OF.get(c.country, "NO"),
                inactive=c.inactive,
                supplier=c.supplier,
                language="EN" if c.language == "English" else "NO",
                persons=c.persons,
                changed=_at_noon(today - timedelta(days=min(c.modified_days, c.age_days))),
            )
        )
        number += 1
    invoices: list[InvoiceFacts] = []
    tags: dict[str, int] = {}
    pending_reminders: list[tuple[int, date]] = []
    credit_notes: list[tuple[int, date]] = []
    for spec in fiken.DEMO_INVOICES:
        due = today - timedelta(days=spec.overdue_days)
        issue = due - timedelta(days=spec.terms)
        gross = ore(_gross(spec.lines))
        paid = Decimal("0")
        for _days, amount in spec.payments:
            paid += gross - paid if amount is None else min(ore(amount), gross - paid)
        tags[spec.tag] = len(invoices)
        invoices.append(
            InvoiceFacts(
                number=10001 + len(invoices),
                customer=keys[spec.customer],
                issue=issue,
                due=due,
                gross=gross,
                paid=paid,
                currency=spec.currency,
                credited=spec.credit_note_days is not None,
                written_off=spec.write_off_days is not None,
                comment=spec.lines[0].description,
            )
        )
        if spec.fiken_reminder_after_due is not None:
            pending_reminders.append(
                (len(invoices) - 1, due + timedelta(days=spec.fiken_reminder_after_due))
            )
        if spec.credit_note_days is not None:
            credit_notes.append((len(invoices) - 1, today - timedelta(days=spec.credit_note_days)))
    for of, on in credit_notes:
        original = invoices[of]
        invoices.append(
            InvoiceFacts(
                number=10001 + len(invoices),
                customer=original.customer,
                issue=on,
                due=on,
                gross=original.gross,
                paid=Decimal("0"),
                currency=original.currency,
                credit_note_of=of,
                comment=f"Kreditnota for faktura {original.number}",
            )
        )
    book = ListBook(
        company, Settings(debt_collector="Kredinor AS"), today, customers, invoices,
        customer_base=2_100_000, invoice_base=2_200_000,
    )  # fmt: skip
    book.tags, book.customer_keys = tags, keys
    for i, on in pending_reminders:
        seed_reminder(book, i, "REMINDER", on, ids)
    return book


def _small_customers(
    names: list[tuple[str, str | None, str, str, str]], today: date
) -> list[CustomerFacts]:
    out = []
    for k, (name, email, street, postcode, city) in enumerate(names):
        out.append(
            CustomerFacts(
                number=20001 + k,
                name=name,
                org=fiken.valid_orgnr(500 + k),
                private=False,
                email=email,
                street=street,
                postcode=postcode,
                city=city,
                persons=((f"Kari {name.split()[0]}", email or "", "+47 900 00 00" + str(k)),)
                if email
                else (),
                changed=_at_noon(today - timedelta(days=60 + k)),
            )
        )
    return out


def fixed_fee_book(today: date, ids: ReminderCounter) -> ListBook:
    """A company whose Tripletex charges a fixed 70 NOK fee: its old reminders show it."""
    company = Company(FIXED_FEE_COMPANY_ID, "Sørvik Bygg AS", fiken.valid_orgnr(8), "AS",
                      "post@sorvikbygg.no", "Kaigata 3", "5003", "Bergen")  # fmt: skip
    customers = _small_customers(
        [
            ("Bjørkeli Borettslag", "styret@bjorkeli.no", "Bjørkelia 2", "5010", "Bergen"),
            ("Fana Rør AS", "post@fanaror.no", "Fanavegen 9", "5239", "Rådal"),
            ("Åsane Elektro AS", "faktura@asaneelektro.no", "Åsane senter 40", "5116", "Ulset"),
        ],
        today,
    )
    invoices = [
        InvoiceFacts(30001, 0, today - timedelta(days=64), today - timedelta(days=50), Decimal("18750.00"), Decimal("0")),
        InvoiceFacts(30002, 1, today - timedelta(days=44), today - timedelta(days=30), Decimal("4375.00"), Decimal("0")),
        InvoiceFacts(30003, 2, today - timedelta(days=200), today - timedelta(days=186), Decimal("9000.00"), Decimal("9000.00")),
        InvoiceFacts(30004, 2, today - timedelta(days=10), today + timedelta(days=4), Decimal("2500.00"), Decimal("0")),
    ]  # fmt: skip
    book = ListBook(company, Settings(charge=Decimal("70.00"), debt_collector="Intrum AS"), today,
                    customers, invoices, customer_base=2_300_000, invoice_base=2_400_000)  # fmt: skip
    # Its own (paid) reminder of last spring: the company's fixed fee, on the record.
    seed_reminder(book, 2, "REMINDER", today - timedelta(days=170), ids, charge=Decimal("70.00"))
    return book


def small_book(today: date, ids: ReminderCounter) -> ListBook:
    company = Company(SMALL_COMPANY_ID, "Elvebakken Kafé SA", fiken.valid_orgnr(9), "SA",
                      "kafe@elvebakken.no", "Elvegata 1", "9510", "Alta")  # fmt: skip
    customers = _small_customers(
        [
            ("Alta Turistkontor AS", "post@altaturist.no", "Sentrum 1", "9510", "Alta"),
            ("Finnmark Fjellstue AS", None, "Fjellvegen 5", "9520", "Kautokeino"),
        ],
        today,
    )
    invoices = [
        InvoiceFacts(40001, 0, today - timedelta(days=50), today - timedelta(days=36), Decimal("1250.00"), Decimal("0")),
        InvoiceFacts(40002, 1, today - timedelta(days=35), today - timedelta(days=21), Decimal("3125.00"), Decimal("0")),
    ]  # fmt: skip
    return ListBook(company, Settings(), today, customers, invoices,
                    customer_base=2_500_000, invoice_base=2_600_000)  # fmt: skip


class GeneratedBook(Book):
    """Any size (e.g. 20 000 customers, 100 000 invoices); every field a function of its index.

    The same spread as the Fiken generator (``providers.fiken.sandbox.seed.GeneratedSeed``): persons
    every fourth customer, about 2 % companies without org number, 1.5 % bad checksums, 2 %
    without postcode, 5 % without e-mail, 2 % inactive; issue dates over two years in index
    order (so a date window is an index range); older invoices mostly paid; Tripletex's own
    reminder on 3 % of the unpaid ones more than 14 days overdue.
    """

    CUSTOMER_BASE = 2_100_000
    INVOICE_BASE = 3_000_000
    SPAN_DAYS = 730

    def __init__(self, company: Company, settings: Settings, today: date, customers: int,
                 invoices: int, ids: ReminderCounter) -> None:  # fmt: skip
        super().__init__(company, settings, today)
        if customers < 2:
            raise ValueError("a generated book needs at least 2 customers")
        self.n_customers, self.n_invoices = customers, invoices
        self._today = today.toordinal()
        self._customer_memo: dict[int, CustomerFacts] = {}
        self._invoice_memo: dict[int, InvoiceFacts] = {}
        self._issue = array("l", (self._issue_of(i) for i in range(invoices)))
        for i in range(invoices):
            reminder = self._facts(i)[6]
            if reminder is not None:
                seed_reminder(self, i, "REMINDER", date.fromordinal(reminder), ids)

    def _issue_of(self, i: int) -> int:
        return self._today - self.SPAN_DAYS + (i * self.SPAN_DAYS) // max(self.n_invoices, 1)

    def issue_ordinal(self, i: int) -> int:
        return self._issue[i]

    def window(self, first: int, last_excl: int) -> tuple[int, int]:
        """Index range of the invoices dated ``first`` up to ``last_excl`` (ordinals)."""
        return bisect.bisect_left(self._issue, first), bisect.bisect_left(self._issue, last_excl)

    def customer_facts(self, i: int) -> CustomerFacts:
        found = self._customer_memo.get(i)
        if found is None:
            found = self._customer_memo[i] = self._customer_facts(i)
        return found

    def invoice_facts(self, i: int) -> InvoiceFacts:
        found = self._invoice_memo.get(i)
        if found is None:
            if len(self._invoice_memo) > 20_000:
                self._invoice_memo.clear()
            found = self._invoice_memo[i] = self._invoice_facts(i)
        return found

    def _customer_facts(self, i: int) -> CustomerFacts:
        h = fiken.mix(i, 1)
        postcode, city = fiken.PLACES[h % len(fiken.PLACES)]
        street = f"{fiken.STREETS[(h >> 8) % len(fiken.STREETS)]} {1 + (h >> 16) % 120}"
        defect = (h >> 24) % 1000
        span = 3 * 365
        created = self.today - timedelta(days=span - (i * span) // self.n_customers)
        changed = created + timedelta(days=fiken.mix(i, 2) % ((self.today - created).days + 1))
        persons: tuple[tuple[str, str, str | None], ...] = ()
        if i % 4 == 3:
            first = fiken.FIRST_NAMES[(h >> 34) % len(fiken.FIRST_NAMES)]
            last = fiken.LAST_NAMES[(h >> 40) % len(fiken.LAST_NAMES)]
            name, org, private = f"{first} {last}", None, True
            domain = fiken.MAIL_DOMAINS[(h >> 46) % len(fiken.MAIL_DOMAINS)]
            email: str | None = f"{fiken.slugify(first)}.{fiken.slugify(last)}{i}@{domain}"
        else:
            form = fiken.FORMS[(h >> 46) % len(fiken.FORMS)]
            name = f"{fiken.PREFIXES[(h >> 34) % len(fiken.PREFIXES)]} {fiken.TRADES[(h >> 40) % len(fiken.TRADES)]}"
            name = f"{name} {form}" if form != "Enkeltpersonforetak" else name
            private = False
            org = fiken.valid_orgnr(i + 1000)
            if i % 499 == 498 and (i - 1) % 4 != 3:
                org = fiken.valid_orgnr(i - 1 + 1000)  # a duplicate of the customer before
            elif defect < 20:
                org = None
            elif defect < 35:
                org = fiken.bad_checksum_orgnr(i + 1000)
            email = f"post@{fiken.slugify(name)}{i}.no"
            first = fiken.FIRST_NAMES[(h >> 50) % len(fiken.FIRST_NAMES)]
            last = fiken.LAST_NAMES[(h >> 55) % len(fiken.LAST_NAMES)]
            phone = f"+47 9{(h >> 20) % 10_000_000:07d}"
            if (h >> 60) % 16:
                persons = (
                    (
                        f"{first} {last}",
                        f"{fiken.slugify(first)}@{fiken.slugify(name)}{i}.no",
                        phone,
                    ),
                )
        if 35 <= defect < 55:
            postcode = ""
        if 55 <= defect < 105:
            email = None
        return CustomerFacts(
            number=10001 + i,
            name=name,
            org=org,
            private=private,
            email=email,
            street=street,
            postcode=postcode or None,
            city=city,
            inactive=fiken.mix(i, 3) % 1000 < 20,
            persons=persons,
            changed=_at_noon(changed),
        )

    def _facts(self, i: int) -> tuple[int, int, int, int, int | None, bool, int | None]:
        """(hash, customer, issue, due, paid on, paid in full, Tripletex's reminder day)."""
        h = fiken.mix(i, 7)
        c = h % self.n_customers
        issue = self._issue_of(i)
        due = issue + (10, 14, 14, 30)[(h >> 20) % 4]
        overdue = self._today - due
        roll = (h >> 44) % 100
        in_full = roll < (97 if overdue > 60 else 50 if overdue > 0 else 10)
        paid_on = None
        if in_full or roll > 95:
            on = max(issue + 1, min(due + int((h >> 52) % 21) - 5, self._today - 1))
            if on < self._today:
                paid_on = on
        in_full = in_full and paid_on is not None
        reminder = None
        if not in_full and overdue > 14 and (h >> 36) % 100 < 3:
            reminder = due + 14
        return h, c, issue, due, paid_on, in_full, reminder

    def _invoice_facts(self, i: int) -> InvoiceFacts:
        h, c, issue, due, paid_on, in_full, _reminder = self._facts(i)
        eur = (h >> 58) % 100 == 0
        picks = [(h >> (28 + 4 * k)) % len(fiken.CATALOGUE) for k in range(1 + (h >> 24) % 3)]
        lines = tuple(fiken.CATALOGUE[p] for p in picks)
        gross = ore(_gross(lines))
        if eur:
            gross = money(gross / 10)
        paid = gross if in_full else money(gross / 2) if paid_on is not None else Decimal("0")
        return InvoiceFacts(
            number=100001 + i,
            customer=c,
            issue=date.fromordinal(issue),
            due=date.fromordinal(due),
            gross=gross,
            paid=paid,
            currency="EUR" if eur else "NOK",
            comment=lines[0].description,
        )


@dataclass
class World:
    """Everything the sandbox serves: the bureau, its clients and their books."""

    today: date
    own: Company
    books: dict[int, Book] = field(default_factory=dict)
    ids: ReminderCounter = field(default_factory=ReminderCounter)

    @property
    def clients(self) -> list[Company]:
        return [b.company for cid, b in self.books.items() if cid != self.own.id]

    def book(self, company_id: int) -> Book | None:
        return self.books.get(company_id)


def build_world(today: date, customers: int | None = None, invoices: int | None = None) -> World:
    """The bureau and its clients; the demo company's book generated when a size is given."""
    own = Company(BUREAU_ID, "Fjordbyrå Regnskap AS", fiken.valid_orgnr(5), "AS",
                  "post@fjordbyraa.no", "Strandkaien 2", "4005", "Stavanger")  # fmt: skip
    world = World(today=today, own=own)
    world.books[own.id] = ListBook(own, Settings(), today, [], [], 1_100_000, 1_200_000)
    if customers is None and invoices is None:
        world.books[DEMO_COMPANY_ID] = demo_book(today, world.ids)
    else:
        n_customers = customers if customers is not None else 50
        n_invoices = invoices if invoices is not None else n_customers * 5
        demo_company = demo_book(today, ReminderCounter(0)).company
        world.books[DEMO_COMPANY_ID] = GeneratedBook(
            demo_company,
            Settings(debt_collector="Kredinor AS"),
            today,
            n_customers,
            n_invoices,
            world.ids,
        )
    world.books[FIXED_FEE_COMPANY_ID] = fixed_fee_book(today, world.ids)
    world.books[SMALL_COMPANY_ID] = small_book(today, world.ids)
    return world


__all__ = [
    "BUREAU_ID",
    "CONSUMER_TOKEN",
    "DEMO_COMPANY_ID",
    "EMPLOYEE_TOKEN",
    "FIXED_FEE_COMPANY_ID",
    "SMALL_COMPANY_ID",
    "Book",
    "Company",
    "GeneratedBook",
    "ListBook",
    "Reminder",
    "Settings",
    "World",
    "build_world",
    "interest",
]
