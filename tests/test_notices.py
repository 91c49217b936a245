"""Reminder and collection letters: wording per country and stage, exact amounts, the law's
statements, no national ids, and a PDF that keeps æøå/åäö."""

from __future__ import annotations

import re
from datetime import date
from decimal import Decimal
from typing import Any

import pytest

from connector.models import (
    ActionStage,
    Address,
    Customer,
    CustomerKind,
    Invoice,
    InvoiceStatus,
    ReminderAction,
)
from connector.render.notices import Creditor, find_unicode_font, latin1, money, render_letter
from providers.base import Letter

TODAY = date(2026, 3, 10)
NATIONAL_ID = "01017012345"
CREDITOR_NO = Creditor(
    "Nordlys Regnskap AS", "912 345 678", "15035012348", "Storgata 14, 9008 Tromsø"
)
CREDITOR_SE = Creditor("Fjällräv Konsult AB", "556677-8899", "Bankgiro 123-4567", "Storgatan 1")


def customer(country: str = "NO", *, kind: CustomerKind = CustomerKind.COMPANY) -> Customer:
    return Customer(
        provider="fiken",
        provider_id="2747000",
        number="10001",
        name="Ærlig Bakeri AS" if country == "NO" else "Åkerö Fönsterputs AB",
        kind=kind,
        national_id=NATIONAL_ID,
        birth_date=date(1970, 1, 1),
        invoice_address=Address(
            street="Smøråsvegen 41" if country == "NO" else "Östra vägen 3",
            postcode="5232",
            city="Paradis",
            country=country,
        ),
    )


def invoice(
    number: str = "10013", outstanding: str = "4375.00", kid: str = "100010100135"
) -> Invoice:
    return Invoice(
        provider="fiken",
        provider_id=f"id{number}",
        number=number,
        customer_id="2747000",
        issue_date=date(2026, 1, 20),
        due_date=date(2026, 2, 3),
        currency="NOK",
        gross=Decimal(outstanding),
        outstanding=Decimal(outstanding),
        status=InvoiceStatus.OPEN,
        payment_reference=kid,
    )


def action(
    inv: Invoice,
    stage: ActionStage,
    *,
    fee: str = "0",
    interest: str = "0",
    compensation: str = "0",
    deadline: date | None = date(2026, 3, 24),
    currency: str = "NOK",
) -> ReminderAction:
    return ReminderAction(
        tenant="acme",
        invoice_id=inv.provider_id,
        invoice_number=inv.number,
        customer_id=inv.customer_id,
        stage=stage,
        planned_on=TODAY,
        deadline=deadline,
        fee=Decimal(fee),
        interest=Decimal(interest),
        compensation=Decimal(compensation),
        currency=currency,
        outstanding=inv.outstanding,
    )


def letter(
    country: str,
    stage: ActionStage,
    invoices: list[Invoice],
    actions: list[ReminderAction],
    **kw: Any,
) -> Letter:
    return render_letter(
        tenant="acme",
        country=country,
        creditor=CREDITOR_NO if country == "NO" else CREDITOR_SE,
        customer=customer(country),
        stage=stage,
        currency="NOK" if country == "NO" else "SEK",
        actions=actions,
        invoices=invoices,
        today=TODAY,
        **{"font_path": "", **kw},  # the fast core font unless a test asks for another
    )


# --- amounts -------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("amount", "currency", "expected"),
    [
        ("1234.5", "NOK", "1 234,50 kr"),
        ("38", "NOK", "38,00 kr"),
        ("1234567.005", "SEK", "1 234 567,01 kr"),
        ("0.004", "NOK", "0,00 kr"),
        ("-470", "NOK", "-470,00 kr"),
        ("950", "EUR", "950,00 EUR"),
    ],
)
def test_money_is_written_the_nordic_way(amount: str, currency: str, expected: str) -> None:
    assert money(Decimal(amount), currency) == expected


# --- Norwegian letters ---------------------------------------------------------------------------


def test_purring_carries_every_figure_and_the_exact_total() -> None:
    inv = invoice()
    act = action(inv, ActionStage.REMINDER, fee="38", interest="52.73")
    got = letter("NO", ActionStage.REMINDER, [inv], [act])
    text = got.text
    assert "PURRING" in text and got.subject.startswith("Purring – faktura 10013")
    for expected in (
        "Faktura 10013",
        "Forfallsdato: 03.02.2026",
        "Utestående: 4 375,00 kr",
        "Purregebyr: 38,00 kr",
        "Forsinkelsesrente per 10.03.2026: 52,73 kr",
        "KID: 100010100135",
        "Å betale: 4 465,73 kr",
        "Totalt å betale: 4 465,73 kr",
        "innen 24.03.2026",
        "Betales til konto 1503.50.12348",
        "Ærlig Bakeri AS",
        "Smøråsvegen 41",
        "5232 Paradis",
    ):
        assert expected in text, expected
    assert "inkasso" not in text.lower()  # a purring threatens nothing
    assert got.filename == "purring-10013.pdf"
    assert got.actions == (act,) and got.key == act.idempotency_key


def test_inkassovarsel_says_the_claim_goes_to_inkasso_after_the_deadline() -> None:
    inv = invoice()
    act = action(inv, ActionStage.COLLECTION_NOTICE, fee="38", compensation="470")
    text = letter("NO", ActionStage.COLLECTION_NOTICE, [inv], [act]).text
    assert "INKASSOVARSEL" in text
    assert "Dersom kravet ikke er betalt innen 24.03.2026, vil det bli sendt til inkasso" in text
    assert "inkassoloven § 9" in text
    assert "Betalingsfrist: 24.03.2026" in text
    assert "Gebyr for inkassovarsel: 38,00 kr" in text
    assert "Standardkompensasjon (forsinkelsesrenteloven § 3a): 470,00 kr" in text
    assert "Totalt å betale: 4 883,00 kr" in text


def test_handover_is_an_internal_note_without_payment_request() -> None:
    inv = invoice()
    act = action(inv, ActionStage.HANDOVER, deadline=None)
    got = letter("NO", ActionStage.HANDOVER, [inv], [act])
    assert "OVERFØRT TIL INKASSO" in got.text
    assert "sendes ikke til kunden" in got.text
    assert "Betales til konto" not in got.text
    assert got.pdf.startswith(b"%PDF")


def test_one_letter_covers_several_invoices_with_the_earliest_deadline() -> None:
    a, b = invoice("10013", "100.10"), invoice("10014", "2000.00", kid="100010100143")
    acts = [
        action(a, ActionStage.COLLECTION_NOTICE, fee="38", deadline=date(2026, 3, 26)),
        action(b, ActionStage.COLLECTION_NOTICE, interest="0.33", deadline=date(2026, 3, 24)),
    ]
    got = letter("NO", ActionStage.COLLECTION_NOTICE, [a, b], acts)
    assert "Faktura 10013" in got.text and "Faktura 10014" in got.text
    assert "KID: 100010100143" in got.text
    assert "Totalt å betale: 2 138,43 kr" in got.text  # 138.10 + 2000.33
    assert "innen 24.03.2026, vil det bli sendt til inkasso" in got.text
    assert "Frist: 26.03.2026" in got.text  # each invoice's own deadline, as they differ
    assert got.filename == "inkassovarsel-10013-10014.pdf"
    assert got.key == "+".join(x.idempotency_key for x in acts)


# --- Swedish letters -----------------------------------------------------------------------------


def test_betalningspaminnelse_in_swedish() -> None:
    inv = invoice()
    act = action(inv, ActionStage.REMINDER, fee="60", interest="10.5", currency="SEK")
    text = letter("SE", ActionStage.REMINDER, [inv], [act]).text
    for expected in (
        "BETALNINGSPÅMINNELSE",
        "Förfallodag: 03.02.2026",
        "Påminnelseavgift: 60,00 kr",
        "Dröjsmålsränta per 10.03.2026: 10,50 kr",
        "OCR: 100010100135",
        "Totalt att betala: 4 445,50 kr",
        "senast 24.03.2026",
        "Betala till Bankgiro 123-4567",
        "Åkerö Fönsterputs AB",
    ):
        assert expected in text, expected
    assert "Kronofogde" not in text


def test_inkassokrav_names_the_consequences_and_where_to_object() -> None:
    inv = invoice()
    act = action(inv, ActionStage.COLLECTION_NOTICE, compensation="450", currency="SEK")
    text = letter("SE", ActionStage.COLLECTION_NOTICE, [inv], [act]).text
    assert "INKASSOKRAV" in text
    assert "Om betalning inte sker senast 24.03.2026" in text
    assert "Kronofogdemyndigheten" in text and "inkassolagen 5 §" in text
    assert "invändningar mot kravet ska du framföra dem till oss före 24.03.2026" in text
    assert "Fjällräv Konsult AB, Storgatan 1" in text
    assert "Förseningsersättning (lag 1981:739, 4 a §): 450,00 kr" in text


# --- what never appears, and what is refused -----------------------------------------------------


@pytest.mark.parametrize("stage", list(ActionStage))
@pytest.mark.parametrize("country", ["NO", "SE"])
def test_national_id_never_appears(country: str, stage: ActionStage) -> None:
    inv = invoice()
    act = action(inv, stage, currency="NOK" if country == "NO" else "SEK")
    got = letter(country, stage, [inv], [act], font_path="", compress=False)
    for secret in (NATIONAL_ID, "01.01.1970", "1970-01-01"):
        assert secret not in got.text
        assert secret.encode("latin-1") not in got.pdf


def test_actions_must_match_their_invoices() -> None:
    a, b = invoice("1"), invoice("2")
    with pytest.raises(ValueError, match="one action per invoice"):
        letter("NO", ActionStage.REMINDER, [a, b], [action(a, ActionStage.REMINDER)])
    with pytest.raises(ValueError, match="does not match"):
        letter("NO", ActionStage.REMINDER, [b], [action(a, ActionStage.REMINDER)])
    with pytest.raises(ValueError, match="does not match"):
        letter("NO", ActionStage.REMINDER, [a], [action(a, ActionStage.COLLECTION_NOTICE)])
    with pytest.raises(ValueError, match="no letter wording"):
        render_letter(
            tenant="t",
            country="DK",
            creditor=CREDITOR_NO,
            customer=None,
            stage=ActionStage.REMINDER,
            currency="NOK",
            actions=[action(a, ActionStage.REMINDER)],
            invoices=[a],
            today=TODAY,
        )


# --- the PDF -------------------------------------------------------------------------------------


def test_core_font_pdf_keeps_aeoeaa_in_its_text() -> None:
    inv = invoice()
    act = action(inv, ActionStage.REMINDER, fee="38")
    got = letter("NO", ActionStage.REMINDER, [inv], [act], font_path="", compress=False)
    assert got.pdf.startswith(b"%PDF")
    shown = b"".join(re.findall(rb"\((.*?)\) Tj", got.pdf)).decode("latin-1")
    for expected in ("Ærlig Bakeri AS", "Smøråsvegen 41", "Tromsø", "PURRING", "4 413,00 kr"):
        assert expected in shown, expected


def test_latin1_folding_keeps_nordic_letters() -> None:
    folded = latin1("Ærlig Øst Åsane Äpple Öl – Dvořák €5 Ł")
    assert folded == "Ærlig Øst Åsane Äpple Öl - Dvorák EUR5 ?"


def test_unicode_font_pdf_embeds_the_nordic_glyphs() -> None:
    font = find_unicode_font()
    if font is None:
        pytest.skip("no Unicode TTF on this machine (the core-font fallback is tested above)")
    inv = invoice()
    act = action(inv, ActionStage.REMINDER)
    got = letter("NO", ActionStage.REMINDER, [inv], [act], font_path=None, compress=False)
    assert got.pdf.startswith(b"%PDF") and b"/FontFile2" in got.pdf
    # the subset's ToUnicode map holds Æ, ø and å: the names are drawn with real glyphs
    for code in (b"<00C6>", b"<00F8>", b"<00E5>"):
        assert code in got.pdf


def test_same_letter_gives_the_same_bytes() -> None:
    inv = invoice()
    act = action(inv, ActionStage.REMINDER, fee="38")
    first = letter("NO", ActionStage.REMINDER, [inv], [act], font_path=None)
    assert letter("NO", ActionStage.REMINDER, [inv], [act], font_path=None).pdf == first.pdf
