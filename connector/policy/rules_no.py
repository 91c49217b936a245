"""Norwegian rules: inkassoloven, inkassoforskriften, forsinkelsesrenteloven, gjeldsbrevloven,
foreldelsesloven.

Every figure carries the day it took effect, its source and how sure we are of it
(:class:`~connector.policy.tables.Evidence`); `kravsync rates` shows them all. A figure marked
``UNVERIFIED`` is shown but never used: confirm it with `kravsync rates update` (Norges Bank's
policy rate) or by hand in ``[rates.no]``.

The new inkassolov (LOV-2026-05-22-19) is adopted but not in force. When its in-force date is
set, add periods here from that date; note that under it only inkassoforetak may send the
statutory inkassovarsel, so the collection_notice stage needs a regime switch, not only figures.
"""

from __future__ import annotations

from collections.abc import Mapping
from datetime import date
from decimal import ROUND_DOWN, ROUND_HALF_UP, Decimal
from types import MappingProxyType

from connector.models import ActionStage
from connector.policy.rules import CountryRules, FigureSpec
from connector.policy.tables import (
    DatedTable,
    Evidence,
    Period,
    constant,
    half_year_end,
    kroner,
    percent,
)

V, D, S, U = Evidence.VERIFIED, Evidence.DERIVED, Evidence.SECONDARY, Evidence.UNVERIFIED
_NOK = kroner("NOK")
_UPDATE = "run `kravsync rates update` or set it in [rates.no] with its source"
_BY_HAND = "set it in [rates.no] with its source"
# the data starts when the purregebyr became 1/20 of the inkassosats (claims older than this are
# time-barred under foreldelsesloven's three years anyway)
_SINCE = date(2020, 10, 1)

_REG = "forskrift om forsinkelsesrente og kompensasjon for inndrivelseskostnader"
_NB = "Norges Bank's policy rate"

FIGURES = {
    "inkassosats": FigureSpec(
        "inkassosats", "kroner", False, "inkassoforskriften § 1-1; purregebyr = 1/20 of it"
    ),
    "forsinkelsesrente": FigureSpec(
        "forsinkelsesrente", "percent", True, "% p.a., set per half-year (policy rate + 8 pp)"
    ),
    "standardkompensasjon": FigureSpec(
        "standardkompensasjon", "kroner", True, "EUR 40 in NOK, set per half-year (B2B)"
    ),
}

INKASSOSATS: DatedTable[Decimal] = DatedTable(
    "inkassosats",
    (
        Period(
            _SINCE,
            Decimal("700"),
            "inkassoforskriften (FOR-1989-07-14-562) § 1-1 tredje ledd 'Inkassosatsen er kr 700' "
            "(Juridika); purregebyr 1/20 of it from 2020-10-01 (Justis- og "
            "beredskapsdepartementet, regjeringen.no id2714995)",
            V,
        ),
        Period(
            date(2026, 1, 1),
            Decimal("750"),
            "inkassoforskriften § 1-1 as amended from 2026-01-01 (kred.no: 'Fra 1. januar 2026 er "
            "maksimal inkassosats satt til 750 kroner'; Finanstilsynet's table of "
            "utenrettslige inndrivingskostnader; the amending regulation's text was not read)",
            S,
        ),
    ),
    _NOK,
    advice=_BY_HAND,
)

INTEREST: DatedTable[Decimal] = DatedTable(
    "forsinkelsesrente",
    (
        Period(
            date(2024, 1, 1),
            Decimal("12.50"),
            "Finansdepartementet's regulation for 2024 H1: 'Rentesatsen skal være 12,5 prosent "
            "p.a.' (regjeringen.no id3019071)",
            V,
        ),
        Period(
            date(2024, 7, 1),
            Decimal("12.50"),
            "FOR-2024-06-26-1320 (repealed by FOR-2024-12-19-3279 § 3); "
            f"{_NB} 4.50 % on 2024-07-01 (Norges Bank, rentebeslutning august 2024) + 8 pp "
            "(forsinkelsesrenteloven § 3)",
            D,
        ),
        Period(
            date(2025, 1, 1),
            Decimal("12.50"),
            f"FOR-2024-12-19-3279 § 1 ('12,5 prosent p.a.', Lovdata) ({_REG})",
            V,
        ),
        Period(
            date(2025, 7, 1),
            Decimal("12.25"),
            f"FOR-2025-06-23-1321 (in force 2025-07-01); {_NB} 4.25 % from 2025-06-19 (Norges "
            "Bank press release 2025-06-19) + 8 pp (forsinkelsesrenteloven § 3)",
            D,
        ),
        Period(
            date(2026, 1, 1),
            Decimal("12.00"),
            f"{_NB} 4.00 % from 2025-09-18 (Norges Bank press release 2025-09-18; held in "
            "December 2025) + 8 pp (forsinkelsesrenteloven § 3); kred.no: 'forsinkelsesrenten "
            "for første halvår 2026 til 12,00 prosent' (regulation FOR-2025-12-18-2658 not read)",
            D,
        ),
        Period(
            date(2026, 7, 1),
            Decimal("12.25"),
            "a third-party note only (FOR-2026-06-25-1372); it needs a policy rate of 4.25 % on "
            "2026-07-01 and no Norges Bank decision raising the rate to that was found",
            U,
        ),
    ),
    percent,
    until=half_year_end(date(2026, 7, 1)),
    advice=_UPDATE,
)

COMPENSATION: DatedTable[Decimal] = DatedTable(
    "standardkompensasjon",
    (
        Period(
            date(2024, 1, 1),
            Decimal("470"),
            "Finansdepartementet's regulation for 2024 H1: 470 kroner (regjeringen.no id3019071)",
            V,
        ),
        Period(
            date(2024, 7, 1),
            Decimal("460"),
            "FOR-2024-06-26-1320 § 2 per a third-party note only (regulation text not read)",
            U,
        ),
        Period(
            date(2025, 1, 1),
            Decimal("470"),
            f"FOR-2024-12-19-3279 § 2 ('fastsettes til 470 kroner', Lovdata) ({_REG})",
            V,
        ),
        Period(
            date(2025, 7, 1),
            Decimal("460"),
            "FOR-2025-06-23-1321 § 2 per a third-party note only (regulation text not read)",
            U,
        ),
        Period(
            date(2026, 1, 1),
            Decimal("460"),
            "kred.no: 'standardkompensasjon for inndrivelseskostnader fastsatt til 460 kroner' "
            "for 2026 H1 (regulation text not read)",
            S,
        ),
        Period(
            date(2026, 7, 1),
            Decimal("430"),
            "FOR-2026-06-25-1372 § 2 per a third-party note only (regulation text not read)",
            U,
        ),
    ),
    _NOK,
    until=half_year_end(date(2026, 7, 1)),
    advice=_BY_HAND + " (no API publishes it)",
)

_ROUNDING_FROM = date(2026, 1, 1)
PURREGEBYR_FRACTION = Decimal(20)  # inkassoforskriften § 1-2: 1/20 of the inkassosats


def purregebyr_cap(inkassosats: DatedTable[Decimal]) -> DatedTable[Decimal]:
    """1/20 of the inkassosats in force on the sending day (inkassoforskriften § 1-2). From
    2026-01-01 the amount is rounded to the nearest krone (half up); before that no rounding
    rule applied, so an uneven amount is cut to whole øre downwards."""
    periods: list[Period[Decimal]] = []
    for p in inkassosats.periods:
        if p.value is None:
            periods.append(Period(p.valid_from, None, p.source, p.evidence))
            continue
        exact = p.value / PURREGEBYR_FRACTION
        if p.valid_from >= _ROUNDING_FROM:
            cap = exact.quantize(Decimal("1"), rounding=ROUND_HALF_UP)
            how = (
                f"{exact} rounded to {cap} by § 1-2 fjerde ledd as amended by "
                "FOR-2025-12-19-2709 from 2026-01-01 ('Beløpet avrundes til nærmeste krone'; "
                "Finanstilsynet's table: purring and inkassovarsel 38, betalingsoppfordring 113)"
            )
            evidence = S if p.evidence is V else p.evidence
        else:
            cap = exact.quantize(Decimal("0.01"), rounding=ROUND_DOWN)
            if cap == cap.to_integral_value():
                cap = cap.quantize(Decimal("1"))
            how = f"{cap}"
            evidence = p.evidence
        periods.append(
            Period(
                p.valid_from,
                cap,
                f"inkassoforskriften § 1-2 første og annet ledd: 1/{PURREGEBYR_FRACTION} of "
                f"inkassosats {p.value} = {how}",
                evidence,
            )
        )
    return DatedTable("purregebyr cap", tuple(periods), _NOK, inkassosats.until)


def assemble(figures: Mapping[str, DatedTable[Decimal]]) -> CountryRules:
    """The Norwegian rules with these tables for the published figures."""
    inkassosats = figures["inkassosats"]
    interest = figures["forsinkelsesrente"]
    compensation = figures["standardkompensasjon"]
    cap = purregebyr_cap(inkassosats)
    return CountryRules(
        country="NO",
        currency="NOK",
        stage_names=MappingProxyType(
            {
                ActionStage.REMINDER: "purring",
                ActionStage.COLLECTION_NOTICE: "inkassovarsel",
                ActionStage.HANDOVER: "overlevering til inkasso",
            }
        ),
        # `holidays` NO "public" holds the helgedager and 1 and 17 May (the days gjeldsbrevloven
        # § 5 and foreldelsesloven § 29 name); 24 and 31 December are not among them.
        holiday_categories=("public",),
        extra_closed_days=((12, 24), (12, 31)),
        business_day_source=(
            "gjeldsbrevloven § 5 annet ledd by analogy (a deadline ending on a Saturday, Sunday, "
            "helgedag or 1 or 17 May moves to the next working day); kravsync also skips 24 and "
            "31 December in its own deadlines (banks closed; beyond the statute, in the debtor's "
            "favour)"
        ),
        due_date_rule=(
            "gjeldsbrevloven § 5 annet ledd, applied to invoice claims by analogy: a due date on "
            "a Saturday, Sunday, helgedag or 1 or 17 May moves to the next working day"
        ),
        interest_rate=interest,
        interest_day_basis=365,  # actual/365, the Norwegian practice (also in leap years)
        interest_rule_agreed=(
            "forsinkelsesrenteloven § 2 første ledd: interest runs from the due date when it was "
            "fixed in advance (kravsync counts from the day after)"
        ),
        interest_rule_demand=(
            "forsinkelsesrenteloven § 2 første ledd: otherwise from 30 days after the creditor "
            "sent a written demand (påkrav) asking for payment"
        ),
        interest_after_demand_days=constant(
            "interest after a written demand",
            30,
            _SINCE,
            "forsinkelsesrenteloven § 2 første ledd (regjeringen.no, the act's text)",
        ),
        reminder_fee_cap=cap,
        notice_fee_cap=cap,
        fee_min_days_after_due=constant(
            "first day for a fee",
            14,
            _SINCE,
            "inkassoforskriften § 1-2 første og annet ledd (purring or inkassovarsel sent at the "
            "earliest 14 days after the due date)",
        ),
        max_fee_letters=constant(
            "fee-bearing letters per claim",
            2,
            _SINCE,
            "inkassoforskriften § 1-3 første ledd første punktum (fees for two purringer, or one "
            "purring and a later inkassovarsel, per claim; the count never resets)",
        ),
        max_fees_per_stage=None,
        second_fee_min_deadline_days=constant(
            "deadline before a second fee",
            14,
            _SINCE,
            "inkassoforskriften § 1-3 første ledd annet punktum (a second fee only after the "
            "debtor missed a deadline of at least 14 days set in the first purring)",
        ),
        reminder_fee_agreement_rule=None,
        notice_min_deadline_days=constant(
            "inkassovarsel deadline",
            14,
            _SINCE,
            "inkassoloven § 9 annet ledd (at least 14 days from sending)",
        ),
        notice_min_bank_days_after_receipt=None,
        presumed_delivery_bank_days=None,
        handover_requires_notice="inkassoloven § 9 første ledd (inkassovarsel before collection)",
        compensation=compensation,
        compensation_rule=(
            "forsinkelsesrenteloven § 3a (B2B only); inkassoforskriften § 2-6 (with § 1-5): fees "
            "already charged are deducted from it, and a later fee is covered by it"
        ),
        compensation_follows_interest=(
            "forsinkelsesrenteloven § 3a: the compensation is due where the creditor has a right "
            "to forsinkelsesrente under § 2, so never before interest runs"
        ),
        time_bar_years_business=constant(
            "foreldelse", 3, _SINCE, "foreldelsesloven § 2 (three years)"
        ),
        time_bar_years_consumer=constant(
            "foreldelse", 3, _SINCE, "foreldelsesloven § 2 (three years)"
        ),
        time_bar_start="due_date",
        time_bar_interrupted_by_demand=False,  # a reminder does not interrupt foreldelse
        # § 3 nr. 1: from the due date (kravsync takes it before any move, the earlier day);
        # § 29 nr. 1: the period ends on the day with the same date
        time_bar_rule="foreldelsesloven §§ 2, 3 nr. 1 and 29 nr. 1",
        time_bar_moves_off_closed_days=(
            "foreldelsesloven § 29 nr. 2: a period ending on a Saturday, helgedag or a day equal "
            "to one is extended to the next working day"
        ),
        time_bar_interruption_note=None,
        figures=MappingProxyType({key: (spec, figures[key]) for key, spec in FIGURES.items()}),
        assemble=assemble,
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


RULES = assemble(
    {
        "inkassosats": INKASSOSATS,
        "forsinkelsesrente": INTEREST,
        "standardkompensasjon": COMPENSATION,
    }
)
