"""Deterministic seed data for the Fiken sandbox, in Fiken's wire format (API v2).

Two seeds share one interface (:class:`Seed`): records are built *by index* on demand, so the
sandbox keeps only compact per-record facts (:class:`ContactCore`, :class:`InvoiceCore`) for
filtering and never holds a large set of full JSON dicts.

* :class:`DemoSeed` -- one tenant company with ~20 hand-written Norwegian customers (æøå in names,
  streets and cities, deliberate data defects) and ~30 invoices at every stage relative to
  ``today``. Tests and demos look records up by key (:attr:`DemoSeed.contact_keys`,
  :attr:`DemoSeed.invoice_tags`, :attr:`DemoSeed.defects`).
* :class:`GeneratedSeed` -- any size (e.g. 20 000 customers, 100 000 invoices) for benchmarks;
  every field is a pure function of the record's index.

Amounts are integers in øre (cents of the invoice currency); dates are ``yyyy-mm-dd`` strings.
Attachment URLs are paths ("/files/…"); the sandbox makes them absolute when it serves them.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import date, timedelta
from typing import Any, NamedTuple, Protocol

from stdnum import luhn
from stdnum.no import orgnr

CONTACT_ID_BASE, CONTACT_ID_STEP = 2_747_000, 17
INVOICE_ID_BASE, INVOICE_ID_STEP = 2_888_000, 13
SALE_ID_BASE, TRANSACTION_ID_BASE, PAYMENT_ID_BASE, CONTACT_PERSON_ID_BASE = (
    5_100_000,
    3_458_000,
    7_700_000,
    4_400_000,
)
FIRST_INVOICE_NUMBER = 10001
FIRST_CUSTOMER_NUMBER = 10001
FIRST_SUPPLIER_NUMBER = 20001
BANK_ACCOUNT = "15035012348"
EUR_RATE_CENTS = 1162  # NOK øre per EUR cent * 100 (11.62 NOK/EUR)

DEFAULT_COMPANY_SLUG = "nordlys-regnskap-as"

# The company's bank accounts (schema ``bankAccountResult``); invoices are paid to the first.
BANK_ACCOUNTS: tuple[dict[str, Any], ...] = (
    {
        "bankAccountId": 1_920_001,
        "name": "Driftskonto",
        "accountCode": "1920:10001",
        "bankAccountNumber": BANK_ACCOUNT,
        "type": "normal",
        "inactive": False,
    },
    {
        "bankAccountId": 1_920_002,
        "name": "Skattetrekkskonto",
        "accountCode": "1950:10002",
        "bankAccountNumber": "15035099990",
        "type": "tax_deduction",
        "inactive": False,
    },
)


def contact_id(index: int) -> int:
    return CONTACT_ID_BASE + CONTACT_ID_STEP * index


def contact_index(cid: int) -> int | None:
    off = cid - CONTACT_ID_BASE
    return off // CONTACT_ID_STEP if off >= 0 and off % CONTACT_ID_STEP == 0 else None


def invoice_id(index: int) -> int:
    return INVOICE_ID_BASE + INVOICE_ID_STEP * index


def invoice_index(iid: int) -> int | None:
    off = iid - INVOICE_ID_BASE
    return off // INVOICE_ID_STEP if off >= 0 and off % INVOICE_ID_STEP == 0 else None


# --- identifiers -------------------------------------------------------------------------------


def mix(*values: int) -> int:
    """A cheap, stable 64-bit hash (splitmix64) of small integers: the generator's randomness."""
    x = 0x9E3779B97F4A7C15
    for v in values:
        x = (x ^ (v + 0x9E3779B97F4A7C15 + (x << 6) + (x >> 2))) & 0xFFFFFFFFFFFFFFFF
        x = ((x ^ (x >> 30)) * 0xBF58476D1CE4E5B9) & 0xFFFFFFFFFFFFFFFF
        x = ((x ^ (x >> 27)) * 0x94D049BB133111EB) & 0xFFFFFFFFFFFFFFFF
        x ^= x >> 31
    return x


def valid_orgnr(n: int) -> str:
    """A mod-11-valid Norwegian organisation number (starts with 8 or 9) derived from ``n``."""
    base = (8 if n % 7 == 0 else 9) * 10_000_000 + mix(n, 11) % 10_000_000
    while True:
        # stdnum's weighted sum with a 0 check digit tells which digit makes it divisible by 11
        check = (11 - orgnr.checksum(f"{base}0")) % 11
        if check < 10:
            return f"{base}{check}"
        base += 1  # this base would need check digit "10": no valid number, take the next


def bad_checksum_orgnr(n: int) -> str:
    """Nine digits that look like an org number but fail the mod-11 check."""
    good = valid_orgnr(n)
    return good[:8] + str((int(good[8]) + 1) % 10)


def kid(customer_number: int, invoice_number: int) -> str:
    """A KID as Fiken makes it: customer number + invoice number + a mod-10 (Luhn) check digit."""
    body = f"{customer_number:05d}{invoice_number:06d}"
    return body + luhn.calc_check_digit(body)


_ASCII = str.maketrans({"æ": "ae", "ø": "o", "å": "aa", "é": "e", "ü": "u", "ä": "a", "ö": "o"})


def slugify(text: str) -> str:
    return re.sub(r"[^a-z0-9]+", "", text.lower().translate(_ASCII))


# --- compact facts the sandbox filters on ------------------------------------------------------


class ContactCore(NamedTuple):
    created: date
    last_modified: date
    customer: bool
    supplier: bool
    inactive: bool


class InvoiceCore(NamedTuple):
    customer_index: int
    issue: date
    due: date
    last_modified: date
    settled: bool


class Seed(Protocol):
    today: date
    n_contacts: int
    n_invoices: int

    def contact(self, index: int) -> dict[str, Any]: ...

    def contact_core(self, index: int) -> ContactCore: ...

    def invoice(self, index: int) -> dict[str, Any]:
        """The invoice without its embedded ``customer`` (the sandbox embeds the current one)."""
        ...

    def invoice_core(self, index: int) -> InvoiceCore: ...


def company(slug: str, today: date) -> dict[str, Any]:
    """The tenant company (schema ``company``)."""
    return {
        "name": "Nordlys Regnskap AS",
        "slug": slug,
        "organizationNumber": valid_orgnr(1),
        "vatType": "bi-monthly",
        "address": {
            "streetAddress": "Storgata 14",
            "city": "Tromsø",
            "postCode": "9008",
            "country": "Norge",
        },
        "email": "post@nordlysregnskap.no",
        "creationDate": "2019-03-01",
        "hasApiAccess": True,
        "testCompany": True,
        "accountingStartDate": "2019-01-01",
        "vatRegistrationDate": "2019-03-01",
    }


USER = {"name": "Siri Åsheim", "email": "siri@nordlysregnskap.no"}


# --- record builders shared by both seeds ------------------------------------------------------


@dataclass(frozen=True)
class Line:
    description: str
    unit_price: int  # øre (or cents of the invoice currency), net
    quantity: int = 1
    vat_type: str = "HIGH"
    income_account: str | None = None  # default: 3000 (NOK) / 3100 (foreign currency)

    @property
    def vat_rate_pct(self) -> int:
        return {"HIGH": 25, "MEDIUM": 15, "LOW": 12}.get(self.vat_type, 0)


CATALOGUE = (
    Line("Regnskapsføring, månedlig", 350_000),
    Line("Lønnskjøring, inntil 5 ansatte", 95_000),
    Line("MVA-melding, termin", 150_000),
    Line("Årsoppgjør og skattemelding", 1_250_000),
    Line("Rådgivning, time", 125_000, 3),
    Line("Fakturahotell og bilagsskanning", 29_900),
    Line("Oppstartsmøte og gjennomgang av rutiner", 187_500, 2),
    Line("Aksjonærregisteroppgave", 120_000),
)


def build_contact(
    index: int,
    *,
    name: str,
    created: date,
    last_modified: date,
    customer_number: int | None,
    supplier_number: int | None,
    org: str | None,
    email: str | None,
    street: str | None,
    postcode: str | None,
    city: str | None,
    country: str = "Norge",
    persons: tuple[tuple[str, str, str | None], ...] = (),
    inactive: bool = False,
    groups: tuple[str, ...] = (),
    language: str = "Norwegian",
    due_days: int = 14,
) -> dict[str, Any]:
    address: dict[str, Any] = {"country": country}
    if street:
        address["streetAddress"] = street
    if postcode:
        address["postCode"] = postcode
    if city:
        address["city"] = city
    out: dict[str, Any] = {
        "contactId": contact_id(index),
        "createdDate": created.isoformat(),
        "lastModifiedDate": last_modified.isoformat(),
        "name": name,
    }
    if email:
        out["email"] = email
    if org:
        out["organizationNumber"] = org
    if customer_number is not None:
        out["customerNumber"] = customer_number
        out["customerAccountCode"] = f"1500:{customer_number}"
    if supplier_number is not None:
        out["supplierNumber"] = supplier_number
        out["supplierAccountCode"] = f"2400:{supplier_number}"
        out["bankAccountNumber"] = f"{(mix(index, 5) % 10**11):011d}"
    out["customer"] = customer_number is not None
    out["supplier"] = supplier_number is not None
    out["contactPerson"] = [
        {
            "contactPersonId": CONTACT_PERSON_ID_BASE + 10 * index + k,
            "name": pname,
            "email": pemail,
            **({"phoneNumber": phone} if phone else {}),
            "address": {"country": country},
        }
        for k, (pname, pemail, phone) in enumerate(persons)
    ]
    out["notes"] = []
    out["language"] = language
    out["inactive"] = inactive
    out["daysUntilInvoicingDueDate"] = due_days
    out["address"] = address
    out["groups"] = list(groups)
    out["documents"] = []
    return out


def _attachment(identifier: str, kind: str, comment: str | None = None) -> dict[str, Any]:
    token = f"{mix(hash_str(identifier), len(kind)):016x}"
    out = {
        "identifier": identifier,
        "downloadUrl": f"/files/{token}",
        "downloadUrlWithFikenNormalUserCredentials": f"https://fiken.no/filer/{token}",
        "type": kind,
    }
    if comment:
        out["comment"] = comment
    return out


def hash_str(text: str) -> int:
    """A stable (unsalted) hash of a string, unlike built-in ``hash``."""
    h = 0
    for ch in text.encode():
        h = (h * 131 + ch) & 0xFFFFFFFF
    return h


@dataclass(frozen=True)
class Payment:
    on: date
    amount: int | None = None  # in invoice currency; None = the rest


def build_invoice(
    index: int,
    *,
    customer: dict[str, Any],
    issue: date,
    due: date,
    lines: tuple[Line, ...],
    payments: tuple[Payment, ...] = (),
    currency: str = "NOK",
    dispatches: tuple[tuple[date, str], ...] = (),
    fiken_reminders: tuple[date, ...] = (),
    sent_manually: bool = False,
    write_off: date | None = None,
    credit_note: date | None = None,
    invoice_text: str = "",
    our_reference: str = "Siri Åsheim",
    your_reference: str | None = None,
    order_reference: str = "",
    bank_account: str = BANK_ACCOUNT,
) -> dict[str, Any]:
    number = FIRST_INVOICE_NUMBER + index
    iid = invoice_id(index)
    rate = EUR_RATE_CENTS if currency == "EUR" else 100
    out_lines: list[dict[str, Any]] = []
    net = vat = 0
    for line in lines:
        lnet = line.unit_price * line.quantity
        lvat = lnet * line.vat_rate_pct // 100
        net, vat = net + lnet, vat + lvat
        out_lines.append(
            {
                "net": lnet,
                "vat": lvat,
                "vatType": line.vat_type,
                "gross": lnet + lvat,
                "netInNok": lnet * rate // 100,
                "vatInNok": lvat * rate // 100,
                "grossInNok": (lnet + lvat) * rate // 100,
                "unitPrice": line.unit_price,
                "quantity": line.quantity,
                "description": line.description,
                "incomeAccount": line.income_account or ("3000" if currency == "NOK" else "3100"),
            }
        )
    gross = net + vat
    paid = 0
    sale_payments: list[dict[str, Any]] = []
    for k, p in enumerate(payments):
        amount = gross - paid if p.amount is None else min(p.amount, gross - paid)
        paid += amount
        pay: dict[str, Any] = {
            "paymentId": PAYMENT_ID_BASE + 10 * index + k,
            "date": p.on.isoformat(),
            "account": "1920:10001",
            "amount": amount,
        }
        if currency != "NOK":
            pay.update(amountInNok=amount * rate // 100, currency=currency, fee=0)
        sale_payments.append(pay)
    outstanding = gross - paid
    closed_on = max([p.on for p in payments], default=None)
    settled = outstanding == 0 or write_off is not None or credit_note is not None
    if write_off or credit_note:
        closed_on = write_off or credit_note
        outstanding = 0
    modified = max([issue, *(p.on for p in payments), *fiken_reminders, closed_on or issue])
    customer_number = customer.get("customerNumber", 0)
    the_kid = kid(customer_number, number)
    sale: dict[str, Any] = {
        "saleId": SALE_ID_BASE + index,
        "lastModifiedDate": modified.isoformat(),
        "transactionId": TRANSACTION_ID_BASE + index,
        "saleNumber": str(number),
        "date": issue.isoformat(),
        "kind": "invoice",
        "netAmount": net * rate // 100,
        "vatAmount": vat * rate // 100,
        "settled": settled,
        "writeOff": write_off is not None,
        "totalPaid": paid * rate // 100,
        "totalPaidInCurrency": paid,
        "outstandingBalance": outstanding * rate // 100,
        "outstandingBalanceInCurrency": outstanding,
        "currency": currency,
        "dueDate": due.isoformat(),
        "kid": the_kid,
        "salePayments": sale_payments,
        "saleAttachments": [],
        "notes": [],
        "deleted": False,
    }
    if settled and closed_on:
        sale["settledDate"] = closed_on.isoformat()
    if payments:
        sale["paymentDate"] = max(p.on for p in payments).isoformat()
    persons = customer.get("contactPerson") or []
    invoice: dict[str, Any] = {
        "invoiceId": iid,
        "createdDate": issue.isoformat(),
        "lastModifiedDate": modified.isoformat(),
        "invoiceNumber": number,
        "kid": the_kid,
        "issueDate": issue.isoformat(),
        "dueDate": due.isoformat(),
        "originalDueDate": due.isoformat(),
        "net": net,
        "vat": vat,
        "gross": gross,
        "netInNok": net * rate // 100,
        "vatInNok": vat * rate // 100,
        "grossInNok": gross * rate // 100,
        "cash": False,
        "invoiceText": invoice_text,
        "yourReference": (
            your_reference if your_reference is not None else persons[0]["name"] if persons else ""
        ),
        "ourReference": our_reference,
        "orderReference": order_reference,
        "address": dict(customer.get("address") or {"country": "Norge"}),
        "lines": out_lines,
        "currency": currency,
        "bankAccountNumber": bank_account,
        "sentManually": sent_manually,
        "invoicePdf": _attachment(f"faktura-{number}.pdf", "invoice"),
        "associatedCreditNotes": [900_000 + index] if credit_note else [],
        "attachments": [
            _attachment(f"purring-{number}-{k + 1}.pdf", "reminder", "Purring sendt fra Fiken")
            for k, _ in enumerate(fiken_reminders)
        ],
        "sale": sale,
        "dispatches": [
            {"date": d.isoformat(), "dispatchType": kind}
            for d, kind in sorted([*dispatches, *((r, "email") for r in fiken_reminders)])
        ],
    }
    return invoice


def contact_core_of(record: dict[str, Any]) -> ContactCore:
    return ContactCore(
        date.fromisoformat(record["createdDate"]),
        date.fromisoformat(record["lastModifiedDate"]),
        bool(record.get("customer")),
        bool(record.get("supplier")),
        bool(record.get("inactive")),
    )


def invoice_core_of(record: dict[str, Any], customer_index: int) -> InvoiceCore:
    return InvoiceCore(
        customer_index,
        date.fromisoformat(record["issueDate"]),
        date.fromisoformat(record["dueDate"]),
        date.fromisoformat(record["lastModifiedDate"]),
        bool(record["sale"]["settled"]),
    )


# --- the demo seed -----------------------------------------------------------------------------


@dataclass(frozen=True)
class DemoContact:
    key: str
    name: str
    street: str | None
    postcode: str | None
    city: str | None
    email: str | None
    org: str | None = "valid"  # "valid" | "bad_checksum" | "same_as:<key>" | None
    persons: tuple[tuple[str, str, str | None], ...] = ()
    country: str = "Norge"
    customer: bool = True
    supplier: bool = False
    inactive: bool = False
    groups: tuple[str, ...] = ()
    age_days: int = 900  # created this many days before today
    modified_days: int = 200  # last modified this many days before today
    language: str = "Norwegian"


DEMO_CONTACTS: tuple[DemoContact, ...] = (
    DemoContact(
        "baker", "Ærlig Bakeri AS", "Thorvald Meyers gate 12", "0555", "Oslo",
        "post@aerligbakeri.no", persons=(("Åse Ærlig", "ase@aerligbakeri.no", "+47 22 35 17 80"),),
        groups=("Faste kunder",),
    ),
    DemoContact(
        "smoras", "Øvre Smørås Gårdsbutikk", "Smøråsvegen 41", "5232", "Paradis",
        "gard@ovresmoras.no", persons=(("Øyvind Smørås", "oyvind@ovresmoras.no", "915 24 680"),),
    ),
    DemoContact(
        "bjorg", "Bjørg Løvås", "Løvåsveien 3", "7374", "Røros", "bjorg.lovas@online.no", org=None,
        modified_days=30,
    ),
    DemoContact(  # defect: a company without an org number
        "fjellstue", "Fjellstue Håndverk AS", "Kjøpmannsgata 7", "7011", "Trondheim",
        "post@fjellstuehandverk.no", org=None,
        persons=(("Kåre Fjellstue", "kare@fjellstuehandverk.no", "+47 934 56 789"),),
    ),
    DemoContact(  # defect: org number with a wrong mod-11 check digit
        "kaffe", "Tromsø Kaffebrenneri AS", "Sjøgata 21", "9008", "Tromsø",
        "hei@tromsokaffe.no", org="bad_checksum",
        persons=(("Sølvi Hætta", "solvi@tromsokaffe.no", "+47 77 60 12 34"),),
    ),
    DemoContact(  # defect: no postcode
        "sjobris", "Sjøbris Marina AS", "Havnegata 2", None, "Svolvær", "marina@sjobris.no",
        persons=(("Bård Kvåle", "bard@sjobris.no", "+47 76 07 11 22"),),
    ),
    DemoContact(  # defect: no e-mail on the customer
        "karstad", "Kårstad Elektro AS", "Industriveien 15", "2317", "Hamar", None,
        persons=(("Jørgen Kårstad", "jorgen@karstadelektro.no", "+47 62 52 00 10"),),
    ),
    DemoContact(  # defect: a company with no contact person
        "fjordlys", "Fjordlys Catering AS", "Strandkaien 9", "6002", "Ålesund",
        "bestilling@fjordlyscatering.no",
    ),
    DemoContact(  # defect: two active customers share one org number
        "gronli1", "Grønli Rør AS", "Møllevegen 4", "3015", "Drammen", "post@gronliror.no",
        persons=(("Ragnhild Grønli", "ragnhild@gronliror.no", "+47 32 80 45 00"),),
    ),
    DemoContact(
        "gronli2", "Grønli Rør og Varme AS", "Møllevegen 4", "3015", "Drammen",
        "faktura@gronliror.no", org="same_as:gronli1",
        persons=(("Ragnhild Grønli", "ragnhild@gronliror.no", "+47 32 80 45 00"),),
        age_days=120, modified_days=120,
    ),
    DemoContact(  # an inactive customer (still owes money)
        "oyen", "Gamle Øyen Trelast AS", "Sagbruksvegen 1", "2609", "Lillehammer",
        "post@oyentrelast.no", inactive=True,
        persons=(("Gro Øyen", "gro@oyentrelast.no", "+47 61 25 50 50"),),
    ),
    DemoContact(  # a supplier that is not a customer: excluded by customer=true
        "kontor", "Nordisk Kontorrekvisita AS", "Brobekkveien 80", "0582", "Oslo",
        "ordre@nordiskkontor.no", customer=False, supplier=True,
        persons=(("Per Ødegård", "per@nordiskkontor.no", "+47 23 03 40 00"),),
    ),
    DemoContact(  # a foreign customer invoiced in EUR
        "muller", "Müller Holzbau GmbH", "Große Elbstraße 145", "22767", "Hamburg",
        "buchhaltung@mueller-holzbau.de", org=None, country="Tyskland", language="English",
        persons=(("Jürgen Müller", "j.mueller@mueller-holzbau.de", "+49 40 3861 0"),),
    ),
    DemoContact(
        "ingrid", "Ingrid Bråten", "Bjørkelia 17B", "1440", "Drøbak", "ingrid.braten@gmail.com",
        org=None, modified_days=1,
    ),
    DemoContact(
        "hakon", "Håkon Sæther", "Tollbodgata 5", "4612", "Kristiansand S",
        "hakon.saether@hotmail.com", org=None,
    ),
    DemoContact(  # both customer and supplier
        "vagen", "Vågen Bryggeri AS", "Skagenkaien 18", "4006", "Stavanger", "post@vagenbryggeri.no",
        supplier=True, persons=(("Linnéa Ås", "linnea@vagenbryggeri.no", "+47 51 89 90 00"),),
        groups=("Faste kunder",), modified_days=3,
    ),
    DemoContact(  # defect: a malformed e-mail address
        "maloy", "Måløy Sjømat AS", "Gate 1 nr. 44", "6700", "Måløy", "post@maloysjomat",
        persons=(("Ørjan Fosså", "orjan@maloysjomat.no", "+47 57 85 00 00"),),
    ),
    DemoContact(  # defect: the city does not match the postcode (2000 is Lillestrøm)
        "sykkel", "Lillestrøm Sykkelverksted AS", "Storgata 30", "2000", "Lillehammer",
        "verksted@lsykkel.no", persons=(("Mari Strøm", "mari@lsykkel.no", "+47 63 80 12 00"),),
    ),
    DemoContact(
        "kvitfjell", "Kvitfjell Hytteutleie AS", "Kvitfjellvegen 300", "2634", "Fåvang",
        "booking@kvitfjellhytter.no",
        persons=(("Solveig Bjørnstad", "solveig@kvitfjellhytter.no", "+47 61 28 36 00"),),
    ),
)  # fmt: skip

DEFECTS: dict[str, tuple[str, ...]] = {
    "org_number.missing": ("fjellstue",),
    "org_number.invalid": ("kaffe",),
    "address.postcode.missing": ("sjobris",),
    "email.missing": ("karstad",),
    "email.invalid": ("maloy",),
    "contact_person.missing": ("fjordlys",),
    "customer.duplicate": ("gronli1", "gronli2"),
    "address.city.mismatch": ("sykkel",),
    "inactive": ("oyen",),
    "supplier_only": ("kontor",),
}


@dataclass(frozen=True)
class DemoInvoice:
    tag: str
    customer: str
    overdue_days: int  # due date = today - overdue_days (negative: not yet due)
    lines: tuple[Line, ...]
    terms: int = 14
    payments: tuple[tuple[int, int | None], ...] = ()  # (days before today, amount or rest)
    currency: str = "NOK"
    dispatch: str = "email"
    fiken_reminder_after_due: int | None = None
    sent_manually: bool = False
    write_off_days: int | None = None
    credit_note_days: int | None = None


C = CATALOGUE
DEMO_INVOICES: tuple[DemoInvoice, ...] = (
    DemoInvoice("overdue_400", "fjordlys", 400, (C[3],), dispatch="ehf"),
    DemoInvoice("inactive_customer", "oyen", 120, (C[0], C[1])),
    DemoInvoice("kvitfjell_settled_old", "kvitfjell", 200, (C[0],), payments=((195, None),)),
    DemoInvoice("eur_settled_old", "muller", 150, (Line("Accounting services, Q3", 95_000, 4, "OUTSIDE"),), payments=((140, None),)),
    DemoInvoice("written_off", "fjordlys", 300, (C[0],), write_off_days=60),
    DemoInvoice("settled_old", "baker", 50, (C[0],), payments=((48, None),)),
    DemoInvoice("credited", "smoras", 45, (C[2],), credit_note_days=40),
    DemoInvoice("overdue_40", "fjellstue", 40, (C[3], C[4]), dispatch="ehf"),
    DemoInvoice("part_paid_40", "bjorg", 40, (C[4],), payments=((10, 100_000),), dispatch="letter"),
    DemoInvoice("overdue_40_sjobris", "sjobris", 40, (C[0],)),
    DemoInvoice("overdue_40_ehf", "maloy", 40, (C[0], C[2]), dispatch="ehf"),
    DemoInvoice("fiken_reminder", "ingrid", 25, (C[6],), fiken_reminder_after_due=14),
    DemoInvoice("overdue_20", "gronli1", 20, (C[0],), dispatch="ehf"),
    DemoInvoice("overdue_20_b2c", "bjorg", 20, (C[5],), dispatch="letter"),
    DemoInvoice("overdue_20_badorg", "kaffe", 20, (C[0], C[5])),
    DemoInvoice("eur", "muller", 20, (Line("Accounting services, Q4", 95_000, 5, "OUTSIDE"),), currency="EUR"),
    DemoInvoice("sent_manually", "baker", 20, (C[7],), sent_manually=True, dispatch=""),
    DemoInvoice("overdue_10", "smoras", 10, (C[2],)),
    DemoInvoice("overdue_10_dup", "gronli2", 10, (C[1],), dispatch="ehf"),
    DemoInvoice("overdue_10_nopostcode", "sjobris", 10, (C[1],)),
    DemoInvoice("part_paid_10", "vagen", 10, (C[0], C[3]), payments=((12, 500_000), (4, 300_000)), dispatch="ehf"),
    DemoInvoice("small_residual", "kvitfjell", 10, (C[5],), payments=((6, 37_325),)),
    DemoInvoice("settled_recent", "ingrid", 5, (C[4],), payments=((1, None),)),
    DemoInvoice("settled_recent_b2b", "vagen", 8, (C[0],), payments=((3, None),), dispatch="ehf"),
    DemoInvoice("overdue_3", "baker", 3, (C[0], C[1])),
    DemoInvoice("overdue_3_noemail", "karstad", 3, (C[0],), dispatch="letter"),
    DemoInvoice("overdue_3_citymismatch", "sykkel", 3, (C[2],)),
    DemoInvoice("due_today", "hakon", 0, (C[4],)),
    DemoInvoice("not_due", "baker", -9, (C[0],)),
    DemoInvoice("not_due_badorg", "kaffe", -5, (C[2],)),
    DemoInvoice("not_due_new", "smoras", -12, (C[5],)),
)  # fmt: skip


class DemoSeed:
    """The small, hand-written demo set (explicit records, computed once)."""

    def __init__(self, today: date) -> None:
        self.today = today
        self.contact_keys: dict[str, int] = {c.key: i for i, c in enumerate(DEMO_CONTACTS)}
        self.defects = DEFECTS
        self._contacts: list[dict[str, Any]] = []
        next_customer, next_supplier = FIRST_CUSTOMER_NUMBER, FIRST_SUPPLIER_NUMBER
        orgs: dict[str, str | None] = {}
        for i, c in enumerate(DEMO_CONTACTS):
            org: str | None
            if c.org == "valid":
                org = valid_orgnr(100 + i)
            elif c.org == "bad_checksum":
                org = bad_checksum_orgnr(100 + i)
            elif c.org and c.org.startswith("same_as:"):
                org = orgs[c.org.split(":", 1)[1]]
            else:
                org = None
            orgs[c.key] = org
            cnum = snum = None
            if c.customer:
                cnum, next_customer = next_customer, next_customer + 1
            if c.supplier:
                snum, next_supplier = next_supplier, next_supplier + 1
            self._contacts.append(
                build_contact(
                    i,
                    name=c.name,
                    created=today - timedelta(days=c.age_days),
                    last_modified=today - timedelta(days=min(c.modified_days, c.age_days)),
                    customer_number=cnum,
                    supplier_number=snum,
                    org=org,
                    email=c.email,
                    street=c.street,
                    postcode=c.postcode,
                    city=c.city,
                    country=c.country,
                    persons=c.persons,
                    inactive=c.inactive,
                    groups=c.groups,
                    language=c.language,
                )
            )
        self.invoice_tags: dict[str, int] = {}
        self._invoices: list[dict[str, Any]] = []
        self._invoice_customer: list[int] = []
        for i, spec in enumerate(DEMO_INVOICES):
            self.invoice_tags[spec.tag] = i
            ci = self.contact_keys[spec.customer]
            due = today - timedelta(days=spec.overdue_days)
            issue = due - timedelta(days=spec.terms)
            day = lambda n: today - timedelta(days=n)  # noqa: E731
            self._invoice_customer.append(ci)
            self._invoices.append(
                build_invoice(
                    i,
                    customer=self._contacts[ci],
                    issue=issue,
                    due=due,
                    lines=spec.lines,
                    payments=tuple(Payment(day(d), a) for d, a in spec.payments),
                    currency=spec.currency,
                    dispatches=((issue, spec.dispatch),) if spec.dispatch else (),
                    fiken_reminders=(
                        (due + timedelta(days=spec.fiken_reminder_after_due),)
                        if spec.fiken_reminder_after_due is not None
                        else ()
                    ),
                    sent_manually=spec.sent_manually,
                    write_off=day(spec.write_off_days) if spec.write_off_days else None,
                    credit_note=day(spec.credit_note_days) if spec.credit_note_days else None,
                )
            )
        self.n_contacts = len(self._contacts)
        self.n_invoices = len(self._invoices)

    def contact(self, index: int) -> dict[str, Any]:
        return copy_json(self._contacts[index])

    def contact_core(self, index: int) -> ContactCore:
        return contact_core_of(self._contacts[index])

    def invoice(self, index: int) -> dict[str, Any]:
        return copy_json(self._invoices[index])

    def invoice_core(self, index: int) -> InvoiceCore:
        return invoice_core_of(self._invoices[index], self._invoice_customer[index])

    def contact_by_key(self, key: str) -> dict[str, Any]:
        return self.contact(self.contact_keys[key])

    def invoice_by_tag(self, tag: str) -> dict[str, Any]:
        return self.invoice(self.invoice_tags[tag])


def copy_json(value: Any) -> Any:
    """JSON-shaped deep copy (much faster than ``copy.deepcopy``)."""
    if isinstance(value, dict):
        return {k: copy_json(v) for k, v in value.items()}
    if isinstance(value, list):
        return [copy_json(v) for v in value]
    return value


# --- the generated (benchmark-size) seed -------------------------------------------------------

PLACES = (
    ("0150", "Oslo"), ("0557", "Oslo"), ("5003", "Bergen"), ("7011", "Trondheim"),
    ("9008", "Tromsø"), ("4006", "Stavanger"), ("3015", "Drammen"), ("1337", "Sandvika"),
    ("2317", "Hamar"), ("8006", "Bodø"), ("6002", "Ålesund"), ("4612", "Kristiansand S"),
    ("1530", "Moss"), ("2609", "Lillehammer"), ("3111", "Tønsberg"), ("9600", "Hammerfest"),
    ("6800", "Førde"), ("7600", "Levanger"), ("8300", "Svolvær"), ("3616", "Kongsberg"),
    ("1440", "Drøbak"), ("5700", "Voss"), ("6413", "Molde"), ("2000", "Lillestrøm"),
    ("9900", "Kirkenes"), ("4838", "Arendal"), ("1767", "Halden"), ("3921", "Porsgrunn"),
    ("8514", "Narvik"), ("7374", "Røros"), ("6700", "Måløy"), ("8900", "Brønnøysund"),
)  # fmt: skip
STREETS = (
    "Storgata", "Kongens gate", "Sjøgata", "Fjordvegen", "Løkkeveien", "Bjørkelia", "Åsveien",
    "Kirkegata", "Strandgata", "Skolegata", "Møllevegen", "Industriveien", "Havnegata",
    "Ørnevegen", "Bakkeløkka", "Grønnegata", "Tærudgata", "Solbærvegen", "Kråkeveien", "Nøstet",
)  # fmt: skip
PREFIXES = (
    "Ærlig", "Øvre", "Nordre", "Søndre", "Fjord", "Lysø", "Håkons", "Bjørke", "Sjø", "Fjell",
    "Kløver", "Måke", "Tind", "Elve", "Skog", "Vik", "Strand", "Dal", "Berg", "Ås", "Nøtterø",
    "Brå", "Lågen", "Rørvik",
)  # fmt: skip
TRADES = (
    "Bakeri", "Rørlegger", "Elektro", "Snekkeri", "Maskin", "Transport", "Frisør", "Blomster",
    "Bygg", "Sjømat", "Kafé", "Tannlegesenter", "Bilverksted", "Hudpleie", "Gartneri",
    "Møbelsnekker", "Trelast", "Fysioterapi", "Dataservice", "Smie",
)  # fmt: skip
FORMS = ("AS", "AS", "AS", "AS", "DA", "SA", "Enkeltpersonforetak")
FIRST_NAMES = (
    "Bjørg", "Åse", "Øyvind", "Håkon", "Ingrid", "Kåre", "Solveig", "Jørgen", "Mari", "Ola",
    "Kari", "Per", "Siv", "Tor", "Ragnhild", "Bård", "Linnéa", "Ørjan", "Sæbjørn", "Gro",
)  # fmt: skip
LAST_NAMES = (
    "Løvås", "Sæther", "Ødegård", "Bråten", "Haugen", "Økland", "Nilsen", "Dahl", "Ås", "Kvåle",
    "Grønli", "Sørensen", "Bjørnstad", "Hætta", "Strøm", "Lie", "Mæhle", "Fosså", "Aasen",
    "Rønning",
)  # fmt: skip
MAIL_DOMAINS = ("gmail.com", "online.no", "hotmail.com", "icloud.com")


class GeneratedSeed:
    """A seed of any size where every record is a pure function of its index.

    Defect rates (per mille of contacts): 20 companies without org number, 15 with a bad
    checksum, 20 without postcode, 50 without e-mail, 20 inactive; every 97th contact is a
    supplier only, every 499th company shares the org number of the one before it.
    Invoices: issue dates spread over two years in index order; older ones mostly settled.
    """

    SPAN_DAYS = 730

    def __init__(self, today: date, customers: int, invoices: int) -> None:
        if customers < 2:
            raise ValueError("a generated seed needs at least 2 contacts")
        self.today = today
        self.n_contacts = customers
        self.n_invoices = invoices
        self._today_ord = today.toordinal()

    # contacts
    def _is_supplier_only(self, i: int) -> bool:
        return i % 97 == 50

    def _is_person(self, i: int) -> bool:
        return i % 4 == 3

    def contact_core(self, index: int) -> ContactCore:
        span = 3 * 365
        created = self.today - timedelta(days=span - (index * span) // self.n_contacts)
        age = (self.today - created).days
        modified = created + timedelta(days=mix(index, 2) % (age + 1))
        inactive = mix(index, 3) % 1000 < 20
        supplier_only = self._is_supplier_only(index)
        return ContactCore(created, modified, not supplier_only, supplier_only, inactive)

    def contact(self, index: int) -> dict[str, Any]:
        core = self.contact_core(index)
        h = mix(index, 1)
        postcode, city = PLACES[h % len(PLACES)]
        street = f"{STREETS[(h >> 8) % len(STREETS)]} {1 + (h >> 16) % 120}"
        defect = (h >> 24) % 1000
        persons: tuple[tuple[str, str, str | None], ...]
        if self._is_person(index):
            first = FIRST_NAMES[(h >> 34) % len(FIRST_NAMES)]
            last = LAST_NAMES[(h >> 40) % len(LAST_NAMES)]
            name = f"{first} {last}"
            org = None
            domain = MAIL_DOMAINS[(h >> 46) % len(MAIL_DOMAINS)]
            email: str | None = f"{slugify(first)}.{slugify(last)}{index}@{domain}"
            persons = ()
        else:
            form = FORMS[(h >> 46) % len(FORMS)]
            name = f"{PREFIXES[(h >> 34) % len(PREFIXES)]} {TRADES[(h >> 40) % len(TRADES)]}"
            name = f"{name} {form}" if form != "Enkeltpersonforetak" else name
            org = valid_orgnr(index + 1000)
            if index % 499 == 498 and not self._is_person(index - 1):
                org = valid_orgnr(index - 1 + 1000)  # duplicate of the contact before
            elif defect < 20:
                org = None
            elif defect < 35:
                org = bad_checksum_orgnr(index + 1000)
            email = f"post@{slugify(name)}{index}.no"
            first = FIRST_NAMES[(h >> 50) % len(FIRST_NAMES)]
            last = LAST_NAMES[(h >> 55) % len(LAST_NAMES)]
            phone = f"+47 9{(h >> 20) % 10_000_000:07d}"
            persons = ((f"{first} {last}", f"{slugify(first)}@{slugify(name)}{index}.no", phone),)
            if (h >> 60) % 16 == 0:
                persons = ()
        if 35 <= defect < 55:
            postcode = ""
        if 55 <= defect < 105:
            email = None
        return build_contact(
            index,
            name=name,
            created=core.created,
            last_modified=core.last_modified,
            customer_number=FIRST_CUSTOMER_NUMBER + index if core.customer else None,
            supplier_number=FIRST_SUPPLIER_NUMBER + index if core.supplier else None,
            org=org,
            email=email,
            street=street,
            postcode=postcode or None,
            city=city,
            persons=persons,
            inactive=core.inactive,
        )

    # invoices
    def _facts(self, index: int) -> tuple[int, int, int, int, int | None, bool, int | None]:
        """(hash, customer index, issue, due, paid on, paid in full, reminder), days as
        ordinals: only what filtering needs, so indexing 100 000 invoices stays about a second."""
        h = mix(index, 7)
        c = h % self.n_contacts
        if self._is_supplier_only(c):
            c = (c + 1) % self.n_contacts
        today = self._today_ord
        issue = today - self.SPAN_DAYS + (index * self.SPAN_DAYS) // max(self.n_invoices, 1)
        due = issue + (10, 14, 14, 30)[(h >> 20) % 4]
        overdue = today - due
        roll = (h >> 44) % 100
        in_full = roll < (97 if overdue > 60 else 50 if overdue > 0 else 10)
        paid_on = None
        if in_full or roll > 95:
            on = max(issue + 1, min(due + int((h >> 52) % 21) - 5, today - 1))
            if on < today:
                paid_on = on
        in_full = in_full and paid_on is not None
        reminder = None
        if not in_full and overdue > 14 and (h >> 36) % 100 < 3:
            reminder = due + 14
        return h, c, issue, due, paid_on, in_full, reminder

    def invoice_core(self, index: int) -> InvoiceCore:
        _h, c, issue, due, paid_on, in_full, reminder = self._facts(index)
        modified = max(issue, paid_on or issue, reminder or issue)
        fo = date.fromordinal
        return InvoiceCore(c, fo(issue), fo(due), fo(modified), in_full)

    def invoice(self, index: int) -> dict[str, Any]:
        h, c, issue, due, paid_on, in_full, reminder = self._facts(index)
        eur = (h >> 58) % 100 == 0
        picks = [(h >> (28 + 4 * k)) % len(CATALOGUE) for k in range(1 + (h >> 24) % 3)]
        lines = tuple(_EUR_LINES[p] if eur else CATALOGUE[p] for p in picks)
        gross = sum(ln.unit_price * ln.quantity * (100 + ln.vat_rate_pct) // 100 for ln in lines)
        fo = date.fromordinal
        payment = Payment(fo(paid_on), None if in_full else gross // 2) if paid_on else None
        dispatch = ("email", "email", "ehf", "letter", "efaktura")[mix(index, 9) % 5]
        return build_invoice(
            index,
            customer=self.contact(c),
            issue=fo(issue),
            due=fo(due),
            lines=lines,
            payments=(payment,) if payment else (),
            currency="EUR" if eur else "NOK",
            dispatches=((fo(issue), dispatch),),
            fiken_reminders=(fo(reminder),) if reminder else (),
        )


_EUR_LINES = tuple(
    Line(ln.description, ln.unit_price // 10, ln.quantity, "OUTSIDE") for ln in CATALOGUE
)


def make_seed(today: date, customers: int | None = None, invoices: int | None = None) -> Seed:
    """The demo seed when both sizes are None, otherwise a generated seed of that size."""
    if customers is None and invoices is None:
        return DemoSeed(today)
    n_contacts = customers if customers is not None else 50
    n_invoices = invoices if invoices is not None else n_contacts * 5
    return GeneratedSeed(today, n_contacts, n_invoices)


__all__ = [
    "ContactCore",
    "DemoSeed",
    "GeneratedSeed",
    "InvoiceCore",
    "Seed",
    "company",
    "contact_id",
    "contact_index",
    "invoice_id",
    "invoice_index",
    "kid",
    "make_seed",
    "valid_orgnr",
]
