"""Fiken mappings against golden fixtures built from the spec's own examples."""

from __future__ import annotations

import copy
import json
from datetime import date
from decimal import Decimal
from pathlib import Path

import pytest

from connector.models import Address, ContactPerson, Customer, CustomerKind, Dispatch, InvoiceStatus
from mappings import fiken
from mappings.errors import MappingError

FIXTURES = Path(__file__).parent / "fixtures" / "fiken"


def load(name: str) -> dict:
    return json.loads((FIXTURES / name).read_text(encoding="utf-8"))


def test_contact_spec_example_maps_to_golden_customer() -> None:
    expected = Customer(
        provider="fiken",
        provider_id="2747365",
        number="51248",
        name="Fiken AS",
        kind=CustomerKind.COMPANY,
        org_number="913312465",
        invoice_address=Address(
            street="Karl Johan 34", street2="H0405", postcode="0550", city="Oslo", country="NO"
        ),
        email="kontakt@fiken.gmail",
        contact_persons=(ContactPerson(name="Betty Boop", email="bb@gmail.com", phone="98573564"),),
        active=False,  # the example has inactive: true
        country="NO",
        last_modified=date(2018, 4, 3),
    )
    assert fiken.customer(load("contact_spec_example.json")) == expected


def test_invoice_spec_example_is_settled_and_keeps_its_facts() -> None:
    invoice = fiken.invoice(load("invoice_spec_example.json"))
    assert invoice.provider_id == "2888156"
    assert invoice.number == "10001"
    assert invoice.customer_id == "2747365" and invoice.customer_number == "51248"
    assert invoice.gross == Decimal("300.00")  # 30000 øre
    assert invoice.outstanding == Decimal("1.45")  # sale.outstandingBalance 145 øre
    assert invoice.status is InvoiceStatus.PAID  # sale.settled = true
    assert invoice.payment_reference == "5855454756"
    assert invoice.currency == "NOK"
    assert invoice.due_date == date(2018, 4, 3)


def open_invoice() -> dict:
    raw = copy.deepcopy(load("invoice_spec_example.json"))
    raw["sale"].update({"settled": False, "outstandingBalance": 1875050, "totalPaid": 0})
    raw["gross"] = 1875050
    raw["dispatches"] = [{"date": "2018-04-03", "dispatchType": "email"}]
    return raw


def test_open_invoice_amounts_are_exact_decimals_from_ore() -> None:
    invoice = fiken.invoice(open_invoice())
    assert invoice.status is InvoiceStatus.OPEN and invoice.is_open
    assert invoice.outstanding == Decimal("18750.50")
    assert isinstance(invoice.outstanding, Decimal)
    assert invoice.dispatches == (Dispatch(on=date(2018, 4, 3), channel="email"),)
    assert invoice.reminders_sent == 0


def test_foreign_currency_uses_balance_in_currency() -> None:
    raw = open_invoice()
    raw["currency"] = "EUR"
    raw["sale"]["outstandingBalanceInCurrency"] = 120000
    assert fiken.invoice(raw).outstanding == Decimal("1200.00")


def test_fikens_own_reminder_attachment_is_seen_but_ours_is_not() -> None:
    raw = open_invoice()
    raw["attachments"] = [
        {"identifier": "reminder-1", "type": "reminder"},
        {"identifier": "kravsync:t:1:reminder:1", "type": "reminder"},
    ]
    invoice = fiken.invoice(raw)
    assert invoice.reminders_sent == 1
    assert [d.kind for d in invoice.dispatches] == ["invoice", "reminder"]


def test_names_with_norwegian_letters_round_trip() -> None:
    raw = load("contact_spec_example.json")
    raw["name"] = "Ærlige Øyvind Åsheim"
    raw["address"]["city"] = "Tromsø"
    del raw["organizationNumber"]
    raw["contactPerson"] = []
    customer = fiken.customer(raw)
    assert customer.name == "Ærlige Øyvind Åsheim"
    assert customer.invoice_address is not None and customer.invoice_address.city == "Tromsø"
    assert customer.kind is CustomerKind.PERSON
    assert Customer.model_validate_json(customer.model_dump_json()) == customer


@pytest.mark.parametrize(
    ("mutate", "message"),
    [
        (lambda r: r.pop("sale"), "sale: missing"),
        (lambda r: r.update(dueDate="03.04.2018"), "dueDate: not a date"),
        (lambda r: r.update(gross=300.5), "gross: expected integer minor units"),
        (lambda r: r.pop("invoiceNumber"), "invoiceNumber: missing"),
    ],
)
def test_bad_invoice_raises_mapping_error_with_its_id(mutate, message: str) -> None:  # type: ignore[no-untyped-def]
    raw = open_invoice()
    mutate(raw)
    with pytest.raises(MappingError) as err:
        fiken.invoice(raw)
    assert err.value.record_id == "2888156"
    assert message in str(err.value)


def test_unknown_fields_are_ignored() -> None:
    raw = open_invoice()
    raw["somethingNew"] = {"nested": [1, 2]}
    assert fiken.invoice(raw).number == "10001"
