"""Dated tables, business days, grouping and the plan JSON."""

from __future__ import annotations

import json
from datetime import date
from decimal import Decimal

import pytest
from test_policy_support import COMPANY, PERSON, D, N, R, invoice, run, taken

from connector.models import ReminderAction
from connector.policy import (
    PolicySettings,
    TakenAction,
    group_actions,
    is_business_day,
    next_business_day,
    plan,
    plan_document,
    plan_item,
    rules_for,
)
from connector.policy.tables import DatedTable, Evidence, Period


def test_dated_table_never_falls_back_to_another_periods_figure() -> None:
    t = DatedTable(
        "rate",
        (
            Period(date(2026, 1, 1), Decimal("10.00"), "a"),
            Period(date(2026, 7, 1), Decimal("9.00"), "b", Evidence.UNVERIFIED),
            Period(date(2027, 1, 1), None, "?"),
        ),
        until=date(2027, 6, 30),
        advice="run `kravsync rates update`",
    )
    assert t.at(date(2025, 12, 31)).value is None
    assert t.at(date(2026, 6, 30)).value == Decimal("10.00") and t.at(date(2026, 6, 30)).note is None
    unverified = t.at(date(2026, 8, 1))
    assert unverified.value is None
    assert unverified.note == (
        "rate 9.00 from 2026-07-01 is unverified and not used (run `kravsync rates update`)"
    )
    assert t.at(date(2027, 3, 1)).value is None
    late = t.at(date(2027, 7, 1))
    assert late.value is None
    assert late.note == "rate after 2027-06-30 is not known yet (run `kravsync rates update`)"
    pieces = t.segments(date(2026, 6, 1), date(2027, 7, 2))
    assert [(a.isoformat(), b.isoformat(), look.value) for a, b, look in pieces] == [
        ("2026-06-01", "2026-06-30", Decimal("10.00")),
        ("2026-07-01", "2026-12-31", None),
        ("2027-01-01", "2027-06-30", None),
        ("2027-07-01", "2027-07-02", None),
    ]


def test_tables_refuse_unordered_periods() -> None:
    with pytest.raises(ValueError):
        DatedTable("x", (Period(date(2026, 2, 1), 1, "a"), Period(date(2026, 1, 1), 2, "b")))


# every figure of the built-in tables: (country, day, table, value or None when not used, evidence)
FIGURES = [
    ("NO", date(2025, 12, 31), "reminder_fee_cap", "35", "verified"),
    ("NO", date(2026, 1, 1), "reminder_fee_cap", "38", "secondary"),
    ("NO", date(2024, 1, 1), "interest_rate", "12.50", "verified"),
    ("NO", date(2024, 7, 1), "interest_rate", "12.50", "derived"),
    ("NO", date(2025, 3, 1), "interest_rate", "12.50", "verified"),
    ("NO", date(2025, 7, 1), "interest_rate", "12.25", "derived"),
    ("NO", date(2026, 1, 1), "interest_rate", "12.00", "derived"),
    ("NO", date(2026, 7, 1), "interest_rate", None, "unverified"),  # 12.25 per one third party
    ("NO", date(2027, 1, 1), "interest_rate", None, None),
    ("NO", date(2024, 1, 1), "compensation", "470", "verified"),
    ("NO", date(2024, 7, 1), "compensation", None, "unverified"),  # 460
    ("NO", date(2025, 1, 1), "compensation", "470", "verified"),
    ("NO", date(2025, 7, 1), "compensation", None, "unverified"),  # 460
    ("NO", date(2026, 1, 1), "compensation", "460", "secondary"),
    ("NO", date(2026, 7, 1), "compensation", None, "unverified"),  # 430
    ("SE", date(2024, 1, 1), "interest_rate", "12.00", "secondary"),
    ("SE", date(2024, 7, 1), "interest_rate", "12.00", "secondary"),
    ("SE", date(2025, 1, 1), "interest_rate", "11.00", "derived"),  # 3.00, not 2.50
    ("SE", date(2025, 7, 1), "interest_rate", "10.00", "secondary"),
    ("SE", date(2026, 1, 1), "interest_rate", "10.00", "derived"),
    ("SE", date(2026, 7, 1), "interest_rate", None, None),
    ("SE", date(2026, 1, 1), "reminder_fee_cap", "60", "verified"),
    ("SE", date(2026, 1, 1), "notice_fee_cap", "180", "verified"),
    ("SE", date(2026, 1, 1), "compensation", "450", "verified"),
]


@pytest.mark.parametrize("country,day,figure,value,evidence", FIGURES)
def test_built_in_figures_and_their_evidence(country, day, figure, value, evidence) -> None:
    look = getattr(rules_for(country), figure).at(day)
    assert look.value == (Decimal(value) if value else None)
    assert (look.evidence.value if look.evidence else None) == evidence
    assert look.source or look.note


def test_every_row_of_the_rules_carries_a_checkable_source() -> None:
    import re

    checkable = re.compile(r"§|FOR-\d{4}|lag \(|\.no|\.se|IMY|Riksbank|Norges Bank|kravsync")
    for country in ("NO", "SE"):
        rules = rules_for(country)
        for name, table in rules.tables():
            for p in table.periods:
                assert checkable.search(p.source), (country, name, p.source)
        for name, text in rules.citations():
            assert checkable.search(text), (country, name, text)


@pytest.mark.parametrize(
    "country,day,open_",
    [
        ("NO", date(2026, 5, 17), False),  # Sunday and Constitution Day
        ("NO", date(2027, 5, 17), False),  # Monday, Constitution Day
        ("NO", date(2026, 4, 2), False),  # Maundy Thursday
        ("NO", date(2026, 12, 24), False),  # banks closed
        ("NO", date(2026, 6, 19), True),
        ("SE", date(2026, 6, 19), False),  # Midsummer Eve, de facto
        ("SE", date(2026, 12, 31), False),  # New Year's Eve, de facto
        ("SE", date(2026, 6, 6), False),  # National Day (Saturday anyway)
        ("SE", date(2026, 4, 2), True),  # Maundy Thursday is a working day in Sweden
    ],
)
def test_business_days(country, day, open_) -> None:
    assert is_business_day(country, day) is open_


def test_next_business_day_over_easter() -> None:
    assert next_business_day("NO", date(2026, 4, 2)) == date(2026, 4, 7)
    assert next_business_day("SE", date(2026, 4, 3)) == date(2026, 4, 7)


def _action(iid: str, cid: str | None, stage=R, currency="NOK", amount="100.00") -> ReminderAction:
    return ReminderAction(
        tenant="t",
        invoice_id=iid,
        invoice_number=f"N{iid}",
        customer_id=cid,
        stage=stage,
        planned_on=date(2026, 3, 16),
        deadline=date(2026, 3, 30),
        fee=D("38"),
        interest=D("1.25"),
        currency=currency,
        outstanding=D(amount),
    )


def test_group_per_customer_stage_currency() -> None:
    messages = group_actions(
        [
            _action("1", "c1"),
            _action("2", "c1", amount="250.50"),
            _action("3", "c1", stage=N),
            _action("4", "c1", currency="EUR"),
            _action("5", "c2"),
            _action("6", None),
            _action("7", None),
        ]
    )
    assert [m.invoice_numbers for m in messages] == [
        ("N1", "N2"),
        ("N3",),
        ("N4",),
        ("N5",),
        ("N6",),
        ("N7",),
    ]
    first = messages[0]
    assert (first.outstanding, first.fee, first.interest) == (D("350.50"), D("76"), D("2.50"))
    assert first.total == D("350.50") + D("76") + D("2.50")


def test_plan_json_item_and_skipped() -> None:
    settings = PolicySettings.for_country("NO", {"due_dates_agreed": True}, on=date(2026, 3, 9))
    decisions = plan(
        [invoice(date(2026, 2, 3), iid="a"), invoice(date(2026, 3, 20), iid="b")],
        tenant="t",
        country="NO",
        settings=settings,
        today=date(2026, 3, 9),
        customers={"c1": COMPANY},
        history={"a": [taken(R, date(2026, 2, 17), date(2026, 3, 3), "38")]},
    )
    doc = json.loads(json.dumps(plan_document(decisions, "t", include_skipped=True)))
    (item,) = doc["actions"]
    assert item == {
        "tenant": "t",
        "invoice_id": "a",
        "invoice_number": "Na",
        "customer_number": "10001",
        "stage": "collection_notice",
        "planned_on": "2026-03-09",
        "deadline": "2026-03-23",
        "fee": "0.00",
        "interest": "11.18",
        "compensation": "422.00",
        "currency": "NOK",
        "outstanding": "1000.00",
        "reason": item["reason"],
    }
    assert "inkassovarsel" in item["reason"]
    (skipped,) = doc["skipped"]
    assert (
        skipped["outcome"] == "not_overdue" and skipped["reason"] == "not overdue (due 2026-03-20)"
    )
    assert set(plan_item(decisions[0].action)) >= {  # type: ignore[arg-type]
        "tenant",
        "invoice_id",
        "invoice_number",
        "customer_number",
        "stage",
        "planned_on",
        "deadline",
        "fee",
        "interest",
        "currency",
        "outstanding",
        "reason",
    }


def test_plan_applies_customer_notes_and_blocking_by_customer_id() -> None:
    from test_policy_support import note

    from connector.models import NoteKind

    settings = PolicySettings.for_country("NO", {}, on=date(2026, 3, 9))
    hold = note(NoteKind.PAYMENT_PLAN, invoice_id=None, customer_id="c2", until=date(2026, 6, 30))
    invs = [invoice(date(2026, 2, 3), iid=i, cid=c) for i, c in (("a", "c1"), ("b", "c2"))]
    history = {i: [taken(R, date(2026, 2, 17), date(2026, 3, 3), "38")] for i in ("a", "b")}
    out = plan(
        invs,
        tenant="t",
        country="NO",
        settings=settings,
        today=date(2026, 3, 9),
        customers={"c1": PERSON},
        history=history,
        notes=[hold],
        blocking={"c1": ["address.missing"]},
    )
    assert [d.outcome.value for d in out] == ["blocked", "on_hold"]


def test_taken_action_from_journal() -> None:
    d = run(invoice(date(2026, 2, 3)), date(2026, 2, 17))
    assert d.action is not None
    t = TakenAction.from_action(d.action)
    assert (t.stage, t.sent_on, t.deadline, t.fee) == (
        R,
        date(2026, 2, 17),
        date(2026, 3, 3),
        D("38"),
    )
    again = run(invoice(date(2026, 2, 3)), date(2026, 2, 18), history=[t])
    assert again.outcome.value == "waiting" and again.stage is N
