"""Swedish rules: lag (1981:739) and förordning (1981:1057) om ersättning för inkassokostnader,
inkassolagen (1974:182), räntelagen (1975:635), preskriptionslagen (1981:130).

Dröjsmålsränta is the Riksbank's referensränta + 8 percentage points, set per half-year. The table
starts at 2026 H1 (the only half-year verified for this data); 2026 H2 is marked not yet known, so
a later date uses the 2026 H1 figure and the decision says so. Days before 2026-01-01 accrue no
interest in the engine (never more than the law allows) and the decision notes it.
"""

from __future__ import annotations

from datetime import date
from decimal import Decimal
from types import MappingProxyType

from connector.models import ActionStage
from connector.policy.rules import CountryRules
from connector.policy.tables import DatedTable, Period, constant, kroner, percent

_SEK = kroner("SEK")
_SINCE = date(2025, 1, 1)  # start of the data; the rules below are older than that
_FORORDNING = "förordning (1981:1057) om ersättning för inkassokostnader m.m."

INTEREST: DatedTable[Decimal] = DatedTable(
    "dröjsmålsränta",
    (
        Period(
            date(2026, 1, 1),
            Decimal("10.00"),
            "räntelagen 6 § (referensränta 2.00 % for 2026 H1, Riksbanken, + 8 pp)",
        ),
        Period(date(2026, 7, 1), None, "referensränta 2026 H2 (not yet known)"),
    ),
    percent,
)

RULES = CountryRules(
    country="SE",
    currency="SEK",
    stage_names=MappingProxyType(
        {
            ActionStage.REMINDER: "påminnelse",
            ActionStage.COLLECTION_NOTICE: "inkassokrav",
            ActionStage.HANDOVER: "överlämning till inkasso",
        }
    ),
    # Midsummer Eve, Christmas Eve and New Year's Eve are de-facto non-banking days: the
    # `holidays` package lists exactly these three under the "de_facto" category for SE.
    holiday_categories=("public", "de_facto"),
    extra_closed_days=(),
    business_day_source="lag (1930:173) om beräkning av lagstadgad tid",
    interest_rate=INTEREST,
    interest_day_basis=365,
    reminder_fee_cap=constant("påminnelseavgift cap", Decimal("60"), _SINCE, f"{_FORORDNING} 2 §"),
    notice_fee_cap=constant("inkassoavgift cap", Decimal("180"), _SINCE, f"{_FORORDNING} 2 §"),
    fee_min_days_after_due=constant("first day for a fee", 1, _SINCE, "lag (1981:739) 2 §"),
    max_fee_letters=None,
    max_fees_per_stage=constant(
        "fees per stage", 1, _SINCE, "lag (1981:739) 2 § (one påminnelse, one inkassokrav)"
    ),
    second_fee_min_deadline_days=None,
    fee_count_reset_months=None,
    reminder_fee_agreement_rule="lag (1981:739) 2 § (påminnelseavgift only if agreed in advance)",
    notice_min_deadline_days=constant(
        "inkassokrav deadline", 8, _SINCE, "inkassolagen 5 § (at least 8 days from sending)"
    ),
    handover_requires_notice=None,
    compensation=constant("förseningsersättning", Decimal("450"), _SINCE, "lag (1981:739) 4 a §"),
    compensation_rule=(
        "lag (1981:739) 4 a § (B2B only; replaces the inkassoavgift, earlier fees deducted)"
    ),
    time_bar_years_business=constant("preskription", 10, _SINCE, "preskriptionslagen 2 §"),
    time_bar_years_consumer=constant(
        "preskription", 3, _SINCE, "preskriptionslagen 2 § andra stycket (consumer claims)"
    ),
    # preskription runs from the claim's origin (tillkomst), usually the delivery: the issue date
    # is the closest fact we hold (a few days late at most; the warning window covers that).
    time_bar_start="issue_date",
    time_bar_interrupted_by_demand=True,
    time_bar_rule="preskriptionslagen 2 §, 5 § (a written demand interrupts)",
    defaults=MappingProxyType(
        {
            "reminder_after_days": 5,
            "reminder_deadline_days": 10,
            "notice_after_reminder_days": 14,
            "notice_after_due_days": 14,
            "notice_deadline_days": 8,
        }
    ),
)
