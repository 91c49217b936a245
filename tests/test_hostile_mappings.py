"""Hostile provider data: every record goes through a strict but forgiving mapping.

A record that does not fit is skipped with its id and a ``record.malformed`` finding; the rest
of the page is stored; nothing raises past the record. Each case below is one the tester's 47
probes found (issue 12), run through the real pull into a real store.
"""

from __future__ import annotations

import json
from datetime import timedelta
from decimal import Decimal

import pytest
from hostile_support import TODAY, contact, invoice, pull_fiken

from connector.clock import Clock
from connector.cycle.validate import check_tenant
from connector.models import InvoiceStatus
from connector.store import SqliteStore
from mappings import fiken, fortnox
from mappings.common import MAX_TEXT, normalise
from mappings.errors import MappingError
from providers.base import RecordError, map_record


@pytest.fixture
def clock() -> Clock:
    return Clock.starting_at(TODAY)


@pytest.fixture
def store(tmp_path, clock: Clock) -> SqliteStore:  # type: ignore[no-untyped-def]
    return SqliteStore(str(tmp_path / "state.db"), clock)


# --- wrong types ----------------------------------------------------------------------------

WRONG_TYPES = [
    ("invoice", {"attachments": 7}, "attachments: expected a list"),
    ("invoice", {"dispatches": 3}, "dispatches: expected a list"),
    ("invoice", {"associatedCreditNotes": 12}, "associatedCreditNotes: expected a list"),
    ("customer", {"contactPerson": 5}, "contactPerson: expected a list"),
    ("customer", {"address": {"country": 578, "city": "Oslo"}}, "address.country: expected text"),
    ("customer", {"name": {"first": "Ola", "last": "Nordmann"}}, "name: expected text, got dict"),
    ("customer", {"inactive": "false"}, "inactive: not a boolean"),
    ("invoice", {"gross": 10**30}, "gross: amount out of range"),
    ("invoice", {"sentManually": "yes"}, "sentManually: not a boolean"),
    ("invoice", {"attachments": [17]}, "attachments[0]: expected an object"),
]


@pytest.mark.parametrize(("kind", "patch", "message"), WRONG_TYPES)
def test_a_record_of_the_wrong_shape_is_one_skipped_record_naming_its_field(
    kind: str, patch: dict, message: str
) -> None:
    raw = contact(4242, **patch) if kind == "customer" else invoice(4242, **patch)
    mapper = fiken.customer if kind == "customer" else fiken.invoice
    with pytest.raises(MappingError):
        mapper(raw)
    result = map_record(kind, mapper, raw)
    assert isinstance(result, RecordError)
    assert result.record_id == "4242"
    assert message in result.message


def test_an_amount_of_ten_to_the_thirty_ore_in_the_sale_is_skipped_not_invalid_operation() -> None:
    raw = invoice(9)
    raw["sale"]["outstandingBalance"] = 10**30
    result = map_record("invoice", fiken.invoice, raw)
    assert isinstance(result, RecordError) and "out of range" in result.message


def test_fortnox_wrong_types_and_huge_amounts_are_skipped() -> None:
    base = {"DocumentNumber": "77", "InvoiceDate": "2026-10-01", "DueDate": "2026-10-31",
            "Currency": "SEK", "Total": "100", "Balance": "100"}  # fmt: skip
    for patch in (
        {"Balance": "1e30"},
        {"Balance": "NaN"},
        {"Balance": "0." + "0" * 30 + "1"},
        {"Booked": "false"},
        {"Cancelled": 0},
        {"CustomerName": ["x"]},
        {"Reminders": "lots"},
    ):
        assert isinstance(map_record("invoice", fortnox.invoice, {**base, **patch}), RecordError)
    customer = {"CustomerNumber": "5", "Name": "Skog AB", "Active": "false"}
    assert isinstance(map_record("customer", fortnox.customer, customer), RecordError)
    assert isinstance(
        map_record("customer", fortnox.customer, {**customer, "Active": True, "CountryCode": 46}),
        RecordError,
    )


# --- bad values -----------------------------------------------------------------------------


def test_a_lone_surrogate_in_a_name_is_replaced_and_the_customer_stores(
    store: SqliteStore, clock: Clock
) -> None:
    body = json.dumps([contact(1, name="Bj\ud800rn AS")])  # "\ud800" stays a lone surrogate
    result = pull_fiken(store, clock, [body])
    assert result.ok and result.customers == 1
    assert store.customer("fjord", "1").name == "Bj\ufffdrn AS"  # type: ignore[union-attr]


def test_json_nested_200_000_deep_fails_the_tenant_with_one_line_not_recursion_error(
    store: SqliteStore, clock: Clock
) -> None:
    deep = '[{"contactId": 1, "name": ' + "[" * 200_000 + "]" * 200_000 + "}]"
    result = pull_fiken(store, clock, [deep])
    assert not result.ok
    assert result.error and "nested too deep" in result.error and "\n" not in result.error
    run = store.last_run("fjord")
    assert run is not None and run.outcome == "failed" and run.error


def test_a_deeply_nested_value_inside_one_record_costs_that_record_only() -> None:
    nested: object = "x"
    for _ in range(500):
        nested = [nested]
    result = map_record("customer", fiken.customer, contact(3, name=nested))
    assert isinstance(result, RecordError) and result.record_id == "3"
    assert len(result.message) < 400


def test_a_negative_balance_is_a_credit_never_paid() -> None:
    raw = invoice(11)
    raw["sale"]["outstandingBalance"] = -50000
    inv = fiken.invoice(raw)
    assert inv.status is InvoiceStatus.CREDIT and not inv.is_open
    raw["sale"]["settled"] = True
    assert fiken.invoice(raw).status is InvoiceStatus.CREDIT
    se = {"DocumentNumber": "8", "InvoiceDate": "2026-10-01", "DueDate": "2026-10-31",
          "Currency": "SEK", "Total": "100", "Balance": "-25.00"}  # fmt: skip
    assert fortnox.invoice(se).status is InvoiceStatus.CREDIT


def test_booleans_only_as_booleans() -> None:
    assert fiken.customer(contact(1, inactive=True)).active is False
    assert fiken.customer(contact(1, inactive=False)).active is True
    for fake in ("false", "true", 0, 1, "", [], {}):
        assert isinstance(map_record("customer", fiken.customer, contact(1, inactive=fake)), RecordError)


# --- text normalised --------------------------------------------------------------------------


def test_a_one_megabyte_name_is_capped_and_control_characters_are_stripped(
    store: SqliteStore, clock: Clock
) -> None:
    huge = "Æ" * 1_000_000
    hostile = "Evil\x1b[31m AS\x1b]0;pwned\x07\r\nPAID IN FULL\u202e\x00"
    result = pull_fiken(store, clock, [[contact(1, name=huge), contact(2, name=hostile)]])
    assert result.ok and result.customers == 2
    capped = store.customer("fjord", "1")
    assert capped is not None and len(capped.name) == MAX_TEXT and capped.name.endswith("…")
    clean = store.customer("fjord", "2")
    assert clean is not None
    assert clean.name == "Evil[31m AS]0;pwned PAID IN FULL"
    assert not any(ord(ch) < 32 or 0x7F <= ord(ch) < 0xA0 for ch in clean.name)


def test_normalise_keeps_nordic_letters_exactly() -> None:
    for name in ("Ærlig Bakeri AS", "Bjørg Løvås-Åsen", "Åsa Öberg Ängel", "Ståle Ødegård ENK"):
        assert normalise(name) == name


# --- the rest of the page is stored, the skipped ones become findings ----------------------------


def test_bad_records_are_skipped_with_ids_and_findings_and_the_rest_of_the_page_is_stored(
    store: SqliteStore, clock: Clock
) -> None:
    page = [
        contact(1, name="God Kunde AS"),
        contact(2, contactPerson=5),
        contact(3, address={"country": 47}),
        contact(4, name={"a": 1}),
        contact(5, inactive="false"),
        contact(6, name="Også God AS"),
    ]
    invoices = [invoice(10), invoice(11, attachments=1), invoice(12, dispatches=2), invoice(13)]
    result = pull_fiken(store, clock, [page], [invoices])
    assert result.ok
    assert {c.provider_id for c in store.customers("fjord")} == {"1", "6"}
    assert store.open_invoice_ids("fjord") == {"10", "13"}
    assert sorted((e.kind, e.record_id) for e in result.skipped) == [
        ("customer", "2"), ("customer", "3"), ("customer", "4"), ("customer", "5"),
        ("invoice", "11"), ("invoice", "12"),
    ]  # fmt: skip
    check_tenant(_tenant(), store, today=TODAY)
    malformed = [f for f in store.findings("fjord") if f["code"] == "record.malformed"]
    assert len(malformed) == 6
    assert {f["customer_id"] for f in malformed if f["field"] == "customer"} == {"2", "3", "4", "5"}
    assert all(f["severity"] == "warning" for f in malformed)


def test_a_record_fixed_at_the_provider_clears_its_finding(store: SqliteStore, clock: Clock) -> None:
    assert pull_fiken(store, clock, [[contact(2, inactive="false")]]).ok
    check_tenant(_tenant(), store, today=TODAY)
    assert any(f["code"] == "record.malformed" for f in store.findings("fjord"))
    clock.advance(timedelta(hours=1))
    assert pull_fiken(store, clock, [[contact(2, inactive=False)]]).ok
    check_tenant(_tenant(), store, today=TODAY)
    assert not any(f["code"] == "record.malformed" for f in store.findings("fjord"))
    assert store.customer("fjord", "2") is not None


def test_amounts_are_exact_and_bounded() -> None:
    raw = invoice(20)
    raw["sale"]["outstandingBalance"] = 10**16  # 10^14 kroner: absurd, but below the bound
    assert fiken.invoice(raw).outstanding == Decimal("100000000000000.00")


def _tenant():  # type: ignore[no-untyped-def]
    from hostile_support import tenant

    return tenant()
