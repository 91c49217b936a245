"""Golden tests: realistic Fortnox payloads (shapes from the v3 spec) → canonical models."""

from __future__ import annotations

from datetime import date
from decimal import Decimal

import pytest

from connector.models import Address, ContactPerson, CustomerKind, Dispatch, InvoiceStatus
from mappings import fortnox
from mappings.errors import MappingError

COMPANY_DETAIL = {
    "@url": "https://api.fortnox.se/3/customers/102",
    "Active": True,
    "Address1": "Storgatan 12",
    "Address2": "",
    "City": "Östersund",
    "Country": "Sverige",
    "CountryCode": "SE",
    "Currency": "SEK",
    "CustomerNumber": "102",
    "DeliveryAddress1": "Lagervägen 3",
    "DeliveryCity": "Åre",
    "DeliveryCountry": "Sverige",
    "DeliveryZipCode": "837 52",
    "Email": "info@akerlund.se",
    "EmailInvoice": "faktura@akerlund.se",
    "Name": "Åkerlund & Öhman Bygg AB",
    "OrganisationNumber": "556036-0793",
    "Phone1": "063-12 34 56",
    "Type": "COMPANY",
    "VATNumber": "SE556036079301",
    "YourReference": "Märta Öhman",
    "ZipCode": "831 30",
}

PERSON_DETAIL = {
    "CustomerNumber": "7",
    "Name": "Linnéa Åström",
    "Type": "PRIVATE",
    "OrganisationNumber": "19121212-1212",
    "Address1": "Björkvägen 3",
    "ZipCode": "753 10",
    "City": "Uppsala",
    "Country": "Sverige",
    "CountryCode": "",
    "Email": "",
    "Phone1": "",
    "Phone2": "070-123 45 67",
    "YourReference": "",
    "Active": False,
    "Currency": "SEK",
}

INVOICE_LIST_ITEM = {
    "@url": "https://api.fortnox.se/3/invoices/1042",
    "Balance": 4000.5,
    "Booked": True,
    "Cancelled": False,
    "Currency": "SEK",
    "CurrencyRate": 1,
    "CurrencyUnit": 1,
    "CustomerName": "Åkerlund & Öhman Bygg AB",
    "CustomerNumber": "102",
    "DocumentNumber": "1042",
    "DueDate": "2026-01-31",
    "InvoiceDate": "2026-01-01",
    "InvoiceType": "INVOICE",
    "NoxFinans": False,
    "OCR": "104263",
    "Sent": True,
    "TermsOfPayment": "30",
    "Total": 10000.1,
    "WayOfDelivery": "EMAIL",
}


def test_company_detail_golden() -> None:
    c = fortnox.customer(COMPANY_DETAIL)
    assert c.provider == "fortnox" and c.provider_id == "102" and c.number == "102"
    assert c.name == "Åkerlund & Öhman Bygg AB"  # åäö untouched
    assert c.kind is CustomerKind.COMPANY
    assert c.org_number == "5560360793" and c.national_id is None
    assert c.vat_number == "SE556036079301"
    assert c.invoice_address == Address(
        street="Storgatan 12", postcode="831 30", city="Östersund", country="SE"
    )
    assert c.delivery_address == Address(
        street="Lagervägen 3", postcode="837 52", city="Åre", country="SE"
    )
    assert c.email == "faktura@akerlund.se"  # the invoice address wins for dunning
    assert c.phone == "063-12 34 56"
    assert c.contact_persons == (ContactPerson(name="Märta Öhman"),)
    assert c.active is True and c.currency == "SEK" and c.country == "SE"


def test_person_goes_to_national_id_in_compact_form() -> None:
    c = fortnox.customer(PERSON_DETAIL)
    assert c.kind is CustomerKind.PERSON
    assert c.org_number is None
    assert c.national_id == "191212121212"
    assert c.birth_date == date(1912, 12, 12)
    assert c.invoice_address is not None and c.invoice_address.country == "SE"  # "Sverige"
    assert c.email is None and c.phone == "070-123 45 67"
    assert c.contact_persons == () and c.active is False


def test_short_personnummer_gets_century() -> None:
    assert fortnox.national_id("840517-2381") == ("198405172381", date(1984, 5, 17))
    # An invalid one is kept as digits for validation to report.
    assert fortnox.national_id("840517-2382") == ("8405172382", None)


def test_list_item_without_type_infers_kind_from_identifier() -> None:
    company = {
        "CustomerNumber": "1",
        "Name": "Malmö Måleri AB",
        "OrganisationNumber": "556036-0793",
    }
    person = {"CustomerNumber": "2", "Name": "Åsa Öberg", "OrganisationNumber": "121212-1212"}
    unknown = {"CustomerNumber": "3", "Name": "Utan Nummer AB", "OrganisationNumber": ""}
    assert fortnox.customer(company).kind is CustomerKind.COMPANY
    p = fortnox.customer(person)
    assert p.kind is CustomerKind.PERSON and p.national_id is not None
    u = fortnox.customer(unknown)
    assert u.kind is CustomerKind.COMPANY and u.org_number is None
    assert u.invoice_address is None  # nothing at all given


def test_bad_checksum_org_number_is_kept_for_validation() -> None:
    raw = dict(COMPANY_DETAIL, OrganisationNumber="556036-0794")
    assert fortnox.customer(raw).org_number == "5560360794"


@pytest.mark.parametrize(
    ("patch", "message"),
    [
        ({"Type": "ROBOT"}, "Type"),
        ({"Name": "  "}, "Name"),
        ({"Active": "maybe"}, "Active"),
        ({"Currency": "KRONOR"}, "Currency"),
    ],
)
def test_customer_bad_values_raise_mapping_error(patch: dict, message: str) -> None:
    with pytest.raises(MappingError) as err:
        fortnox.customer(dict(COMPANY_DETAIL, **patch))
    assert err.value.kind == "customer" and err.value.record_id == "102"
    assert message in err.value.message


def test_invoice_list_item_golden() -> None:
    inv = fortnox.invoice(INVOICE_LIST_ITEM)
    assert inv.provider_id == "1042" and inv.number == "1042"
    assert inv.customer_id == "102" and inv.customer_name == "Åkerlund & Öhman Bygg AB"
    assert inv.issue_date == date(2026, 1, 1) and inv.due_date == date(2026, 1, 31)
    assert inv.gross == Decimal("10000.1") and inv.outstanding == Decimal("4000.5")
    assert isinstance(inv.gross, Decimal)
    assert inv.status is InvoiceStatus.OPEN and inv.is_open
    assert inv.payment_reference == "104263"
    assert inv.sent and inv.booked and inv.handled_by is None
    assert inv.reminders_sent == 0 and inv.last_reminded is None and inv.dispatches == ()


def test_invoice_detail_with_fortnox_reminders_and_finans() -> None:
    raw = dict(
        INVOICE_LIST_ITEM,
        Reminders=2,
        LastRemindDate="2026-02-15",
        NoxFinans=True,
        Credit="false",
        CreditInvoiceReference="0",
        OrganisationNumber="556036-0793",
    )
    inv = fortnox.invoice(raw)
    assert inv.reminders_sent == 2 and inv.last_reminded == date(2026, 2, 15)
    assert inv.dispatches == (Dispatch(on=date(2026, 2, 15), channel="unknown", kind="reminder"),)
    assert inv.handled_by == "fortnox_finans"
    assert inv.credit_note_ids == ()


@pytest.mark.parametrize(
    ("patch", "status"),
    [
        ({"Cancelled": True, "Balance": 0}, InvoiceStatus.CANCELLED),
        ({"Booked": False}, InvoiceStatus.DRAFT),
        ({"Balance": 0}, InvoiceStatus.PAID),
        ({"Balance": 0, "CreditInvoiceReference": "1077"}, InvoiceStatus.CREDITED),
        ({"Balance": -50.0}, InvoiceStatus.CREDIT),  # owed to the customer, never "paid"
    ],
)
def test_invoice_status(patch: dict, status: InvoiceStatus) -> None:
    inv = fortnox.invoice(dict(INVOICE_LIST_ITEM, **patch))
    assert inv.status is status
    assert not inv.is_open


def test_credited_invoice_keeps_credit_note_id() -> None:
    inv = fortnox.invoice(dict(INVOICE_LIST_ITEM, Balance=0, CreditInvoiceReference="1077"))
    assert inv.credit_note_ids == ("1077",)


def test_credit_invoice_is_never_open() -> None:
    raw = dict(
        INVOICE_LIST_ITEM,
        Credit="true",
        Total=-500.0,
        Balance=-500.0,
        CreditInvoiceReference="1042",
    )
    inv = fortnox.invoice(raw)
    assert inv.gross == Decimal("-500.0") and not inv.is_open and inv.credit_note_ids == ()


def test_eur_invoice_amounts_stay_in_eur() -> None:
    inv = fortnox.invoice(
        dict(INVOICE_LIST_ITEM, Currency="EUR", Total=2450.75, Balance=2450.75, CurrencyRate=11.5)
    )
    assert inv.currency == "EUR" and inv.outstanding == Decimal("2450.75")


def test_amounts_parsed_from_decimal_and_string_without_float_error() -> None:
    inv = fortnox.invoice(dict(INVOICE_LIST_ITEM, Total="0.30", Balance=Decimal("0.1") * 3))
    assert inv.gross == Decimal("0.30") and inv.outstanding == Decimal("0.3")


@pytest.mark.parametrize(
    ("patch", "message"),
    [
        ({"DueDate": "31.01.2026"}, "DueDate"),
        ({"DueDate": None}, "DueDate"),
        ({"Total": "tusen"}, "Total"),
        ({"Currency": ""}, "Currency"),
        ({"Reminders": "två"}, "Reminders"),
        ({"Cancelled": 3}, "Cancelled"),
    ],
)
def test_invoice_bad_values_raise_mapping_error(patch: dict, message: str) -> None:
    with pytest.raises(MappingError) as err:
        fortnox.invoice(dict(INVOICE_LIST_ITEM, **patch))
    assert err.value.kind == "invoice" and err.value.record_id == "1042"
    assert message in err.value.message


def test_missing_ids_raise() -> None:
    with pytest.raises(MappingError):
        fortnox.invoice({k: v for k, v in INVOICE_LIST_ITEM.items() if k != "DocumentNumber"})
    with pytest.raises(MappingError):
        fortnox.customer({"Name": "Ingen AB"})


def test_needs_detail_only_for_open_list_items() -> None:
    assert fortnox.needs_detail(INVOICE_LIST_ITEM)
    assert not fortnox.needs_detail(dict(INVOICE_LIST_ITEM, Balance=0))
    assert not fortnox.needs_detail(dict(INVOICE_LIST_ITEM, Cancelled=True))
    assert not fortnox.needs_detail(dict(INVOICE_LIST_ITEM, Reminders=0))  # already a detail


def test_every_sandbox_record_maps() -> None:
    from providers.fortnox.sandbox import seed

    today = date(2026, 3, 2)
    for n in range(1, 200):
        fortnox.customer(seed.customer_detail(n, today))
        fortnox.customer(seed.customer_list_item(n, today))
    for n in range(1, 400):
        detail = seed.invoice_detail(n, today, 199)
        assert fortnox.invoice(detail).number == str(n)
        fortnox.invoice(seed.invoice_list_item(detail))
