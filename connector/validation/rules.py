"""The customer-data checks: customers in, findings out (plus notes on what was not checked).

Which identifier rules apply follows the customer's country (``Customer.country``, else the
invoice address's country, else the tenant's): NO and SE have org number and national id rules;
customers of other countries get the address and contact checks only. National ids (and Swedish
sole traders' org numbers, which are personnummer) are masked in every message.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Collection, Iterable
from datetime import date
from typing import Protocol

from connector.models import Address, Customer, CustomerKind, Invoice
from connector.validation import identifiers as ids
from connector.validation.brreg import UNREACHABLE_NOTE, RegistryLookup, RegistryState
from connector.validation.contacts import email_problem, phone_ok
from connector.validation.findings import Finding
from connector.validation.postcodes import (
    POSTCODE_FORMATS,
    UNAVAILABLE_NOTE,
    PostcodeRegister,
    postcode_format_ok,
)

_COUNTRY_NAMES = {"NO": "Norwegian", "SE": "Swedish", "DK": "Danish", "FI": "Finnish"}


class ValidationOptions(Protocol):
    """The tenant settings validation reads (``connector.config.ValidationSettings`` fits)."""

    @property
    def allow_test_org_numbers(self) -> bool: ...


class ValidationResult(list[Finding]):
    """The findings, plus ``notes`` on checks that could not run (register unavailable, …)."""

    def __init__(self, findings: Iterable[Finding] = (), notes: Iterable[str] = ()) -> None:
        super().__init__(findings)
        self.notes: list[str] = list(notes)


def _iso(value: str | None) -> str | None:
    if value and len(value) == 2 and value.isalpha():
        return value.upper()
    return None


def _shown_org(raw: str, country: str) -> str:
    """An org number as it may appear in a message: masked when it is (or may be) a person's
    number, whatever the customer's country (a Norwegian fødselsnummer on a Swedish address,
    a Swedish personnummer on a Norwegian one)."""
    digits = "".join(ch for ch in raw if ch.isdigit())
    if (
        ids.is_person_number(raw)
        or len(digits) == 11  # a fødselsnummer's length; no org number has it
        or (len(digits) == 12 and digits[:2] in ("19", "20"))  # a personnummer's long form
        or (country == "SE" and ids.se_orgnr.is_personal(raw))
    ):
        return ids.mask_national_id(digits)
    return digits or repr(raw)


def customer_country(c: Customer, tenant_country: str) -> str:
    """The country whose identifier rules apply to ``c`` ("" when neither NO nor SE is known
    and the customer names another country)."""
    addr = c.invoice_address
    country = _iso(c.country) or _iso(addr.country if addr else None)
    if country is None and not (c.country or (addr and addr.country)):
        country = tenant_country
    return country or ""


def identity_findings(
    c: Customer, *, tenant_country: str, allow_test: bool, today: date
) -> list[Finding]:
    """The findings on ``c``'s org number and national id alone, worked out on the clear
    numbers (the store keeps person numbers masked; see ``connector.privacy``)."""
    run = _Run(tenant_country, allow_test, None, today)
    country = customer_country(c, tenant_country)
    out: list[Finding] = []
    if c.kind is CustomerKind.COMPANY:
        run._org_number(0, c, country, out)
    else:
        run._national_id(c, country, out)
    return out


MASKED = "*"


def _kept(c: Customer, field: str) -> list[Finding]:
    return [Finding.of(c, code, f, message) for code, f, message in c.id_findings if f == field]


class _Run:
    def __init__(
        self,
        country: str,
        allow_test: bool,
        postcodes: PostcodeRegister | None,
        today: date,
    ) -> None:
        self.country = country
        self.today = today
        self.allow_test = allow_test
        self.postcodes = postcodes
        self.notes: list[str] = []
        self.by_org: dict[tuple[str, str], list[int]] = defaultdict(list)
        self.registry_queue: dict[str, list[int]] = defaultdict(list)

    def note(self, text: str) -> None:
        if text not in self.notes:
            self.notes.append(text)

    # --- one customer ------------------------------------------------------------------------

    def check(self, i: int, c: Customer) -> list[Finding]:
        out: list[Finding] = []
        addr = c.invoice_address
        country = customer_country(c, self.country) or None
        if c.kind is CustomerKind.COMPANY:
            self._org_number(i, c, country or "", out)
            if not c.contact_persons:
                out.append(
                    Finding.of(c, "contact_person.missing", "contact_persons", "no contact person")
                )
        else:
            self._national_id(c, country or "", out)
        self._address(c, addr, out)
        self._contacts(c, country or self.country, out)
        return out

    def _org_number(self, i: int, c: Customer, country: str, out: list[Finding]) -> None:
        ident = ids.org_number_for(country)
        raw = (c.org_number or "").strip()
        if not raw:
            if ident is not None:
                out.append(Finding.of(c, "org_number.missing", "org_number", "no org number"))
            return
        if ident is None:
            return
        if MASKED in raw:  # a person number the store masked: its findings were kept with it
            out.extend(_kept(c, "org_number"))
            return
        try:
            org = ident.validate(raw, allow_test=self.allow_test)
        except ids.ValidationError as exc:
            shown = _shown_org(raw, country)
            if country == "NO" and ids.no_fodselsnummer.is_valid(raw):
                msg = f"org number {shown} is a national id (fødselsnummer), not an org number"
            else:
                expected = 9 if country == "NO" else 10
                msg = f"org number {shown} {ids.describe_error(exc, expected)}"
            out.append(Finding.of(c, "org_number.invalid", "org_number", msg))
            return
        if c.active:
            self.by_org[(country, org)].append(i)
        if country == "NO":
            self.registry_queue[org].append(i)
        if c.vat_number:
            self._vat_number(c, country, org, out)

    def _vat_number(self, c: Customer, country: str, org: str, out: list[Finding]) -> None:
        ident = ids.vat_number_for(country)
        assert ident is not None and c.vat_number
        try:
            vat = ident.validate(c.vat_number, allow_test=self.allow_test)
        except ids.ValidationError as exc:
            shown = c.vat_number if country == "NO" else "SE…"
            msg = f"VAT number {shown} {ids.describe_error(exc)}"
            out.append(Finding.of(c, "vat_number.invalid", "vat_number", msg))
            return
        if not vat.startswith(org):
            msg = "VAT number does not belong to the customer's org number"
            out.append(Finding.of(c, "vat_number.invalid", "vat_number", msg))

    def _national_id(self, c: Customer, country: str, out: list[Finding]) -> None:
        raw = (c.national_id or "").strip()
        if not raw:
            if c.birth_date is None:
                msg = "no national id or birth date"
                out.append(Finding.of(c, "national_id.missing", "national_id", msg))
            return
        ident = ids.national_id_for(country)
        if ident is None:
            return
        if MASKED in raw:  # masked by the store: its findings were worked out and kept with it
            out.extend(_kept(c, "national_id"))
            return
        masked = ids.mask_national_id(raw)
        try:
            born = ident.birth_date(raw, allow_test=self.allow_test)
            if born > self.today:
                raise ids.InvalidComponent("has a birth date in the future")
        except ids.ValidationError as exc:
            msg = f"national id {masked} {ids.describe_error(exc, 11 if country == 'NO' else 12)}"
            out.append(Finding.of(c, "national_id.invalid", "national_id", msg))
            return
        if c.birth_date is not None and c.birth_date != born:
            msg = f"national id {masked} does not match the birth date on record"
            out.append(Finding.of(c, "national_id.invalid", "national_id", msg))

    def _address(self, c: Customer, addr: Address | None, out: list[Finding]) -> None:
        if addr is None or addr.is_empty():
            out.append(Finding.of(c, "address.missing", "invoice_address", "no invoice address"))
            return
        f = "invoice_address."
        if not (addr.street or addr.street2):
            out.append(Finding.of(c, "address.street.missing", f + "street", "no street address"))
        if not addr.city:
            out.append(Finding.of(c, "address.city.missing", f + "city", "no city"))
        if not addr.country:
            msg = f"no country in the invoice address ({self.country} assumed)"
            out.append(Finding.of(c, "address.country.missing", f + "country", msg))
        country = _iso(addr.country) if addr.country else self.country
        postcode = (addr.postcode or "").strip()
        if not postcode:
            out.append(Finding.of(c, "address.postcode.missing", f + "postcode", "no postcode"))
            return
        if country is None:
            return
        ok = postcode_format_ok(postcode, country)
        if ok is False:
            adjective = _COUNTRY_NAMES.get(country, country)
            example = POSTCODE_FORMATS[country][1]
            msg = f"postcode {postcode} is not a valid {adjective} postcode (like {example})"
            out.append(Finding.of(c, "address.postcode.invalid", f + "postcode", msg))
            return
        if country != "NO":
            return
        if self.postcodes is None:
            self.note(UNAVAILABLE_NOTE)
            return
        entry = self.postcodes.lookup(postcode)
        if entry is None:
            if self.postcodes.complete:
                msg = f"postcode {postcode} does not exist in Bring's postcode register"
                out.append(Finding.of(c, "address.postcode.invalid", f + "postcode", msg))
            return
        if addr.city and not self.postcodes.city_matches(postcode, addr.city):
            msg = f"postcode {postcode} belongs to {entry.place.title()}, not {addr.city}"
            out.append(Finding.of(c, "address.city.mismatch", f + "city", msg))

    def _contacts(self, c: Customer, region: str, out: list[Finding]) -> None:
        # Field names are built only for what is reported: this runs for every customer.
        email = c.email.strip() if c.email else ""
        people = c.contact_persons
        if not email:
            msg = "no e-mail address for invoices"
            if any(p.email and p.email.strip() for p in people):
                msg += " (a contact person has one)"
            out.append(Finding.of(c, "email.missing", "email", msg))
        else:
            self._email(c, "email", email, out)
        for n, p in enumerate(people):
            if p.email and p.email.strip():
                self._email(c, f"contact_persons[{n}].email", p.email.strip(), out)
        if c.phone and c.phone.strip():
            self._phone(c, "phone", c.phone, region, out)
        for n, p in enumerate(people):
            if p.phone and p.phone.strip():
                self._phone(c, f"contact_persons[{n}].phone", p.phone, region, out)

    @staticmethod
    def _email(c: Customer, field: str, email: str, out: list[Finding]) -> None:
        problem = email_problem(email)
        if problem:
            out.append(Finding.of(c, "email.invalid", field, f"e-mail {email} is not valid: {problem}"))

    @staticmethod
    def _phone(c: Customer, field: str, phone: str, region: str, out: list[Finding]) -> None:
        if not phone_ok(phone.strip(), region):
            msg = f"phone {phone} is not a valid number for {region}"
            out.append(Finding.of(c, "phone.invalid", field, msg))

    # --- across customers --------------------------------------------------------------------

    def duplicates(self, customers: list[Customer], per: list[list[Finding]]) -> None:
        for (country, org), members in self.by_org.items():
            if len(members) < 2:
                continue
            shown = _shown_org(org, country)
            for i in members:
                others = ", ".join(
                    f"{customers[j].number or customers[j].provider_id} ({customers[j].name})"
                    for j in members
                    if j != i
                )
                msg = f"org number {shown} is also used by customer {others}"
                per[i].append(Finding.of(customers[i], "customer.duplicate", "org_number", msg))

    def registry(
        self, lookup: RegistryLookup, customers: list[Customer], per: list[list[Finding]]
    ) -> None:
        unknown = 0
        for org, members in self.registry_queue.items():
            result = lookup.lookup(org)
            found: list[tuple[str, str]] = []
            if result.state is RegistryState.UNKNOWN:
                unknown += 1
            elif result.state is RegistryState.NOT_FOUND:
                found.append(("org_number.not_found", f"org number {org} is not in Brønnøysund"))
            elif result.state is RegistryState.DELETED:
                when = f" on {result.deleted_on:%Y-%m-%d}" if result.deleted_on else ""
                found.append(("org_number.deleted", f"org number {org} was deleted{when}"))
            if result.bankrupt:
                found.append(("org_number.bankrupt", f"org number {org}: the company is bankrupt"))
            if result.dissolving:
                msg = f"org number {org}: the company is being wound up"
                found.append(("org_number.dissolving", msg))
            for i in members:
                for code, msg in found:
                    per[i].append(Finding.of(customers[i], code, "org_number", msg))
        if unknown:
            self.note(UNREACHABLE_NOTE.format(n=unknown))


def validate_customers(
    customers: Iterable[Customer],
    *,
    country: str,
    today: date,
    settings: ValidationOptions,
    postcodes: PostcodeRegister | None,
    registry: RegistryLookup | None,
) -> ValidationResult:
    """Every finding for ``customers`` of a tenant in ``country`` (NO or SE), customer by customer.

    ``postcodes`` None: the Norwegian postcode ↔ city check is skipped and noted. ``registry``
    None: no Brønnøysund look-ups (the tenant has the registry check off).
    """
    run = _Run(country, settings.allow_test_org_numbers, postcodes, today)
    listed = list(customers)
    per = [run.check(i, c) for i, c in enumerate(listed)]
    run.duplicates(listed, per)
    if registry is not None:
        run.registry(registry, listed, per)
    return ValidationResult((f for fs in per for f in fs), run.notes)


def validate_invoices(
    invoices: Iterable[Invoice], known_customer_ids: Collection[str], *, open_only: bool = True
) -> ValidationResult:
    """``invoice.customer.missing`` for each (open) invoice whose customer is not known."""
    out = ValidationResult()
    for inv in invoices:
        if open_only and not inv.is_open:
            continue
        if inv.customer_id is not None and inv.customer_id in known_customer_ids:
            continue
        who = f"customer {inv.customer_id}" if inv.customer_id else "no customer"
        msg = f"invoice {inv.number} refers to {who}, which is not among the customers"
        out.append(
            Finding.make(
                "invoice.customer.missing",
                customer_id=inv.customer_id,
                customer_number=inv.customer_number,
                customer_name=inv.customer_name,
                field="customer_id",
                message=msg,
            )
        )
    return out
