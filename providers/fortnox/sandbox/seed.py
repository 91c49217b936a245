"""Deterministic Swedish sample data for the Fortnox sandbox, relative to ``today``.

The first records are hand-written cases (an overdue spread and deliberate data defects that the
validation must find); any further records up to the requested size are generated from their
index alone, so a page of a 100 000-invoice book is built on demand and never held in memory.
Identity numbers are built with a valid (or, where a defect is wanted, a broken) Luhn digit.
"""

from __future__ import annotations

import hashlib
from dataclasses import dataclass
from datetime import date, datetime, time, timedelta
from decimal import Decimal
from typing import Any
from zoneinfo import ZoneInfo

from stdnum import luhn

STOCKHOLM = ZoneInfo("Europe/Stockholm")


def orgnr(nine: str, *, valid: bool = True) -> str:
    """``NNNNNN-NNNN`` with a Luhn check digit (a wrong one when ``valid`` is False)."""
    check = int(luhn.calc_check_digit(nine))
    if not valid:
        check = (check + 1) % 10
    digits = f"{nine}{check}"
    return f"{digits[:6]}-{digits[6:]}"


def personnummer(born: date, serial: int, *, long: bool = False) -> str:
    """A personnummer for ``born`` (``YYMMDD-NNNN``, or ``YYYYMMDD-NNNN`` when ``long``)."""
    nine = f"{born:%y%m%d}{serial:03d}"
    check = luhn.calc_check_digit(nine)
    prefix = f"{born:%Y%m%d}" if long else f"{born:%y%m%d}"
    return f"{prefix}-{serial:03d}{check}"


_CITIES = (
    ("Stockholm", "111 22"),
    ("Göteborg", "411 05"),
    ("Malmö", "211 20"),
    ("Uppsala", "753 10"),
    ("Västerås", "722 11"),
    ("Örebro", "702 10"),
    ("Linköping", "582 24"),
    ("Jönköping", "553 20"),
    ("Umeå", "903 25"),
    ("Luleå", "972 31"),
    ("Växjö", "352 30"),
    ("Sundsvall", "852 30"),
    ("Gävle", "803 20"),
    ("Norrköping", "602 20"),
    ("Östersund", "831 30"),
)
_STREETS = (
    "Storgatan",
    "Drottninggatan",
    "Kungsvägen",
    "Åsgränd",
    "Björkvägen",
    "Södra Förstadsgatan",
)
_FIRST = ("Åsa", "Björn", "Märta", "Örjan", "Linnéa", "Sören", "Ingrid", "Göran", "Åke", "Maja")
_LAST = ("Öberg", "Åström", "Lindqvist", "Häggström", "Sjöberg", "Bäckström", "Nordén", "Ekdahl")
_COMPANY_WORDS = ("Bygg", "Järn", "Skog", "Fisk", "Bageri", "Måleri", "Snickeri", "Rör", "Städ")
_COMPANY_FORMS = ("AB", "HB", "Handelsbolag AB", "& Söner AB")


@dataclass(frozen=True)
class Spec:
    """Everything that varies between sample customers; the rest is derived."""

    name: str
    type: str  # COMPANY | PRIVATE
    org: str
    street: str
    zipcode: str
    city: str
    email: str
    phone: str
    reference: str
    vat: str = ""
    active: bool = True
    country: str = "Sverige"
    country_code: str = "SE"
    currency: str = "SEK"


def _vat(org: str) -> str:
    return f"SE{org.replace('-', '')}01"


# The hand-written customers: normal cases first, then one deliberate defect each.
_BASE_CUSTOMERS: tuple[Spec, ...] = (
    Spec(
        "Åkerlund & Öhman Bygg AB",
        "COMPANY",
        orgnr("559123456"),
        "Storgatan 12",
        "111 22",
        "Stockholm",
        "ekonomi@akerlund-ohman.se",
        "+46 8 123 456 70",
        "Märta Öhman",
    ),
    Spec(
        "Göteborgs Fiskhandel HB",
        "COMPANY",
        orgnr("969712345"),
        "Fiskhamnsgatan 4",
        "414 58",
        "Göteborg",
        "faktura@gbgfisk.se",
        "031-12 34 56",
        "Örjan Sjöberg",
    ),
    Spec(
        "Linnéa Åström",
        "PRIVATE",
        personnummer(date(1984, 5, 17), 238),
        "Björkvägen 3 lgh 1102",
        "753 10",
        "Uppsala",
        "linnea.astrom@example.se",
        "070-123 45 67",
        "",
    ),
    Spec(
        "Malmö Måleri AB",
        "COMPANY",
        orgnr("559234567"),
        "Södra Förstadsgatan 40",
        "211 43",
        "Malmö",
        "info@malmomaleri.se",
        "040-98 76 54",
        "Sören Bäckström",
    ),
    Spec(
        "Björn Häggström",
        "PRIVATE",
        personnummer(date(1961, 11, 2), 457, long=True),
        "Kungsvägen 8",
        "903 25",
        "Umeå",
        "bjorn.h@example.se",
        "+46 70 987 65 43",
        "",
    ),
    Spec(
        "Norrlands Skog & Järn AB",
        "COMPANY",
        orgnr("556987654"),
        "Järnvägsgatan 1",
        "972 31",
        "Luleå",
        "ekonomi@norrlandsskog.se",
        "0920-22 33 44",
        "Åke Lindqvist",
    ),
    Spec(
        "Deutsche Möbel GmbH",
        "COMPANY",
        "",
        "Hauptstraße 5",
        "10115",
        "Berlin",
        "buchhaltung@deutsche-moebel.de",
        "+49 30 1234567",
        "Jürgen Müller",
        vat="DE123456789",
        country="Tyskland",
        country_code="DE",
        currency="EUR",
    ),
    # Defects -------------------------------------------------------------------------------
    Spec(
        "Örebro Rör AB",
        "COMPANY",
        "",
        "Hamngatan 2",
        "702 10",
        "Örebro",  # no org number
        "kontor@orebro-ror.se",
        "019-10 20 30",
        "Ingrid Ekdahl",
    ),
    Spec(
        "Växjö Bageri AB",
        "COMPANY",
        orgnr("559345678", valid=False),  # bad checksum
        "Storgatan 20",
        "352 30",
        "Växjö",
        "bageri@vaxjo.se",
        "0470-70 80 90",
        "Göran Nordén",
    ),
    Spec(
        "Gävle Städ AB",
        "COMPANY",
        orgnr("559456789"),
        "Drottninggatan 7",
        "",
        "Gävle",  # zip
        "stad@gavlestad.se",
        "026-11 22 33",
        "Maja Öberg",
    ),
    Spec(
        "Sundsvall Snickeri AB",
        "COMPANY",
        orgnr("559567891"),
        "Åsgränd 9",
        "052 30",  # 0xx
        "Sundsvall",
        "snickeri@sundsvall.se",
        "060-12 12 12",
        "Åsa Lindqvist",
    ),
    Spec(
        "Östersunds Bygg AB",
        "COMPANY",
        orgnr("559678912"),
        "Storgatan 44",
        "831 30",
        "Östersund",
        "",
        "063-55 44 33",
        "Björn Sjöberg",
    ),  # no e-mail
    Spec(
        "Jönköpings Järn AB",
        "COMPANY",
        orgnr("559789123"),
        "Kungsgatan 3",
        "553 20",
        "Jönköping",
        "info@jkpgjarn.se",
        "036-71 00 00",
        "",
    ),  # no contact person
    Spec(
        "Jönköpings Järnhandel AB",
        "COMPANY",
        orgnr("559789123"),
        "Östra Storgatan 1",
        "553 21",
        "Jönköping",
        "handel@jkpgjarn.se",
        "036-71 00 01",
        "Linnéa Häggström",
    ),
    Spec(
        "Västerås Vilande AB",
        "COMPANY",
        orgnr("559891234"),
        "Gamla vägen 1",
        "722 11",
        "Västerås",
        "vilande@example.se",
        "021-10 10 10",
        "Sören Öberg",
        active=False,
    ),
)


def _h(*parts: object) -> int:
    """A stable pseudo-random integer from ``parts`` (same on every run and platform)."""
    digest = hashlib.blake2b(repr(parts).encode(), digest_size=8).digest()
    return int.from_bytes(digest, "big")


def _generated_customer(n: int) -> Spec:
    r = _h("customer", n)
    city, zipcode = _CITIES[r % len(_CITIES)]
    street = f"{_STREETS[(r >> 8) % len(_STREETS)]} {1 + (r >> 16) % 120}"
    if (r >> 24) % 4 == 0:
        first, last = _FIRST[(r >> 28) % len(_FIRST)], _LAST[(r >> 32) % len(_LAST)]
        born = date(1940, 1, 1) + timedelta(days=(r >> 36) % 22000)
        return Spec(
            f"{first} {last}",
            "PRIVATE",
            personnummer(born, (r >> 20) % 1000),
            street,
            zipcode,
            city,
            f"kund{n}@example.se",
            f"070-{n % 1000:03d} {n % 100:02d} 00",
            "",
        )
    word = _COMPANY_WORDS[(r >> 28) % len(_COMPANY_WORDS)]
    form = _COMPANY_FORMS[(r >> 32) % len(_COMPANY_FORMS)]
    org = orgnr(f"55{n % 10_000_000:07d}")
    return Spec(
        f"{city} {word} {n} {form}",
        "COMPANY",
        org,
        street,
        zipcode,
        city,
        f"faktura{n}@example.se",
        f"08-{n % 1000:03d} {n % 100:02d} 00",
        f"{_FIRST[(r >> 40) % len(_FIRST)]} {_LAST[(r >> 44) % len(_LAST)]}",
    )


BASE_CUSTOMER_COUNT = len(_BASE_CUSTOMERS)


def customer_spec(n: int) -> Spec:
    """Customer number ``n`` (from 1)."""
    if 1 <= n <= BASE_CUSTOMER_COUNT:
        return _BASE_CUSTOMERS[n - 1]
    return _generated_customer(n)


def customer_modified(n: int, today: date) -> datetime:
    """When customer ``n`` last changed (Stockholm time): the sample book ages over 400 days."""
    days = 400 if n <= BASE_CUSTOMER_COUNT else 1 + _h("cmod", n) % 400
    return datetime.combine(today - timedelta(days=days), time(9, n % 60), STOCKHOLM)


def customer_detail(n: int, today: date) -> dict[str, Any]:
    """Customer ``n`` in the shape of ``fortnox_Customer``."""
    s = customer_spec(n)
    number = str(n)
    vat = s.vat or (_vat(s.org) if s.type == "COMPANY" and s.org else "")
    return {
        "@url": f"/3/customers/{number}",
        "Active": s.active,
        "Address1": s.street,
        "Address2": "",
        "City": s.city,
        "Comments": "",
        "Country": s.country,
        "CountryCode": s.country_code,
        "Currency": s.currency,
        "CustomerNumber": number,
        "DeliveryAddress1": "",
        "DeliveryCity": "",
        "DeliveryCountry": "",
        "DeliveryZipCode": "",
        "Email": s.email,
        "EmailInvoice": s.email,
        "ExternalReference": "",
        "Name": s.name,
        "OrganisationNumber": s.org,
        "OurReference": "",
        "Phone1": s.phone,
        "Phone2": "",
        "TermsOfPayment": "30",
        "Type": s.type,
        "VATNumber": vat,
        "VATType": "SEVAT" if s.country_code == "SE" else "EUREVERSEDVAT",
        "WWW": "",
        "YourReference": s.reference,
        "ZipCode": s.zipcode,
    }


CUSTOMER_LIST_FIELDS = (
    "@url",
    "Address1",
    "Address2",
    "City",
    "CustomerNumber",
    "Email",
    "Name",
    "OrganisationNumber",
    "Phone",
    "ZipCode",
)


def customer_list_item(n: int, today: date) -> dict[str, Any]:
    """Customer ``n`` in the shape of ``fortnox_CustomerListItem`` (no Type, Active, …)."""
    d = customer_detail(n, today)
    d["Phone"] = d["Phone1"]
    return {k: d[k] for k in CUSTOMER_LIST_FIELDS}


# --- invoices -----------------------------------------------------------------------------


@dataclass(frozen=True)
class InvoiceSpec:
    customer: int
    overdue_days: int  # days past due date as of today (negative: not yet due)
    total: Decimal
    paid: Decimal = Decimal("0")
    currency: str = "SEK"
    cancelled: bool = False
    booked: bool = True
    sent: bool = True
    nox: bool = False
    reminders: int = 0
    your_reference: str | None = None  # None: the customer's contact person


# The overdue spread of the Fiken sandbox, then the Fortnox specials.
_BASE_INVOICES: tuple[InvoiceSpec, ...] = (
    InvoiceSpec(1, -10, Decimal("12500.00")),  # not yet due
    InvoiceSpec(2, 3, Decimal("4375.50")),
    InvoiceSpec(3, 10, Decimal("1999.00")),
    InvoiceSpec(4, 20, Decimal("28750.00")),
    InvoiceSpec(5, 40, Decimal("850.00")),
    InvoiceSpec(6, 400, Decimal("64200.00")),
    InvoiceSpec(1, 25, Decimal("10000.00"), paid=Decimal("4000.00")),  # part-paid
    InvoiceSpec(2, 30, Decimal("3125.00"), paid=Decimal("3125.00")),  # fully paid
    InvoiceSpec(7, 15, Decimal("2450.75"), currency="EUR"),
    InvoiceSpec(4, 35, Decimal("15600.00"), nox=True),  # Fortnox Finans owns it
    InvoiceSpec(6, 28, Decimal("7300.00"), reminders=1),  # Fortnox already reminded
    InvoiceSpec(3, 50, Decimal("990.00"), cancelled=True),
    InvoiceSpec(8, 12, Decimal("5600.00")),
    InvoiceSpec(9, 18, Decimal("2200.00")),
    InvoiceSpec(10, 22, Decimal("3300.00")),
    InvoiceSpec(11, 14, Decimal("4100.00")),
    InvoiceSpec(12, 16, Decimal("1450.00")),
    InvoiceSpec(13, 21, Decimal("8800.00")),
    InvoiceSpec(14, 26, Decimal("6600.00")),
    InvoiceSpec(15, 45, Decimal("1200.00")),
    InvoiceSpec(5, -20, Decimal("3000.00"), booked=False, sent=False),  # draft
)
BASE_INVOICE_COUNT = len(_BASE_INVOICES)


# Share of the book's customers that pay late: overdue invoices go to them (about 3 000 of
# 20 000), as in a real ledger, where a few customers owe most of what is overdue.
LATE_PAYERS = (3, 20)


def _late_payer(n: int, customers: int) -> int:
    """The customer of overdue invoice ``n``: one of the book's late payers, spread evenly over
    the customer numbers."""
    count = max(1, customers * LATE_PAYERS[0] // LATE_PAYERS[1])
    return 1 + (_h("late", n) % count) * customers // count


def invoice_spec(n: int, customers: int) -> InvoiceSpec:
    """Invoice ``n`` (document number, from 1) in a book of ``customers`` customers.

    Generated invoices: four in five are paid; of the rest about three in four are overdue
    (about 15 % of the book, owed by the late payers), the others not yet due."""
    if 1 <= n <= BASE_INVOICE_COUNT:
        return _BASE_INVOICES[n - 1]
    r = _h("invoice", n)
    total = Decimal(100 + (r >> 8) % 50_000) + Decimal((r >> 24) % 100) / 100
    overdue = (r >> 32) % 400 - 100
    # Four in five invoices are paid: a realistic book has far fewer open than closed ones.
    paid = total if (r >> 44) % 5 else Decimal("0")
    if paid == 0 and (r >> 48) % 7 == 0:
        paid = (total / 3).quantize(Decimal("0.01"))
    cancelled = (r >> 52) % 97 == 0
    late = overdue > 0 and paid < total and not cancelled
    customer = _late_payer(n, customers) if late else 1 + r % customers
    currency = customer_spec(customer).currency if customer <= BASE_CUSTOMER_COUNT else "SEK"
    return InvoiceSpec(
        customer,
        overdue,
        total,
        paid=paid,
        currency=currency,
        cancelled=cancelled,
        # Fortnox's own reminder (LastRemindDate = due date + 8) only on invoices that old.
        reminders=1 if (r >> 56) % 11 == 0 and overdue >= 8 else 0,
    )


def _ocr(n: int) -> str:
    body = f"{n}{(len(str(n)) + 2) % 10}"  # length digit, then Luhn
    return body + luhn.calc_check_digit(body)


def invoice_modified(n: int, today: date, customers: int) -> datetime:
    """When invoice ``n`` last changed (Stockholm time): the hand-written ones two days ago; a
    generated one on the last event of its life (created and sent, paid, part-paid, reminded,
    cancelled, now and then edited), never today, so a sync right after seeding sees no change."""
    if n <= BASE_INVOICE_COUNT:
        day = today - timedelta(days=2)
    else:
        s = invoice_spec(n, customers)
        due = today - timedelta(days=s.overdue_days)
        issued = due - timedelta(days=30)
        span = max((today - issued).days, 0)
        events = [issued]
        if s.cancelled:
            events.append(issued + timedelta(days=_h("cancel", n) % 10))
        if s.paid == s.total:
            events.append(due - timedelta(days=2))  # FinalPayDate
        elif s.paid:
            events.append(issued + timedelta(days=_h("part", n) % (span + 1)))
        if s.reminders:
            events.append(due + timedelta(days=8))  # LastRemindDate
        if _h("edit", n) % 25 == 0:
            events.append(issued + timedelta(days=_h("edited", n) % (span + 1)))
        day = min(max(events), today - timedelta(days=1))
    return datetime.combine(day, time(8 + n % 9, n % 60), STOCKHOLM)


def invoice_detail(n: int, today: date, customers: int) -> dict[str, Any]:
    """Invoice ``n`` in the shape of ``fortnox_Invoice`` (unset dates are left out)."""
    s = invoice_spec(n, customers)
    c = customer_detail(s.customer, today)
    due = today - timedelta(days=s.overdue_days)
    issued = due - timedelta(days=30)
    balance = Decimal("0") if s.cancelled else s.total - s.paid
    vat = (s.total * Decimal("0.2")).quantize(Decimal("0.01"))
    last_remind = due + timedelta(days=8) if s.reminders else None
    detail = {
        "@url": f"/3/invoices/{n}",
        "Address1": c["Address1"],
        "Address2": c["Address2"],
        "AdministrationFee": 0.0,
        "Balance": float(balance),
        "Booked": s.booked,
        "Cancelled": s.cancelled,
        "City": c["City"],
        "Comments": "",
        "Country": c["Country"],
        "Credit": "false",
        "CreditInvoiceReference": "0",
        "Currency": s.currency,
        "CurrencyRate": 11.5 if s.currency == "EUR" else 1.0,
        "CurrencyUnit": 1,
        "CustomerName": c["Name"],
        "CustomerNumber": c["CustomerNumber"],
        "DocumentNumber": str(n),
        "DueDate": due.isoformat(),
        "FinalPayDate": (due - timedelta(days=2)).isoformat() if balance == 0 and s.paid else None,
        "Gross": float(s.total),
        "InvoiceDate": issued.isoformat(),
        "InvoiceType": "INVOICE",
        "Language": "SV",
        "LastRemindDate": last_remind.isoformat() if last_remind else None,
        "Net": float(s.total - vat),
        "NotCompleted": False,
        "NoxFinans": s.nox,
        "OCR": _ocr(n),
        "OrganisationNumber": c["OrganisationNumber"],
        "OurReference": "Kerstin Säljare",
        "Remarks": "",
        "Reminders": s.reminders,
        "Sent": s.sent,
        "TermsOfPayment": "30",
        "Total": float(s.total),
        "TotalToPay": float(balance),
        "TotalVAT": float(vat),
        "WayOfDelivery": "EMAIL" if c["Email"] else "PRINT",
        "YourReference": c["YourReference"] if s.your_reference is None else s.your_reference,
        "ZipCode": c["ZipCode"],
    }
    return {k: v for k, v in detail.items() if v is not None}


INVOICE_LIST_FIELDS = (
    "@url",
    "Balance",
    "Booked",
    "Cancelled",
    "Currency",
    "CurrencyRate",
    "CurrencyUnit",
    "CustomerName",
    "CustomerNumber",
    "DocumentNumber",
    "DueDate",
    "FinalPayDate",
    "InvoiceDate",
    "InvoiceType",
    "NoxFinans",
    "OCR",
    "Sent",
    "TermsOfPayment",
    "Total",
    "WayOfDelivery",
)


def invoice_list_item(detail: dict[str, Any]) -> dict[str, Any]:
    """The ``fortnox_InvoiceListItem`` view of an invoice (no Reminders, OrganisationNumber…)."""
    item = {k: detail[k] for k in INVOICE_LIST_FIELDS if k in detail}
    item["CurrencyUnit"] = float(item["CurrencyUnit"])
    return item


def invoice_state(n: int, today: date, customers: int) -> tuple[str, date]:
    """``(state, due_date)`` for filtering without building the invoice: state is one of
    ``cancelled``, ``unbooked``, ``fullypaid``, ``unpaid``."""
    s = invoice_spec(n, customers)
    due = today - timedelta(days=s.overdue_days)
    if s.cancelled:
        return "cancelled", due
    if not s.booked:
        return "unbooked", due
    if s.total - s.paid <= 0:
        return "fullypaid", due
    return "unpaid", due
