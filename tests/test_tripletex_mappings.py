"""Tripletex payloads → canonical models: companies and people, contacts, balances, reminders."""

from __future__ import annotations

from datetime import date
from decimal import Decimal
from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from connector.models import CustomerKind, InvoiceStatus
from mappings import tripletex as m
from mappings.errors import MappingError
from providers.tripletex.sandbox import fields as fieldsel


def customer_raw(**over: Any) -> dict[str, Any]:
    raw: dict[str, Any] = {
        "id": 2100007,
        "customerNumber": 10007,
        "name": "Kårstad Elektro AS",
        "organizationNumber": "963471696",
        "isPrivateIndividual": False,
        "isInactive": False,
        "email": "post@karstad.no",
        "invoiceEmail": "faktura@karstad.no",
        "overdueNoticeEmail": "",
        "phoneNumber": "62 52 00 10",
        "phoneNumberMobile": "",
        "currency": {"code": "NOK"},
        "postalAddress": {
            "addressLine1": "Industriveien 15",
            "addressLine2": "",
            "postalCode": "2317",
            "city": "Hamar",
            "country": {"isoAlpha2Code": "NO"},
        },
        "physicalAddress": {
            "addressLine1": "",
            "addressLine2": "",
            "postalCode": "",
            "city": "",
            "country": {"isoAlpha2Code": "NO"},
        },
    }
    raw.update(over)
    return raw


def invoice_raw(**over: Any) -> dict[str, Any]:
    raw: dict[str, Any] = {
        "id": 2200009,
        "invoiceNumber": 10009,
        "invoiceDate": "2026-09-30",
        "invoiceDueDate": "2026-10-14",
        "kid": "100030100090",
        "amountCurrency": Decimal("3687.50"),
        "amountCurrencyOutstanding": Decimal("3687.50"),
        "isCreditNote": False,
        "isCredited": False,
        "isCharged": True,
        "currency": {"code": "NOK"},
        "customer": {
            "id": 2100003,
            "customerNumber": 10003,
            "name": "Bjørg Løvås",
            "isFactoring": False,
        },
        "reminders": [],
    }
    raw.update(over)
    return raw


def test_a_company_with_its_contacts_and_the_invoice_email() -> None:
    contacts = [
        {"firstName": "Jørgen", "lastName": "Kårstad", "email": "jorgen@karstad.no",
         "phoneNumberMobile": "+47 62 52 00 10", "isInactive": False, "customer": {"id": 2100007}},
        {"firstName": "Gammel", "lastName": "Kontakt", "isInactive": True},
    ]  # fmt: skip
    c = m.customer(customer_raw(), contacts)
    assert c.kind is CustomerKind.COMPANY and c.org_number == "963471696"
    assert c.number == "10007" and c.provider_id == "2100007"
    assert c.email == "faktura@karstad.no"  # the invoice address beats the general one
    assert [p.name for p in c.contact_persons] == ["Jørgen Kårstad"]  # the inactive one is left out
    assert c.invoice_address is not None and c.invoice_address.city == "Hamar"
    assert c.country == "NO" and c.currency == "NOK" and c.active


def test_overdue_notice_email_wins_and_a_person_has_no_org_number() -> None:
    c = m.customer(
        customer_raw(
            isPrivateIndividual=True, overdueNoticeEmail="purring@karstad.no", isInactive=True
        )
    )
    assert c.kind is CustomerKind.PERSON and c.org_number is None
    assert c.email == "purring@karstad.no" and not c.active


def test_physical_address_when_the_postal_one_is_empty() -> None:
    empty = {"addressLine1": "", "postalCode": "", "city": "", "country": {"isoAlpha2Code": "NO"}}
    physical = {"addressLine1": "Sjøgata 21", "postalCode": "9008", "city": "Tromsø",
                "country": {"isoAlpha2Code": "NO"}}  # fmt: skip
    c = m.customer(customer_raw(postalAddress=empty, physicalAddress=physical))
    assert c.invoice_address is not None and c.invoice_address.street == "Sjøgata 21"


@pytest.mark.parametrize(
    ("over", "message"),
    [
        ({"name": " "}, "name: missing"),
        ({"isPrivateIndividual": "yes"}, "isPrivateIndividual: not a boolean"),
        ({"currency": {"code": "kroner"}}, "currency.code"),
    ],
)
def test_bad_customers_raise_a_mapping_error_with_the_id(
    over: dict[str, Any], message: str
) -> None:
    with pytest.raises(MappingError) as err:
        m.customer(customer_raw(**over))
    assert err.value.record_id == "2100007" and message in err.value.message


def test_an_open_invoice_with_tripletex_reminders() -> None:
    reminders = [
        {"id": 7, "type": "SOFT_REMINDER", "reminderDate": "2026-10-20", "charge": 0},
        {"id": 8, "type": "REMINDER", "reminderDate": "2026-11-01", "charge": Decimal("38")},
    ]
    inv = m.invoice(invoice_raw(reminders=reminders))
    assert inv.status is InvoiceStatus.OPEN and inv.outstanding == Decimal("3687.50")
    assert inv.number == "10009" and inv.customer_id == "2100003" and inv.customer_number == "10003"
    assert inv.due_date == date(2026, 10, 14) and inv.payment_reference == "100030100090"
    assert inv.reminders_sent == 2 and inv.last_reminded == date(2026, 11, 1)
    assert {d.kind for d in inv.dispatches} == {"reminder"} and inv.handled_by is None


def test_paid_credited_and_credit_notes_are_never_open() -> None:
    assert m.invoice(invoice_raw(amountCurrencyOutstanding=0)).status is InvoiceStatus.PAID
    credited = m.invoice(invoice_raw(amountCurrencyOutstanding=0, isCredited=True))
    assert credited.status is InvoiceStatus.CREDITED
    note = m.invoice(invoice_raw(isCreditNote=True, amountCurrency=Decimal("-100"),
                                 amountCurrencyOutstanding=Decimal("-100")))  # fmt: skip
    assert note.status is InvoiceStatus.CREDIT and not note.is_open  # owed to the customer


def test_debt_collection_and_factoring_hand_the_invoice_to_someone_else() -> None:
    collected = [{"id": 9, "type": "DEBT_COLLECTION", "reminderDate": "2026-11-10"}]
    assert m.invoice(invoice_raw(reminders=collected)).handled_by == m.HANDED_TO_DEBT_COLLECTOR
    factored = invoice_raw(customer={"id": 1, "isFactoring": True})
    assert m.invoice(factored).handled_by == m.FACTORING


def test_foreign_currency_keeps_its_own_amounts() -> None:
    inv = m.invoice(invoice_raw(currency={"code": "eur"}, amountCurrency=Decimal("4750"),
                                amountCurrencyOutstanding=Decimal("4750")))  # fmt: skip
    assert inv.currency == "EUR" and inv.gross == Decimal("4750.00")


@pytest.mark.parametrize(
    ("over", "message"),
    [
        ({"amountCurrencyOutstanding": None}, "amountCurrencyOutstanding"),
        ({"invoiceDueDate": "14.10.2026"}, "invoiceDueDate: not a date"),
        ({"invoiceNumber": None}, "invoiceNumber: missing"),
        ({"reminders": [{"type": "PURRING", "reminderDate": "2026-11-01"}]}, "unknown value"),
        ({"reminders": [{"type": "REMINDER"}]}, "reminderDate: missing"),
        ({"amountCurrency": "NaN"}, "not an amount"),
        ({"amountCurrency": "1E100"}, "amount out of range"),  # found by the property test below
        ({"reminders": True}, "reminders: expected a list"),  # found by it too
    ],
)
def test_bad_invoices_raise_a_mapping_error_with_the_id(over: dict[str, Any], message: str) -> None:
    raw = invoice_raw(**over)
    if over.get("amountCurrencyOutstanding", 0) is None:
        del raw["amountCurrencyOutstanding"]
    with pytest.raises(MappingError) as err:
        m.invoice(raw)
    assert err.value.record_id == "2200009" and message in err.value.message


_json = st.recursive(
    st.none() | st.booleans() | st.integers() | st.text(max_size=8),
    lambda inner: (
        st.lists(inner, max_size=3) | st.dictionaries(st.text(max_size=6), inner, max_size=3)
    ),
    max_leaves=10,
)


@settings(suppress_health_check=[HealthCheck.too_slow], deadline=None)
@given(st.dictionaries(st.sampled_from(sorted(invoice_raw())), _json, max_size=6))
def test_any_invoice_payload_maps_or_raises_a_mapping_error(over: dict[str, Any]) -> None:
    try:
        m.invoice(invoice_raw(**over))
    except MappingError:
        pass


@settings(suppress_health_check=[HealthCheck.too_slow], deadline=None)
@given(st.dictionaries(st.sampled_from(sorted(customer_raw())), _json, max_size=6))
def test_any_customer_payload_maps_or_raises_a_mapping_error(over: dict[str, Any]) -> None:
    try:
        m.customer(customer_raw(**over))
    except MappingError:
        pass


# --- the sandbox's fields filter ---------------------------------------------------------------

RECORD = {
    "id": 1,
    "url": "u/1",
    "name": "Æ",
    "customer": {
        "id": 2,
        "url": "u/2",
        "name": "Ø",
        "postalAddress": {"id": 3, "url": "u/3", "city": "Å"},
    },
    "reminders": [{"id": 4, "url": "u/4", "type": "REMINDER"}],
}


def test_fields_default_is_every_field_with_references_for_sub_objects() -> None:
    out = fieldsel.project(RECORD, fieldsel.parse(None))
    assert out["customer"] == {"id": 2, "url": "u/2"}
    assert out["reminders"] == [{"id": 4, "url": "u/4"}] and out["name"] == "Æ"


def test_fields_select_nested_fields_and_star() -> None:
    sel = fieldsel.parse("id,customer(name,postalAddress(city)),reminders(type)")
    assert fieldsel.project(RECORD, sel) == {
        "id": 1,
        "customer": {"name": "Ø", "postalAddress": {"city": "Å"}},
        "reminders": [{"type": "REMINDER"}],
    }
    star = fieldsel.project(RECORD, fieldsel.parse("*,customer(*)"))
    assert star["customer"]["postalAddress"] == {"id": 3, "url": "u/3"} and star["url"] == "u/1"


@pytest.mark.parametrize("text", ["id,nosuch", "customer(nosuch)", "customer(name", "(name)"])
def test_fields_refuse_unknown_names_and_bad_syntax(text: str) -> None:
    with pytest.raises(fieldsel.FieldsError):
        fieldsel.project(RECORD, fieldsel.parse(text))
