"""Norway: one row per rule (inkassoloven, inkassoforskriften, forsinkelsesrenteloven)."""

from __future__ import annotations

from datetime import date

import pytest
from test_policy_support import (
    COMPANY,
    PERSON,
    D,
    H,
    N,
    R,
    invoice,
    note,
    reminder_dispatch,
    run,
    taken,
)

from connector.models import InvoiceStatus, NoteKind
from connector.policy import Outcome

# (id, rule checked, invoice due, today, policy, history, expected stage, fee, deadline, words)
LADDER_CASES = [
    (
        "fee-day-13",
        "inkassoforskriften § 1-2: no fee before day 14 after due date",
        date(2026, 2, 3),
        date(2026, 2, 16),
        {"reminder_after_days": 13},
        [],
        R,
        "0",
        date(2026, 3, 2),
        "day 13",
    ),
    (
        "fee-day-14",
        "inkassoforskriften § 1-2: a fee from day 14, at most 1/20 of inkassosats 750 = 38",
        date(2026, 2, 3),
        date(2026, 2, 17),
        {},
        [],
        R,
        "38",
        date(2026, 3, 3),
        "fee 38 NOK",
    ),
    (
        "fee-2025",
        "purregebyr cap 35 NOK through 2025 (inkassosats 700)",
        date(2025, 12, 1),
        date(2025, 12, 15),
        {},
        [],
        R,
        "35",
        date(2025, 12, 29),
        "cap 35 NOK",
    ),
    (
        "fee-2026-sending-day",
        "cap is the one in force on the sending day: due 2025, sent 2026 -> 38",
        date(2025, 12, 31),
        date(2026, 1, 14),
        {},
        [],
        R,
        "38",
        date(2026, 1, 28),
        "inkassosats 750",
    ),
    (
        "second-fee-after-missed-14-day-deadline",
        "inkassoforskriften § 1-3: second fee after a missed deadline of at least 14 days",
        date(2026, 2, 3),
        date(2026, 3, 9),
        {},
        [taken(R, date(2026, 2, 17), date(2026, 3, 3), "38")],
        N,
        "38",
        date(2026, 3, 23),
        "fee 38 NOK",
    ),
    (
        "no-second-fee-after-short-deadline",
        "inkassoforskriften § 1-3: the first fee letter gave only 10 days",
        date(2026, 2, 3),
        date(2026, 3, 9),
        {},
        [taken(R, date(2026, 2, 17), date(2026, 2, 27), "38")],
        N,
        "0",
        date(2026, 3, 23),
        "gave 10 days",
    ),
    (
        "fee-cap-reached",
        "inkassoforskriften § 1-3: at most two fee-bearing letters per claim",
        date(2025, 5, 1),
        date(2025, 11, 3),
        {"reminders": 2},
        [
            taken(R, date(2025, 5, 15), date(2025, 5, 29), "35"),
            taken(R, date(2025, 6, 2), date(2025, 6, 16), "35", sequence=2),
        ],
        N,
        "0",
        date(2025, 11, 17),
        "fee cap reached",
    ),
    (
        "no-reset-after-six-months",
        "inkassoforskriften § 1-3: two fees per claim, ever; seven months later still none",
        date(2025, 5, 1),
        date(2025, 12, 3),
        {"reminders": 2},
        [
            taken(R, date(2025, 5, 15), date(2025, 5, 29), "35"),
            taken(R, date(2025, 6, 2), date(2025, 6, 16), "35", sequence=2),
        ],
        N,
        "0",
        date(2025, 12, 17),
        "fee cap reached (2 fee-bearing letters on this claim",
    ),
    (
        "deadline-17-may",
        "deadline on Constitution Day (Monday 17 May 2027) moves to the next business day",
        date(2027, 4, 19),
        date(2027, 5, 3),
        {},
        [],
        R,
        "38",
        date(2027, 5, 18),
        "Constitution Day",
    ),
    (
        "deadline-easter",
        "deadline on Maundy Thursday 2026 skips Easter to Tuesday 7 April",
        date(2026, 3, 5),
        date(2026, 3, 19),
        {},
        [],
        R,
        "38",
        date(2026, 4, 7),
        "Maundy Thursday",
    ),
    (
        "notice-deadline-14",
        "inkassoloven § 9: inkassovarsel deadline at least 14 days from sending",
        date(2026, 2, 3),
        date(2026, 2, 17),
        {"stages": ["collection_notice", "handover"]},
        [],
        N,
        "38",
        date(2026, 3, 3),
        "inkassoloven § 9",
    ),
    (
        "handover-after-notice-deadline",
        "inkassoloven § 9: handover once the inkassovarsel's deadline passed unpaid",
        date(2026, 2, 3),
        date(2026, 3, 30),
        {},
        [
            taken(R, date(2026, 2, 17), date(2026, 3, 3), "38"),
            taken(N, date(2026, 3, 9), date(2026, 3, 23), "38"),
        ],
        H,
        "0",
        None,
        "passed unpaid",
    ),
]


@pytest.mark.parametrize(
    "due,today,policy,history,stage,fee,deadline,words",
    [c[2:] for c in LADDER_CASES],
    ids=[c[0] for c in LADDER_CASES],
)
def test_ladder(due, today, policy, history, stage, fee, deadline, words) -> None:
    d = run(invoice(due), today, history=history, **policy)
    assert d.outcome is Outcome.ACTION, d.reason
    assert d.action is not None
    assert (d.action.stage, d.action.fee, d.action.deadline) == (stage, D(fee), deadline)
    assert words in d.action.reason


def test_interest_split_across_1_july_rate_change() -> None:
    # 10 days at 12.50 % (2025 H1) + 10 days at 12.25 % (2025 H2), actual/365, on 10 000 NOK
    d = run(
        invoice(date(2025, 6, 20), "10000.00"),
        date(2025, 7, 10),
        reminder_after_days=20,
        due_dates_agreed=True,
    )
    assert d.action is not None
    expected = D("10000") * (10 * D("12.50") + 10 * D("12.25")) / D("36500")
    assert d.action.interest == expected.quantize(D("0.01")) == D("67.81")
    assert "12.50 % × 10 d" in d.action.reason and "12.25 % × 10 d" in d.action.reason


def test_past_the_last_usable_rate_interest_stops_there_and_says_so() -> None:
    # 2026 H2's built-in 12.25 % is unverified: interest is claimed to 2026-06-30 only
    d = run(invoice(date(2026, 6, 16)), date(2026, 7, 13), due_dates_agreed=True)
    assert d.action is not None
    assert d.action.interest == (D("1000") * 14 * D("12.00") / 36500).quantize(D("0.01"))
    assert "interest claimed to 2026-06-30 only: 13 days from 2026-07-01 not claimed" in (
        d.action.reason
    )
    assert "12.25 % from 2026-07-01 is unverified and not used" in d.action.reason


def test_b2b_gets_compensation_once_less_fees_and_no_further_fee() -> None:
    history = [taken(R, date(2026, 2, 17), date(2026, 3, 3), "38")]
    d = run(
        invoice(date(2026, 2, 3)),
        date(2026, 3, 9),
        cust=COMPANY,
        history=history,
        due_dates_agreed=True,
    )
    assert d.action is not None
    assert d.action.compensation == D("460") - D("38")  # 460 in force on the due date
    assert d.action.fee == 0 and "covered by the B2B compensation" in d.action.reason


def test_b2b_compensation_figure_of_the_due_date() -> None:
    # due in 2025 H1 (470), notice sent in 2026 H1 (460): the due date's figure applies
    d = run(
        invoice(date(2025, 6, 2)),
        date(2026, 1, 5),
        cust=COMPANY,
        stages=["collection_notice", "handover"],
        due_dates_agreed=True,
    )
    assert d.action is not None and d.action.compensation == D("470")


def test_consumer_never_gets_b2b_compensation() -> None:
    history = [taken(R, date(2026, 2, 17), date(2026, 3, 3), "38")]
    d = run(invoice(date(2026, 2, 3)), date(2026, 3, 9), cust=PERSON, history=history)
    assert d.action is not None and d.action.compensation == 0 and d.action.fee == D("38")


@pytest.mark.parametrize(
    "today,outcome,words",
    [
        (date(2026, 3, 13), Outcome.ON_HOLD, "promise to pay until 2026-03-10"),
        (date(2026, 3, 16), Outcome.ACTION, "purring"),
    ],
    ids=["promise-plus-grace-holds", "promise-lapsed-resumes"],
)
def test_promise_lapses_after_its_date_plus_grace(today, outcome, words) -> None:
    promise = note(NoteKind.PROMISE, until=date(2026, 3, 10))
    d = run(invoice(date(2026, 2, 3)), today, notes=[promise])
    assert d.outcome is outcome and words in d.reason


def test_dispute_holds_until_resolved() -> None:
    due, today = date(2026, 2, 3), date(2026, 3, 16)
    open_dispute = note(NoteKind.DISPUTE, text="varen kom aldri")
    d = run(invoice(due), today, notes=[open_dispute])
    assert d.outcome is Outcome.ON_HOLD and "varen kom aldri" in d.reason
    resolved = note(NoteKind.DISPUTE, resolved=date(2026, 3, 12))
    assert run(invoice(due), today, notes=[resolved]).outcome is Outcome.ACTION


def test_customer_level_do_not_remind_with_end_date() -> None:
    hold = note(
        NoteKind.DO_NOT_REMIND,
        invoice_id=None,
        customer_id="c1",
        until=date(2026, 3, 20),
        text="konkursbo: kontakt bostyrer",
    )
    d = run(invoice(date(2026, 2, 3)), date(2026, 3, 16), notes=[hold])
    assert d.outcome is Outcome.ON_HOLD and "konkursbo" in d.reason
    assert d.next_date == date(2026, 3, 21)


def test_below_minimum_amount() -> None:
    d = run(invoice(date(2026, 2, 3), "40.00"), date(2026, 3, 16), minimum_amount="50")
    assert d.outcome is Outcome.BELOW_MINIMUM


def test_grace_days_for_bank_lag() -> None:
    # reminder one day after due, but 3 grace days: due Tue 3 Feb -> Sat 7 Feb -> Mon 9 Feb
    d = run(invoice(date(2026, 2, 3)), date(2026, 2, 5), reminder_after_days=1)
    assert d.outcome is Outcome.WAITING and d.next_date == date(2026, 2, 9)
    assert run(invoice(date(2026, 2, 3)), date(2026, 2, 9), reminder_after_days=1).has_action


def test_waiting_names_the_reminder_deadline() -> None:
    history = [taken(R, date(2026, 2, 17), date(2026, 3, 3), "38")]
    d = run(invoice(date(2026, 2, 3)), date(2026, 3, 4), history=history)
    assert d.outcome is Outcome.WAITING
    assert "reminder deadline 2026-03-03" in d.reason and d.next_date == date(2026, 3, 9)


def test_no_sending_on_a_holiday() -> None:
    d = run(invoice(date(2026, 4, 20)), date(2026, 5, 14))  # Ascension Day
    assert d.outcome is Outcome.WAITING and d.next_date == date(2026, 5, 15)


def test_not_overdue() -> None:
    assert run(invoice(date(2026, 3, 16)), date(2026, 3, 16)).outcome is Outcome.NOT_OVERDUE


def test_findings_block_the_notice_not_the_reminder() -> None:
    due = date(2026, 2, 3)
    d = run(invoice(due), date(2026, 2, 17), blocking=["org_number.missing"])
    assert d.outcome is Outcome.ACTION
    history = [taken(R, date(2026, 2, 17), date(2026, 3, 3), "38")]
    d = run(invoice(due), date(2026, 3, 9), history=history, blocking=["org_number.missing"])
    assert d.outcome is Outcome.BLOCKED
    assert d.reason == "blocked: org_number.missing (cannot send inkassovarsel)"


@pytest.mark.parametrize(
    "kw,words",
    [
        ({"handled_by": "inkassopartner"}, "already handled by inkassopartner"),
        ({"dispatches": (reminder_dispatch(date(2026, 2, 20)),)}, "its own reminder on 2026-02-20"),
        ({"reminders_sent": 1}, "counts 1 reminders"),
    ],
    ids=["agency", "fiken-automatic-reminder", "provider-count"],
)
def test_second_sender_gets_no_action(kw, words) -> None:
    d = run(invoice(date(2026, 2, 3), **kw), date(2026, 3, 16))
    assert d.outcome is Outcome.SECOND_SENDER and words in d.reason and d.warnings


def test_own_reminder_dispatch_is_not_a_second_sender() -> None:
    sent = date(2026, 2, 17)
    inv = invoice(date(2026, 2, 3), dispatches=(reminder_dispatch(sent),), reminders_sent=1)
    d = run(inv, date(2026, 3, 9), history=[taken(R, sent, date(2026, 3, 3), "38")])
    assert d.outcome is Outcome.ACTION and d.stage is N


def test_handed_over_is_the_end() -> None:
    history = [
        taken(R, date(2026, 2, 17), date(2026, 3, 3), "38"),
        taken(N, date(2026, 3, 9), date(2026, 3, 23), "38"),
        taken(H, date(2026, 3, 30)),
    ]
    d = run(invoice(date(2026, 2, 3)), date(2026, 6, 1), history=history)
    assert d.outcome is Outcome.HANDED_OVER


@pytest.mark.parametrize(
    "due,today,outcome,words",
    [
        # § 29 nr. 1: three years from 2023-04-01 run out on 2026-04-01 (a Wednesday)
        (date(2023, 4, 1), date(2026, 3, 16), Outcome.ACTION, "time-barred on 2026-04-02"),
        # § 29 nr. 2: 2026-03-01 is a Sunday, so the last day is Monday 2026-03-02
        (date(2023, 3, 1), date(2026, 3, 16), Outcome.TIME_BARRED, "time-barred since 2026-03-03"),
        (date(2023, 3, 1), date(2026, 3, 2), Outcome.ACTION, "2026-03-01 being a closed day"),
    ],
    ids=["foreldelse-warning", "foreldet", "last-day-on-a-sunday-moves"],
)
def test_foreldelse_three_years_from_due_date(due, today, outcome, words) -> None:
    # a reminder does not interrupt foreldelse in Norway (foreldelsesloven)
    history = [taken(R, date(2025, 5, 2), date(2025, 5, 16))]
    d = run(invoice(due), today, history=history)
    assert d.outcome is outcome and any(words in w for w in d.warnings)


@pytest.mark.parametrize(
    "kw,words",
    [
        ({"status": InvoiceStatus.PAID}, "not open (paid)"),
        ({"booked": False}, "not open (not booked)"),
        ({"outstanding": "0.00"}, "not open (nothing outstanding)"),
    ],
)
def test_closed_invoices_get_nothing(kw, words) -> None:
    outstanding = kw.pop("outstanding", "1000.00")
    d = run(invoice(date(2026, 2, 3), outstanding, **kw), date(2026, 3, 16))
    assert d.outcome is Outcome.CLOSED and d.reason == words
