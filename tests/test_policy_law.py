"""Never more than the law allows: one row per rule, each citing it (issue 11).

Each case runs the engine on one invoice and checks what a letter may claim — fee, interest,
compensation, deadline — and that the reason names the rule that decided it.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date
from decimal import Decimal
from typing import Any

import pytest
from test_policy_support import COMPANY, PERSON, D, N, R, invoice, run, taken

from connector.models import ActionStage, Customer, Dispatch
from connector.policy import Outcome
from connector.policy.history import TakenAction
from connector.policy.rates import RateRow, effective_rules
from connector.policy.tables import Evidence


def interest(amount: str, days: int, rate: str) -> Decimal:
    return (D(amount) * days * D(rate) / 36500).quantize(D("0.01"))


def fetched(country: str, figure: str, day: date, value: str) -> RateRow:
    return RateRow(country, figure, day, D(value), "test figure", Evidence.FETCHED, "fetched")


@dataclass(frozen=True)
class Case:
    id: str
    rule: str  # the rule this row checks, as the statute or guidance says it
    country: str
    due: date
    today: date
    policy: dict[str, Any] = field(default_factory=dict)
    history: tuple[TakenAction, ...] = ()
    customer: Customer | None = PERSON
    number: str = "10001"
    rows: tuple[RateRow, ...] = ()
    dispatches: tuple[Dispatch, ...] = ()
    outcome: Outcome = Outcome.ACTION
    stage: ActionStage | None = None
    fee: str | None = None
    interest: Decimal | None = None
    compensation: str | None = None
    deadline: date | None = None
    next_date: date | None = None
    words: tuple[str, ...] = ()


AGREED = {"due_dates_agreed": True}
NOTICE_FIRST = {"stages": ["collection_notice", "handover"]}

CASES = [
    # -- fees ---------------------------------------------------------------------------------
    Case(
        "NO-third-fee-refused",
        "inkassoforskriften § 1-3: fees for two purringer, or a purring and an inkassovarsel",
        "NO",
        date(2026, 2, 3),
        date(2026, 3, 30),
        {"reminders": 2, **AGREED},
        (
            taken(R, date(2026, 2, 17), date(2026, 3, 3), "38"),
            taken(R, date(2026, 3, 9), date(2026, 3, 23), "38", sequence=2),
        ),
        stage=N,
        fee="0",
        deadline=date(2026, 4, 13),
        words=("fee cap reached (2 fee-bearing letters on this claim", "inkassoforskriften § 1-3"),
    ),
    Case(
        "NO-third-fee-refused-after-seven-months",
        "inkassoforskriften § 1-3: the count never resets",
        "NO",
        date(2025, 5, 1),
        date(2025, 12, 3),
        {"reminders": 2},
        (
            taken(R, date(2025, 5, 15), date(2025, 5, 29), "35"),
            taken(R, date(2025, 6, 2), date(2025, 6, 16), "35", sequence=2),
        ),
        stage=N,
        fee="0",
        words=("fee cap reached", "the count never resets"),
    ),
    Case(
        "SE-customer-without-fee-agreement",
        "lag (1981:739) 2 §: a påminnelseavgift only where this customer agreed to it",
        "SE",
        date(2026, 3, 2),
        date(2026, 3, 9),
        {"customers": {"10002": {"reminder_fee_agreed": True}}},
        number="10001",
        stage=R,
        fee="0",
        words=(
            "fee not agreed (tenant default reminder_fee_agreed = false)",
            "inkassokostnader m.m. 2 §",
        ),
    ),
    Case(
        "SE-customer-with-fee-agreement",
        "lag (1981:739) 2 § and 4 § andra stycket 1: agreed per customer, at most 60 SEK",
        "SE",
        date(2026, 3, 2),
        date(2026, 3, 9),
        {"customers": {"10002": {"reminder_fee_agreed": True}}},
        number="10002",
        stage=R,
        fee="60",
        words=("fee agreed (customer 10002 in the policy)", "4 § andra stycket 1"),
    ),
    # -- when interest starts -----------------------------------------------------------------
    Case(
        "NO-due-date-not-agreed-interest-from-day-30",
        "forsinkelsesrenteloven § 2: 30 days after a written demand when the due date was not "
        "agreed in advance",
        "NO",
        date(2026, 2, 3),
        date(2026, 3, 23),
        history=(taken(R, date(2026, 2, 17), date(2026, 3, 3), "38"),),
        stage=N,
        interest=interest("1000", 5, "12.00"),  # 2026-03-19..23
        words=(
            "interest from 2026-03-19, 30 days after kravsync's first letter, sent 2026-02-17",
            "due date in advance not agreed (tenant default due_dates_agreed = false)",
            "forsinkelsesrenteloven § 2",
        ),
    ),
    Case(
        "NO-first-letter-is-the-demand",
        "forsinkelsesrenteloven § 2: the first written demand starts the 30 days",
        "NO",
        date(2026, 2, 3),
        date(2026, 2, 17),
        stage=R,
        fee="38",
        interest=D("0"),
        words=("no interest yet: interest from 2026-03-19, 30 days after this letter",),
    ),
    Case(
        "NO-due-date-agreed-for-this-customer",
        "forsinkelsesrenteloven § 2: from the due date when it was fixed in advance",
        "NO",
        date(2026, 2, 3),
        date(2026, 2, 17),
        {"customers": {"10001": {"due_dates_agreed": True}}},
        stage=R,
        interest=interest("1000", 14, "12.00"),
        words=("due date in advance agreed (customer 10001 in the policy)",),
    ),
    Case(
        "NO-invoice-as-the-demand",
        "forsinkelsesrenteloven § 2: the invoice sent asking for payment is a written demand",
        "NO",
        date(2026, 2, 3),
        date(2026, 3, 9),
        {"interest_demand": "invoice"},
        (taken(R, date(2026, 2, 17), date(2026, 3, 3), "38"),),
        dispatches=(Dispatch(on=date(2026, 1, 20), channel="email"),),
        stage=N,
        interest=interest("1000", 19, "12.00"),  # 2026-02-19..03-09
        words=("30 days after the invoice, sent 2026-01-20",),
    ),
    Case(
        "SE-due-date-not-agreed-interest-from-day-30",
        "räntelagen 4 §: 30 days after the invoice or demand that said interest would be charged",
        "SE",
        date(2026, 3, 2),
        date(2026, 4, 13),
        history=(taken(R, date(2026, 3, 9), date(2026, 3, 19)),),
        stage=N,
        fee="180",
        interest=interest("1000", 6, "10.00"),  # 2026-04-08..13
        deadline=date(2026, 4, 21),
        words=("interest from 2026-04-08", "räntelagen 4 §"),
    ),
    Case(
        "NO-compensation-follows-interest",
        "forsinkelsesrenteloven § 3a: standardkompensasjon only where interest runs",
        "NO",
        date(2026, 2, 3),
        date(2026, 3, 9),
        history=(taken(R, date(2026, 2, 17), date(2026, 3, 3), "38"),),
        customer=COMPANY,
        stage=N,
        fee="38",
        compensation="0",
        words=("no B2B compensation on this letter: interest runs from 2026-03-19",),
    ),
    Case(
        "SE-förseningsersättning-follows-interest",
        "lag (1981:739) 4 a §: förseningsersättning only with the right to dröjsmålsränta",
        "SE",
        date(2026, 3, 2),
        date(2026, 3, 23),
        history=(taken(R, date(2026, 3, 9), date(2026, 3, 19)),),
        customer=COMPANY,
        stage=N,
        fee="180",
        compensation="0",
        words=(
            "interest runs from 2026-04-08",
            "lag (1981:739) om ersättning för inkassokostnader",
        ),
    ),
    # -- due dates on closed days -------------------------------------------------------------
    Case(
        "NO-due-on-maundy-thursday-no-reminder-before-its-day",
        "gjeldsbrevloven § 5: due Maundy Thursday 2026-04-02 counts as Tuesday 2026-04-07",
        "NO",
        date(2026, 4, 2),
        date(2026, 4, 20),
        outcome=Outcome.WAITING,
        next_date=date(2026, 4, 21),
        words=("reminder 14 days after due date 2026-04-07",),
    ),
    Case(
        "NO-due-on-maundy-thursday-fee-from-04-21",
        "gjeldsbrevloven § 5 and inkassoforskriften § 1-2: the 14 days count from 2026-04-07",
        "NO",
        date(2026, 4, 2),
        date(2026, 4, 16),
        {"reminder_after_days": 9},
        stage=R,
        fee="0",
        words=("a fee needs day 14, 2026-04-21", "gjeldsbrevloven § 5"),
    ),
    Case(
        "NO-due-on-maundy-thursday-fee-on-04-21",
        "gjeldsbrevloven § 5; interest from the day after the moved due date",
        "NO",
        date(2026, 4, 2),
        date(2026, 4, 21),
        AGREED,
        stage=R,
        fee="38",
        interest=interest("1000", 14, "12.00"),  # 2026-04-08..21
        words=("due date 2026-04-02 counts as 2026-04-07: 2026-04-02 is Maundy Thursday",),
    ),
    Case(
        "NO-due-on-a-saturday-before-17-may",
        "gjeldsbrevloven § 5: Saturday 16 May and Sunday 17 May 2026 move the due date to the 18th",
        "NO",
        date(2026, 5, 16),
        date(2026, 5, 18),
        outcome=Outcome.NOT_OVERDUE,
        words=("moved to 2026-05-18",),
    ),
    Case(
        "SE-due-on-julafton",
        "skuldebrevslagen 5 §: julafton, juldagen, annandag jul and the weekend",
        "SE",
        date(2025, 12, 24),
        date(2025, 12, 29),
        outcome=Outcome.NOT_OVERDUE,
        words=("moved to 2025-12-29", "skuldebrevslagen 5 §"),
    ),
    Case(
        "SE-due-on-julafton-interest-from-12-30",
        "skuldebrevslagen 5 § and räntelagen 3 §: interest from the day after 2025-12-29",
        "SE",
        date(2025, 12, 24),
        date(2026, 1, 5),
        AGREED,
        stage=R,
        interest=interest("1000", 7, "10.00"),
        words=("interest from 2025-12-30", "Christmas Eve"),
    ),
    Case(
        "SE-due-on-midsommarafton",
        "skuldebrevslagen 5 §: midsommarafton counts as a holiday",
        "SE",
        date(2026, 6, 19),
        date(2026, 6, 22),
        outcome=Outcome.NOT_OVERDUE,
        words=("2026-06-19 is Midsummer Eve",),
    ),
    # -- deadlines ----------------------------------------------------------------------------
    Case(
        "SE-inkassokrav-over-the-easter-long-weekend",
        "IMY, god inkassosed: at least 8 days and 4 bank days after the presumed receipt",
        "SE",
        date(2026, 3, 19),
        date(2026, 4, 2),
        {**NOTICE_FIRST, **AGREED},
        stage=N,
        fee="180",
        deadline=date(2026, 4, 14),  # 8 days would be Friday 2026-04-10
        words=("fewer than 4 bank days after the presumed receipt on 2026-04-08",),
    ),
    Case(
        "SE-inkassokrav-on-an-ordinary-week",
        "IMY, god inkassosed: 8 days already leave 4 bank days",
        "SE",
        date(2026, 3, 9),
        date(2026, 3, 23),
        NOTICE_FIRST,
        stage=N,
        deadline=date(2026, 3, 31),
        words=("deadline 8 days",),
    ),
    # -- rates past the tables ----------------------------------------------------------------
    Case(
        "NO-plan-past-the-last-known-rate",
        "forsinkelsesrenteloven § 3: no rate for 2026 H2 is known, so none is claimed for it",
        "NO",
        date(2026, 6, 16),
        date(2026, 7, 13),
        AGREED,
        stage=R,
        interest=interest("1000", 14, "12.00"),
        words=("interest claimed to 2026-06-30 only: 13 days from 2026-07-01 not claimed",),
    ),
    Case(
        "NO-rate-fetched-from-norges-bank",
        "forsinkelsesrenteloven § 3: a half-year fetched by `kravsync rates update` is used",
        "NO",
        date(2026, 6, 16),
        date(2026, 7, 13),
        AGREED,
        rows=(fetched("NO", "forsinkelsesrente", date(2026, 7, 1), "12.50"),),
        stage=R,
        interest=(D("1000") * (14 * D("12.00") + 13 * D("12.50")) / 36500).quantize(D("0.01")),
        words=("12.50 % × 13 d (2026-07-01..2026-07-13)",),
    ),
    Case(
        "SE-plan-past-the-last-known-rate",
        "räntelagen 9 §: the referensränta for 2026 H2 is not in the tables",
        "SE",
        date(2026, 6, 22),
        date(2026, 7, 6),
        AGREED,
        stage=R,
        interest=interest("1000", 8, "10.00"),
        words=("6 days from 2026-07-01 not claimed", "dröjsmålsränta after 2026-06-30"),
    ),
    Case(
        "NO-far-future",
        "issue 9: past every table the plan says what it did, and claims no unknown rate",
        "NO",
        date(2030, 11, 1),
        date(2031, 1, 2),
        AGREED,
        (taken(R, date(2030, 11, 15), date(2030, 11, 29), "38"),),
        stage=N,
        fee="38",
        interest=D("0"),
        words=(
            "no interest: 62 days from 2030-11-02 not claimed, forsinkelsesrente after 2026-12-31",
        ),
    ),
]


@pytest.mark.parametrize("case", CASES, ids=[c.id for c in CASES])
def test_the_law(case: Case) -> None:
    currency = "NOK" if case.country == "NO" else "SEK"
    inv = invoice(case.due, currency=currency, number=case.number, dispatches=case.dispatches)
    rules = effective_rules(case.country, case.rows) if case.rows else None
    d = run(
        inv,
        case.today,
        country=case.country,
        cust=case.customer,
        history=case.history,
        rules=rules,
        **case.policy,
    )
    assert d.outcome is case.outcome, d.reason
    text = d.action.reason if d.action is not None else d.reason
    for words in case.words:
        assert words in text, f"{case.rule}: {words!r} not in {text!r}"
    if case.next_date is not None:
        assert d.next_date == case.next_date
    if d.action is None:
        return
    a = d.action
    if case.stage is not None:
        assert a.stage is case.stage
    if case.fee is not None:
        assert a.fee == D(case.fee), text
    if case.interest is not None:
        assert a.interest == case.interest, text
    if case.compensation is not None:
        assert a.compensation == D(case.compensation), text
    if case.deadline is not None:
        assert a.deadline == case.deadline, text


def test_the_table_cites_a_rule_for_every_case() -> None:
    assert all(c.rule and ("§" in c.rule or "IMY" in c.rule or "issue" in c.rule) for c in CASES)
    assert len({c.id for c in CASES}) == len(CASES)
