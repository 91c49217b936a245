"""Properties over simulated days: the engine is fed its own output as history, day by day."""

from __future__ import annotations

from datetime import date, timedelta
from decimal import Decimal
from typing import Any

from hypothesis import HealthCheck, assume, given, settings
from hypothesis import strategies as st
from test_policy_support import COMPANY, PERSON, invoice

from connector.models import ActionStage, ReminderAction
from connector.policy import (
    PolicyError,
    PolicySettings,
    TakenAction,
    decide,
    is_business_day,
    rules_for,
)
from connector.policy.calendar import deferred_due_date

STAGE_SETS = [
    ["reminder", "collection_notice", "handover"],
    ["collection_notice", "handover"],
    ["reminder", "collection_notice"],
    ["reminder"],
]


@st.composite
def policies(draw: st.DrawFn) -> dict[str, Any]:
    raw: dict[str, Any] = {
        "stages": draw(st.sampled_from(STAGE_SETS)),
        "reminders": draw(st.integers(1, 3)),
        "reminder_after_days": draw(st.integers(1, 30)),
        "reminder_deadline_days": draw(st.integers(1, 30)),
        "notice_after_reminder_days": draw(st.integers(0, 30)),
        "notice_after_due_days": draw(st.integers(1, 30)),
        "notice_deadline_days": draw(st.integers(14, 30)),
        "handover_after_deadline_days": draw(st.integers(0, 10)),
        "grace_days": draw(st.integers(0, 5)),
        "fees": draw(st.booleans()),
        "reminder_fee_agreed": draw(st.booleans()),
        "b2b_compensation": draw(st.booleans()),
        "due_dates_agreed": draw(st.booleans()),
    }
    if draw(st.booleans()):
        raw["notice_fee"] = draw(st.sampled_from([0, 20, 35]))
    return raw


def simulate(
    country: str, raw: dict[str, Any], due: date, cust: Any, amount: Decimal, days: int = 150
) -> list[ReminderAction]:
    try:
        policy = PolicySettings.for_country(country, raw, on=due)
    except PolicyError:
        assume(False)
        raise
    inv = invoice(due, str(amount), currency=rules_for(country).currency)
    history: list[TakenAction] = []
    actions: list[ReminderAction] = []
    for offset in range(-3, days):
        today = due + timedelta(days=offset)
        d = decide(
            inv,
            tenant="t",
            country=country,
            settings=policy,
            today=today,
            customer=cust,
            history=history,
        )
        if d.action is not None:
            actions.append(d.action)
            history.append(TakenAction.from_action(d.action))
    return actions


cases = given(
    country=st.sampled_from(["NO", "SE"]),
    raw=policies(),
    due=st.dates(date(2025, 1, 1), date(2026, 12, 31)),
    cust=st.sampled_from([COMPANY, PERSON, None]),
    amount=st.decimals(Decimal("0.01"), Decimal("999999.99"), places=2),
)
fast = settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.too_slow])


@fast
@cases
def test_no_fee_above_the_cap_and_never_before_day_14_in_norway(country, raw, due, cust, amount):
    rules = rules_for(country)
    for a in simulate(country, raw, due, cust, amount):
        table = rules.fee_cap(a.stage)
        cap = table.at(a.planned_on).value if table else Decimal(0)
        assert a.fee <= (cap or 0)
        if a.fee > 0:
            first = rules.fee_min_days_after_due.at(a.planned_on).value or 0
            moved = deferred_due_date(country, due)  # gjeldsbrevloven § 5 / skuldebrevslagen 5 §
            assert (a.planned_on - moved).days >= first
            if country == "NO":
                assert (a.planned_on - moved).days >= 14


@fast
@cases
def test_never_a_deadline_or_sending_on_a_non_business_day(country, raw, due, cust, amount):
    rules = rules_for(country)
    for a in simulate(country, raw, due, cust, amount):
        assert is_business_day(country, a.planned_on)
        if a.deadline is not None:
            assert is_business_day(country, a.deadline)
        if a.stage is ActionStage.COLLECTION_NOTICE:
            assert a.deadline is not None
            minimum = rules.notice_min_deadline_days.at(a.planned_on).value or 0
            assert (a.deadline - a.planned_on).days >= minimum


@fast
@cases
def test_never_two_actions_for_one_invoice_and_stage(country, raw, due, cust, amount):
    actions = simulate(country, raw, due, cust, amount)
    keys = [a.idempotency_key for a in actions]
    assert len(keys) == len(set(keys))
    for stage in (ActionStage.COLLECTION_NOTICE, ActionStage.HANDOVER):
        assert sum(1 for a in actions if a.stage is stage) <= 1
    assert sum(1 for a in actions if a.stage is ActionStage.REMINDER) <= raw["reminders"]
    # the ladder is strict: stages never go backwards
    order = [a.stage for a in actions]
    ladder = [ActionStage.REMINDER, ActionStage.COLLECTION_NOTICE, ActionStage.HANDOVER]
    assert order == sorted(order, key=ladder.index)


@fast
@cases
def test_charges_stay_within_the_claim_limits(country, raw, due, cust, amount):
    rules = rules_for(country)
    actions = simulate(country, raw, due, cust, amount)
    fee_letters = [a for a in actions if a.fee > 0]
    if country == "NO":
        assert len(fee_letters) <= 2  # inkassoforskriften § 1-3, no reset
    compensations = [a for a in actions if a.compensation > 0]
    assert len(compensations) <= 1
    letters = [a for a in actions if a.stage is not ActionStage.HANDOVER]
    if not raw["due_dates_agreed"] and letters:
        # räntelagen 4 § / forsinkelsesrenteloven § 2: nothing before 30 days after the demand
        starts = letters[0].planned_on + timedelta(days=30)
        for a in actions:
            if a.planned_on < starts:
                assert a.interest == 0 and a.compensation == 0
    if compensations:
        assert cust is COMPANY
        figure = rules.compensation.at(due).value or Decimal(0)
        assert sum(a.fee + a.compensation for a in actions) <= figure
    for a in actions:
        assert a.interest >= 0 and a.interest == a.interest.quantize(Decimal("0.01"))
