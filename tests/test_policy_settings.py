"""Tenant policy within the law: illegal settings are refused with the key and the rule."""

from __future__ import annotations

from datetime import date
from decimal import Decimal

import pytest

from connector.models import ActionStage
from connector.policy import PolicyError, PolicySettings

ON = date(2026, 3, 16)

REFUSED = [
    (
        "NO",
        {"notice_deadline_days": 10},
        "policy.notice_deadline_days: 10 is below the legal minimum of 14 days (inkassoloven § 9",
    ),
    (
        "NO",
        {"reminder_after_days": 10, "reminder_fee": 38},
        "policy.reminder_after_days: 10 is before day 14 after the due date",
    ),
    ("NO", {"notice_fee": 40}, "policy.notice_fee: 40 is above the legal cap of 38 NOK"),
    (
        "NO",
        {"stages": ["reminder", "handover"]},
        "policy.stages: handover needs the collection_notice stage",
    ),
    (
        "SE",
        {"notice_deadline_days": 7},
        "policy.notice_deadline_days: 7 is below the legal minimum of 8 days (inkassolagen 5 §",
    ),
    ("SE", {"notice_fee": 200}, "policy.notice_fee: 200 is above the legal cap of 180 SEK"),
    (
        "SE",
        {"reminder_fee": 60},
        "policy.reminder_fee: a reminder fee needs policy.reminder_fee_agreed",
    ),
    (
        "SE",
        {"reminder_fee": 70, "reminder_fee_agreed": True},
        "policy.reminder_fee: 70 is above the legal cap of 60 SEK",
    ),
    ("NO", {"grace_days": -1}, "policy.grace_days: Input should be greater than or equal to 0"),
    (
        "SE",
        {"customers": {"10002": {"fee_agreed": True}}},
        "policy.customers.10002.fee_agreed: Extra inputs are not permitted",
    ),
    ("NO", {"interest_demand": "email"}, "policy.interest_demand: Input should be"),
    ("NO", {"reminder_days": 5}, "policy.reminder_days: Extra inputs are not permitted"),
]


@pytest.mark.parametrize("country,raw,message", REFUSED, ids=[str(r[1]) for r in REFUSED])
def test_illegal_policy_is_refused(country, raw, message) -> None:
    with pytest.raises(PolicyError) as err:
        PolicySettings.for_country(country, raw, on=ON)
    assert any(e.startswith(message) for e in err.value.errors), err.value.errors


def test_2025_cap_checked_on_the_day_given() -> None:
    assert PolicySettings(notice_fee=Decimal(38)).validate_for("NO", on=date(2025, 6, 1))
    assert not PolicySettings(notice_fee=Decimal(38)).validate_for("NO", on=date(2026, 1, 1))


def test_fee_free_early_reminder_is_legal_in_norway() -> None:
    s = PolicySettings.for_country("NO", {"reminder_after_days": 7, "reminder_fee": 0}, on=ON)
    assert s.reminder_after_days == 7


def test_country_defaults_fill_unset_days() -> None:
    no = PolicySettings.for_country("NO", {}, on=ON)
    se = PolicySettings.for_country("SE", {}, on=ON)
    assert (no.reminder_after_days, no.notice_deadline_days) == (14, 14)
    assert (se.reminder_after_days, se.notice_deadline_days) == (5, 8)


def test_stages_are_kept_in_ladder_order() -> None:
    s = PolicySettings.for_country("SE", {"stages": ["handover", "reminder"]}, on=ON)
    assert s.stages == (ActionStage.REMINDER, ActionStage.HANDOVER)


def test_unknown_country() -> None:
    with pytest.raises(KeyError, match="known: NO, SE"):
        PolicySettings.for_country("DK", {}, on=ON)


def test_a_reminder_fee_is_legal_when_some_customer_agreed_to_it() -> None:
    raw = {"reminder_fee": 60, "customers": {"10002": {"reminder_fee_agreed": True}}}
    s = PolicySettings.for_country("SE", raw, on=ON)
    assert s.agreement("reminder_fee_agreed", "10002").agreed
    other = s.agreement("reminder_fee_agreed", "10001")
    assert not other.agreed and other.origin == "tenant default reminder_fee_agreed = false"


def test_defaults_never_over_claim() -> None:
    s = PolicySettings.for_country("NO", {}, on=ON)
    assert (s.due_dates_agreed, s.reminder_fee_agreed, s.interest_demand) == (
        False,
        False,
        "first_letter",
    )
