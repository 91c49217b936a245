"""validate_customers / validate_invoices: one case per finding code, masking, notes."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date
from decimal import Decimal
from typing import Any

import pytest

from connector.models import (
    ActionStage,
    Address,
    ContactPerson,
    Customer,
    CustomerKind,
    Invoice,
    InvoiceStatus,
)
from connector.validation import (
    RULES,
    Finding,
    RegistryResult,
    RegistryState,
    fixture_register,
    validate_customers,
    validate_invoices,
)
from connector.validation.postcodes import UNAVAILABLE_NOTE, PostcodeEntry, PostcodeRegister

TODAY = date(2026, 11, 23)

DESIGN_CODES = """org_number.missing org_number.invalid org_number.not_found org_number.deleted
org_number.bankrupt org_number.dissolving national_id.missing national_id.invalid
vat_number.invalid address.missing address.street.missing address.postcode.missing
address.postcode.invalid address.city.missing address.city.mismatch address.country.missing
email.missing email.invalid phone.invalid contact_person.missing customer.duplicate
invoice.customer.missing""".split() + ["record.malformed"]  # issue 12: a skipped record

REGISTER = fixture_register()


@dataclass
class Settings:
    allow_test_org_numbers: bool = False


class FakeRegistry:
    def __init__(self, **states: Any) -> None:
        self.results: dict[str, RegistryResult] = {}
        self.calls: list[str] = []

    def lookup(self, orgnr: str) -> RegistryResult:
        self.calls.append(orgnr)
        return self.results.get(orgnr, RegistryResult(orgnr, RegistryState.ACTIVE, name="X AS"))


def company(**changes: Any) -> Customer:
    base: dict[str, Any] = dict(
        provider="fiken",
        provider_id="1",
        number="10001",
        name="Ærlig Bakeri AS",
        kind=CustomerKind.COMPANY,
        org_number="923609016",
        vat_number="NO923609016MVA",
        invoice_address=Address(
            street="Thorvald Meyers gate 12", postcode="0555", city="Oslo", country="NO"
        ),
        email="post@aerligbakeri.no",
        phone="+47 22 35 17 80",
        contact_persons=(
            ContactPerson(name="Åse Ærlig", email="ase@aerligbakeri.no", phone="915 24 680"),
        ),
    )
    base.update(changes)
    return Customer(**base)


def person(**changes: Any) -> Customer:
    base: dict[str, Any] = dict(
        provider="fiken",
        provider_id="2",
        number="10002",
        name="Bjørg Løvås",
        kind=CustomerKind.PERSON,
        national_id="15108695088",
        invoice_address=Address(street="Løvåsveien 3", postcode="7374", city="Røros", country="NO"),
        email="bjorg.lovas@online.no",
    )
    base.update(changes)
    return Customer(**base)


def run(*customers: Customer, registry: Any = None, postcodes: Any = REGISTER, **kw: Any):
    return validate_customers(
        customers,
        country=kw.pop("country", "NO"),
        settings=Settings(**kw),
        postcodes=postcodes,
        registry=registry, today=TODAY,
    )


def codes(findings: list[Finding]) -> list[str]:
    return sorted(f.code for f in findings)


def test_clean_customers_have_no_findings() -> None:
    assert run(company(), person()) == []


def test_every_design_code_has_exactly_one_rule_and_severity_follows_blocks() -> None:
    assert sorted(RULES) == sorted(DESIGN_CODES)
    for code, rule in RULES.items():
        assert rule.severity == ("error" if rule.blocks else "warning"), code
    assert RULES["address.missing"].blocks == tuple(ActionStage)
    assert RULES["email.missing"].blocks == ()


def _registry(
    state: RegistryState, bankrupt: bool = False, dissolving: bool = False
) -> FakeRegistry:
    reg = FakeRegistry()
    reg.results["923609016"] = RegistryResult(
        "923609016", state, bankrupt=bankrupt, dissolving=dissolving
    )
    return reg


A = Address
CASES: dict[str, tuple[list[Customer], dict[str, Any]]] = {
    "org_number.missing": ([company(org_number=None, vat_number=None)], {}),
    "org_number.invalid": ([company(org_number="923609017", vat_number=None)], {}),
    "org_number.not_found": ([company()], {"registry": _registry(RegistryState.NOT_FOUND)}),
    "org_number.deleted": ([company()], {"registry": _registry(RegistryState.DELETED)}),
    "org_number.bankrupt": (
        [company()],
        {"registry": _registry(RegistryState.ACTIVE, bankrupt=True)},
    ),
    "org_number.dissolving": (
        [company()],
        {"registry": _registry(RegistryState.ACTIVE, dissolving=True)},
    ),
    "national_id.missing": ([person(national_id=None)], {}),
    "national_id.invalid": ([person(national_id="15108695077")], {}),
    "vat_number.invalid": ([company(vat_number="NO976820479MVA")], {}),
    "address.missing": ([company(invoice_address=None)], {}),
    "address.street.missing": ([company(invoice_address=A(postcode="0555", city="Oslo", country="NO"))], {}),
    "address.postcode.missing": ([company(invoice_address=A(street="Gata 1", city="Oslo", country="NO"))], {}),
    "address.postcode.invalid": ([company(invoice_address=A(street="Gata 1", postcode="555", city="Oslo", country="NO"))], {}),
    "address.city.missing": ([company(invoice_address=A(street="Gata 1", postcode="0555", country="NO"))], {}),
    "address.city.mismatch": ([company(invoice_address=A(street="Gata 1", postcode="2000", city="Lillehammer", country="NO"))], {}),
    "address.country.missing": ([company(invoice_address=A(street="Gata 1", postcode="0555", city="Oslo"))], {}),
    "email.missing": ([company(email=None)], {}),
    "email.invalid": ([company(email="post@maloysjomat")], {}),
    "phone.invalid": ([company(phone="12 34")], {}),
    "contact_person.missing": ([company(contact_persons=())], {}),
    "customer.duplicate": (
        [company(), company(provider_id="9", number="10009", name="Ærlig Bakeri Øst AS")],
        {},
    ),
}  # fmt: skip


@pytest.mark.parametrize("code", sorted(CASES))
def test_each_finding_code(code: str) -> None:
    customers, kw = CASES[code]
    findings = run(*customers, **kw)
    assert {f.code for f in findings} == {code}, [f.message for f in findings]
    f = findings[0]
    assert f.severity == RULES[code].severity and f.blocks == RULES[code].blocks
    assert f.customer_id == customers[0].provider_id and f.customer_name == customers[0].name
    assert f.message and f.field


def test_invoice_with_unknown_customer() -> None:
    def inv(number: str, customer_id: str | None, status: InvoiceStatus) -> Invoice:
        return Invoice(
            provider="fiken",
            provider_id=number,
            number=number,
            customer_id=customer_id,
            customer_name="Ukjent Å/S",
            issue_date=date(2026, 1, 1),
            due_date=date(2026, 1, 15),
            currency="NOK",
            gross=Decimal("100"),
            outstanding=Decimal("100") if status is InvoiceStatus.OPEN else Decimal("0"),
            status=status,
        )

    invoices = [
        inv("1", "1", InvoiceStatus.OPEN),
        inv("2", "555", InvoiceStatus.OPEN),
        inv("3", None, InvoiceStatus.OPEN),
        inv("4", "555", InvoiceStatus.PAID),
    ]
    findings = validate_invoices(invoices, {"1"})
    assert [(f.code, f.customer_id) for f in findings] == [
        ("invoice.customer.missing", "555"),
        ("invoice.customer.missing", None),
    ]
    assert findings[0].severity == "error" and "invoice 2" in findings[0].message


def test_wrong_check_digit_message_is_human() -> None:
    [f] = run(company(org_number="913312466", vat_number=None))
    assert f.message == "org number 913312466 has a wrong check digit"


def test_national_ids_are_masked_in_every_message() -> None:
    bad = "15108695077"
    findings = run(
        person(national_id=bad),
        person(provider_id="3", national_id="15108695088", birth_date=date(1990, 1, 1)),
        company(provider_id="4", org_number="15108695088", vat_number=None),
    )
    assert codes(findings) == ["national_id.invalid", "national_id.invalid", "org_number.invalid"]
    for f in findings:
        assert "151086*****" in f.message
        assert "95077" not in f.message and "95088" not in f.message


def test_swedish_sole_trader_org_number_is_valid_and_masked() -> None:
    addr = Address(street="Storgatan 1", postcode="111 22", city="Stockholm", country="SE")
    sole = dict(
        org_number="811228-9874", vat_number="SE811228987401", invoice_address=addr,
        phone="08-123 456 78", email="a@firma.se", contact_persons=(ContactPerson(name="Åke"),),
    )  # fmt: skip
    findings = run(
        company(provider_id="1", name="Åkes Snickeri", **sole),
        company(provider_id="2", name="Åkes Snickeri (gammal)", **sole),
        country="SE",
    )
    assert codes(findings) == ["customer.duplicate", "customer.duplicate"]
    assert all("811228****" in f.message and "9874" not in f.message for f in findings)


def test_swedish_rules() -> None:
    addr = Address(street="Storgatan 1", postcode="011 22", city="Stockholm", country="SE")
    [f] = run(company(org_number="556016-0680", vat_number="SE556016068001",
                      invoice_address=addr, phone="+46 8 123 456 78"), country="SE")  # fmt: skip
    assert f.code == "address.postcode.invalid"
    findings = run(person(national_id="19121212-1212", invoice_address=addr), country="SE")
    assert "national_id.invalid" not in codes(findings)


def test_synthetic_test_numbers_only_with_the_tenant_setting() -> None:
    test_org = company(org_number="312345005", vat_number=None)
    assert codes(run(test_org)) == ["org_number.invalid"]
    assert run(test_org, allow_test_org_numbers=True) == []


def test_birth_date_alone_is_enough_and_must_agree_with_the_id() -> None:
    assert run(person(national_id=None, birth_date=date(1986, 10, 15))) == []
    assert run(person(birth_date=date(1986, 10, 15))) == []


def test_foreign_company_gets_no_norwegian_identifier_checks() -> None:
    muller = company(
        name="Müller Holzbau GmbH", org_number=None, vat_number=None, country="DE",
        invoice_address=Address(street="Große Elbstraße 145", postcode="22767", city="Hamburg",
                                country="DE"),
        phone="+49 40 3861 0",
    )  # fmt: skip
    assert run(muller) == []
    bad_postcode = muller.model_copy(
        update={"invoice_address": muller.invoice_address.model_copy(update={"postcode": "2276"})}  # type: ignore[union-attr]
    )
    assert codes(run(bad_postcode)) == ["address.postcode.invalid"]


def test_register_unavailable_is_a_note_not_a_finding() -> None:
    mismatch = company(
        invoice_address=Address(street="Gata 1", postcode="2000", city="Lillehammer", country="NO")
    )
    result = run(mismatch, postcodes=None)
    assert result == [] and result.notes == [UNAVAILABLE_NOTE]
    assert run(company()).notes == []


def test_postcode_unknown_in_a_complete_register_is_invalid() -> None:
    complete = PostcodeRegister(
        {"0555": PostcodeEntry("0555", "OSLO", "0301", "OSLO", "G")}, complete=True, source="t"
    )
    c = company(
        invoice_address=Address(street="Gata 1", postcode="0556", city="Oslo", country="NO")
    )
    assert codes(run(c, postcodes=complete)) == ["address.postcode.invalid"]
    assert run(c) == []  # the shipped extract is incomplete: unknown is not wrong


def test_inactive_customers_are_not_duplicates() -> None:
    assert run(company(), company(provider_id="9", active=False)) == []


def test_registry_is_asked_once_per_org_number() -> None:
    reg = FakeRegistry()
    run(company(), company(provider_id="9"), company(provider_id="8", org_number="984851006"),
        registry=reg)  # fmt: skip
    assert sorted(reg.calls) == ["923609016", "984851006"]


def test_registry_unknown_is_a_note() -> None:
    reg = _registry(RegistryState.UNKNOWN)
    result = run(company(), registry=reg)
    assert result == []
    assert result.notes == ["Brønnøysund register unreachable: 1 org number(s) not checked"]


def test_fiken_sandbox_defects_are_found() -> None:
    seed_mod = pytest.importorskip("providers.fiken.sandbox.seed")
    fiken = pytest.importorskip("mappings.fiken")
    seed = seed_mod.make_seed(date(2026, 3, 2))
    customers = [fiken.customer(seed.contact(i)) for i in range(seed.n_contacts)]
    customers = [c for c, i in zip(customers, range(seed.n_contacts), strict=True)
                 if seed.contact(i).get("customer")]  # fmt: skip
    findings = run(*customers)
    by_code: dict[str, set[str]] = {}
    for f in findings:
        by_code.setdefault(f.code, set()).add(f.customer_name or "")
    names = {c.key: c.name for c in seed_mod.DEMO_CONTACTS}
    for code, keys in seed_mod.DEFECTS.items():
        if code in RULES:
            assert {names[k] for k in keys} <= by_code.get(code, set()), code
