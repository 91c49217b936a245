"""Norwegian rules: inkassoloven, inkassoforskriften, forsinkelsesrenteloven, foreldelsesloven.

Every figure carries the day it took effect and its source. To add a half-year, append a period;
to mark one announced but unknown, append it with ``None``.

The new inkassolov (LOV-2026-05-22-19) is adopted but not in force. When its in-force date is
set, add periods here from that date (e.g. changed deadlines or fee rules); the engine looks every
rule up on the day it applies, so claims before and after the change are each treated by the rules
of their day.
"""

from __future__ import annotations

from datetime import date
from decimal import ROUND_HALF_UP, Decimal
from types import MappingProxyType

from connector.models import ActionStage
from connector.policy.rules import CountryRules
from connector.policy.tables import DatedTable, Period, constant, kroner, percent

_FORSKRIFT_RENTE = (
    "forskrift om renter ved forsinket betaling og kompensasjon for inndrivelseskostnader "
    "(Finansdepartementet)"
)
_NOK = kroner("NOK")

# Inkassosats (inkassoforskriften § 1-1); the purregebyr cap is 1/20 of it (§ 1-2).
INKASSOSATS: DatedTable[Decimal] = DatedTable(
    "inkassosats",
    (
        Period(date(2025, 1, 1), Decimal("700"), "inkassoforskriften § 1-1 (inkassosats 2025)"),
        Period(date(2026, 1, 1), Decimal("750"), "inkassoforskriften § 1-1 (inkassosats 2026)"),
    ),
    _NOK,
)
PURREGEBYR_FRACTION = Decimal(20)  # inkassoforskriften § 1-2: at most 1/20 of the inkassosats


def _purregebyr_cap() -> DatedTable[Decimal]:
    periods = []
    for p in INKASSOSATS.periods:
        assert p.value is not None
        cap = (p.value / PURREGEBYR_FRACTION).quantize(Decimal("1"), rounding=ROUND_HALF_UP)
        periods.append(
            Period(
                p.valid_from,
                cap,
                f"inkassoforskriften § 1-2: 1/{PURREGEBYR_FRACTION} of inkassosats {p.value} "
                "NOK, whole kroner",
            )
        )
    return DatedTable("purregebyr cap", tuple(periods), _NOK)


_CAP = _purregebyr_cap()

INTEREST: DatedTable[Decimal] = DatedTable(
    "forsinkelsesrente",
    (
        Period(date(2025, 1, 1), Decimal("12.50"), f"{_FORSKRIFT_RENTE} § 1, 2025 H1"),
        Period(date(2025, 7, 1), Decimal("12.25"), f"{_FORSKRIFT_RENTE} § 1, 2025 H2"),
        Period(date(2026, 1, 1), Decimal("12.00"), f"{_FORSKRIFT_RENTE} § 1, 2026 H1"),
        Period(date(2026, 7, 1), Decimal("12.25"), f"{_FORSKRIFT_RENTE} § 1, 2026 H2"),
        Period(date(2027, 1, 1), None, "set by Finansdepartementet for 2027 H1 (not yet known)"),
    ),
    percent,
)

COMPENSATION: DatedTable[Decimal] = DatedTable(
    "standardkompensasjon",
    (
        Period(date(2025, 1, 1), Decimal("470"), f"{_FORSKRIFT_RENTE} § 2, 2025 H1 (EUR 40)"),
        Period(date(2025, 7, 1), Decimal("460"), f"{_FORSKRIFT_RENTE} § 2, 2025 H2 (EUR 40)"),
        Period(date(2026, 1, 1), Decimal("460"), f"{_FORSKRIFT_RENTE} § 2, 2026 H1 (EUR 40)"),
        Period(date(2026, 7, 1), Decimal("430"), f"{_FORSKRIFT_RENTE} § 2, 2026 H2 (EUR 40)"),
        Period(date(2027, 1, 1), None, "set by Finansdepartementet for 2027 H1 (not yet known)"),
    ),
    _NOK,
)

_SINCE = date(2025, 1, 1)  # start of the data; the rules below are older than that

RULES = CountryRules(
    country="NO",
    currency="NOK",
    stage_names=MappingProxyType(
        {
            ActionStage.REMINDER: "purring",
            ActionStage.COLLECTION_NOTICE: "inkassovarsel",
            ActionStage.HANDOVER: "overlevering til inkasso",
        }
    ),
    holiday_categories=("public",),
    # Christmas Eve and New Year's Eve are not public holidays but banks are closed; treating
    # them as closed only ever moves a date later, which is the debtor-friendly side.
    extra_closed_days=((12, 24), (12, 31)),
    business_day_source="fristloven § 5 (deadline on a Saturday or holiday moves to next day)",
    interest_rate=INTEREST,
    interest_day_basis=365,  # actual/365, the Norwegian practice (also in leap years)
    reminder_fee_cap=_CAP,
    notice_fee_cap=_CAP,
    fee_min_days_after_due=constant(
        "first day for a fee", 14, _SINCE, "inkassoforskriften § 1-2 (14 days after due date)"
    ),
    max_fee_letters=constant(
        "fee-bearing letters per claim", 2, _SINCE, "inkassoforskriften § 1-2 (at most two)"
    ),
    max_fees_per_stage=None,
    second_fee_min_deadline_days=constant(
        "deadline before a second fee",
        14,
        _SINCE,
        "inkassoforskriften § 1-2 (second fee after a missed deadline of at least 14 days)",
    ),
    fee_count_reset_months=constant(
        "fee count reset", 6, _SINCE, "inkassoforskriften § 1-2 (counter resets after 6 months)"
    ),
    reminder_fee_agreement_rule=None,
    notice_min_deadline_days=constant(
        "inkassovarsel deadline", 14, _SINCE, "inkassoloven § 9 (at least 14 days from sending)"
    ),
    handover_requires_notice="inkassoloven § 9 (inkassovarsel before collection)",
    compensation=COMPENSATION,
    compensation_rule=(
        "forsinkelsesrenteloven § 3a (B2B only; purregebyr already charged is deducted)"
    ),
    time_bar_years_business=constant("foreldelse", 3, _SINCE, "foreldelsesloven §§ 2-3"),
    time_bar_years_consumer=constant("foreldelse", 3, _SINCE, "foreldelsesloven §§ 2-3"),
    time_bar_start="due_date",
    time_bar_interrupted_by_demand=False,  # a reminder does not interrupt foreldelse in Norway
    time_bar_rule="foreldelsesloven §§ 2-3 (3 years from the due date)",
    defaults=MappingProxyType(
        {
            "reminder_after_days": 14,
            "reminder_deadline_days": 14,
            "notice_after_reminder_days": 14,
            "notice_after_due_days": 14,
            "notice_deadline_days": 14,
        }
    ),
)
