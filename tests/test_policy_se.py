"""Sweden: one row per rule (lag om ersättning för inkassokostnader, inkassolagen, räntelagen,
preskriptionslagen)."""

from __future__ import annotations

from datetime import date
from typing import Any

import pytest
from test_policy_support import COMPANY, PERSON, D, H, N, R, invoice, run, taken

from connector.models import Invoice
from connector.policy import Outcome


def se(due: date, outstanding: str = "1000.00", **kw: Any) -> Invoice:
    return invoice(due, outstanding, currency="SEK", **kw)


# (id, rule, due, today, policy, history, customer, stage, fee, compensation, deadline, words)
CASES = [
    (
        "påminnelse-day-5-no-fee-unless-agreed",
        "lag (1981:739) 2 §: påminnelseavgift only if agreed before the debt arose",
        date(2026, 3, 2),
        date(2026, 3, 9),
        {},
        [],
        PERSON,
        R,
        "0",
        "0",
        date(2026, 3, 19),
        "fee not agreed (tenant default reminder_fee_agreed = false)",
    ),
    (
        "påminnelse-agreed-fee-60",
        "lag (1981:739) 4 § andra stycket 1: påminnelseavgift at most 60 SEK",
        date(2026, 3, 2),
        date(2026, 3, 9),
        {"reminder_fee_agreed": True},
        [],
        PERSON,
        R,
        "60",
        "0",
        date(2026, 3, 19),
        "fee 60 SEK",
    ),
    (
        "inkassokrav-14-days-after-påminnelse",
        "IMY on inkassolagen 5 §: deadline at least 8 days; lag (1981:739) 4 §: fee at most 180",
        date(2026, 3, 2),
        date(2026, 3, 23),
        {},
        [taken(R, date(2026, 3, 9), date(2026, 3, 19))],
        PERSON,
        N,
        "180",
        "0",
        date(2026, 3, 31),
        "inkassolagen 5 §",
    ),
    (
        "inkassokrav-b2b-förseningsersättning",
        "lag (1981:739) 4 a §: B2B 450 SEK replaces the inkassoavgift",
        date(2026, 3, 2),
        date(2026, 3, 23),
        {"due_dates_agreed": True},
        [taken(R, date(2026, 3, 9), date(2026, 3, 19))],
        COMPANY,
        N,
        "0",
        "450",
        date(2026, 3, 31),
        "covered by the B2B compensation",
    ),
    (
        "förseningsersättning-less-påminnelseavgift",
        "lag (1981:739) 4 a §: an earlier påminnelseavgift is deducted",
        date(2026, 3, 2),
        date(2026, 3, 23),
        {"reminder_fee_agreed": True, "due_dates_agreed": True},
        [taken(R, date(2026, 3, 9), date(2026, 3, 19), "60")],
        COMPANY,
        N,
        "0",
        "390",
        date(2026, 3, 31),
        "less fees charged 60 SEK",
    ),
    (
        "inkassokrav-deadline-midsummer",
        "deadline on Midsummer Eve (de-facto bank holiday) moves past the weekend",
        date(2026, 5, 27),
        date(2026, 6, 11),
        {"stages": ["collection_notice", "handover"]},
        [],
        PERSON,
        N,
        "180",
        "0",
        date(2026, 6, 22),
        "Midsummer Eve",
    ),
    (
        "handover-after-inkassokrav-deadline",
        "handover after the inkassokrav's deadline passed unpaid",
        date(2026, 3, 2),
        date(2026, 4, 7),
        {},
        [
            taken(R, date(2026, 3, 9), date(2026, 3, 19)),
            taken(N, date(2026, 3, 23), date(2026, 3, 31), "180"),
        ],
        PERSON,
        H,
        "0",
        "0",
        None,
        "passed unpaid",
    ),
]


@pytest.mark.parametrize(
    "due,today,policy,history,cust,stage,fee,comp,deadline,words",
    [c[2:] for c in CASES],
    ids=[c[0] for c in CASES],
)
def test_ladder(due, today, policy, history, cust, stage, fee, comp, deadline, words) -> None:
    d = run(se(due), today, country="SE", cust=cust, history=history, **policy)
    assert d.outcome is Outcome.ACTION, d.reason
    assert d.action is not None
    got = (d.action.stage, d.action.fee, d.action.compensation, d.action.deadline)
    assert got == (stage, D(fee), D(comp), deadline)
    assert words in d.action.reason


def test_no_second_påminnelseavgift() -> None:
    history = [taken(R, date(2026, 3, 9), date(2026, 3, 19), "60")]
    d = run(
        se(date(2026, 3, 2)),
        date(2026, 3, 23),
        country="SE",
        history=history,
        reminders=2,
        reminder_fee_agreed=True,
    )
    assert d.action is not None and (d.action.stage, d.action.sequence) == (R, 2)
    assert d.action.fee == 0 and "fee cap reached" in d.action.reason


def test_drojsmalsranta_2026_h1() -> None:
    d = run(se(date(2026, 3, 2), "10000.00"), date(2026, 3, 9), country="SE", due_dates_agreed=True)
    assert d.action is not None
    assert d.action.interest == (D("10000") * 7 * D("10.00") / 36500).quantize(D("0.01"))


def test_unknown_half_year_is_not_claimed_and_says_so() -> None:
    d = run(se(date(2026, 6, 22)), date(2026, 7, 6), country="SE", due_dates_agreed=True)
    assert d.action is not None
    assert d.action.interest == (D("1000") * 8 * D("10.00") / 36500).quantize(D("0.01"))
    assert "interest claimed to 2026-06-30 only: 6 days from 2026-07-01 not claimed" in (
        d.action.reason
    )
    assert "referensränta" in d.action.reason and "kravsync rates update" in d.action.reason


def test_days_before_the_table_accrue_nothing_and_say_so() -> None:
    d = run(
        se(date(2023, 12, 22)),
        date(2024, 1, 12),
        country="SE",
        stages=["collection_notice"],
        due_dates_agreed=True,
    )
    assert d.action is not None
    # 2024 H1: referensränta 4.00 % + 8 = 12.00 %
    assert d.action.interest == (D("1000") * 12 * D("12.00") / 36500).quantize(D("0.01"))
    assert "no dröjsmålsränta in the data before 2024-01-01" in d.action.reason
    assert "9 days from 2023-12-23 not claimed" in d.action.reason


def test_foreign_currency_gets_interest_but_no_kronor_fee() -> None:
    d = run(
        invoice(date(2026, 3, 2), currency="EUR"),
        date(2026, 3, 23),
        country="SE",
        cust=COMPANY,
        history=[taken(R, date(2026, 3, 9), date(2026, 3, 19))],
        due_dates_agreed=True,
    )
    assert d.action is not None and d.action.fee == 0 and d.action.compensation == 0
    assert d.action.interest > 0 and "invoice in EUR" in d.action.reason


@pytest.mark.parametrize(
    "cust,history,today,outcome,words",
    [
        (PERSON, [], date(2026, 3, 16), Outcome.ACTION, "time-barred on 2026-04-01"),
        (COMPANY, [], date(2026, 3, 16), Outcome.ACTION, None),
        (
            PERSON,
            [taken(R, date(2024, 6, 3), date(2024, 6, 13))],
            date(2026, 3, 16),
            Outcome.ACTION,
            None,
        ),
        (PERSON, [], date(2026, 4, 1), Outcome.TIME_BARRED, "time-barred since 2026-04-01"),
    ],
    ids=["consumer-3-years", "b2b-10-years", "demand-interrupts", "consumer-barred"],
)
def test_preskription(cust, history, today, outcome, words) -> None:
    inv = se(date(2023, 4, 30), issue=date(2023, 4, 1))
    d = run(inv, today, country="SE", cust=cust, history=history, reminders=3)
    assert d.outcome is outcome
    if words:
        assert any(words in w for w in d.warnings)
    else:
        assert not d.warnings
