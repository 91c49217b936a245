"""Swedish rules: lag (1981:739) om ersättning för inkassokostnader m.m., inkassolagen (1974:182),
räntelagen (1975:635), skuldebrevslagen (1936:81), preskriptionslagen (1981:130), and IMY's
guidance on god inkassosed.

Dröjsmålsränta is the Riksbank's referensränta + 8 percentage points (räntelagen 6 §), the
referensränta being fixed per calendar half-year (9 §). The table holds the referensränta, the
published figure; `kravsync rates update` fetches new half-years from the Riksbank's API. Past the
last known half-year no interest is claimed (never at a guessed rate).

The amounts of lag (1981:739) have been in the law itself (4 § andra stycket, 4 a §) since
förordning (1981:1057) was repealed on 2013-03-16 (SFS 2013:59).
"""

from __future__ import annotations

from collections.abc import Mapping
from datetime import date
from decimal import Decimal
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

V, D, S, A = Evidence.VERIFIED, Evidence.DERIVED, Evidence.SECONDARY, Evidence.ASSUMED
_SEK = kroner("SEK")
_SINCE = date(2013, 3, 16)  # lag (1981:739) in its SFS 2013:56 wording
_LAW = "lag (1981:739) om ersättning för inkassokostnader m.m."
_IMY = (
    "IMY, god inkassosed: 'Hur lång tid har jag på mig för att betala eller bestrida ett "
    "inkassokrav?' (imy.se, updated 2023-02-21); Inkassonämnden 273-2021"
)
_UPDATE = "run `kravsync rates update` or set it in [rates.se] with its source"
MARGIN = Decimal("8")  # räntelagen 6 §: referensränta + 8 percentage points

FIGURES = {
    "referensranta": FigureSpec(
        "referensranta",
        "percent",
        True,
        "Riksbanken's referensränta per half-year; dröjsmålsränta = it + 8 pp",
    ),
}

REFERENSRANTA: DatedTable[Decimal] = DatedTable(
    "referensränta",
    (
        Period(
            date(2024, 1, 1),
            Decimal("4.00"),
            "Riksbanken fixed it at 4.00 % for 2024-01-01..06-30 (reported by capway.se "
            "2024-01-02); policy rate 4.00 % at the end of 2023",
            S,
        ),
        Period(
            date(2024, 7, 1),
            Decimal("4.00"),
            "räntelagen 9 §: policy rate 3.75 % (from 2024-05-15) rounded up to the next half "
            "percentage point (rule on riksbank.se); mystep.se's table of referensräntor",
            S,
        ),
        Period(
            date(2025, 1, 1),
            Decimal("3.00"),
            "räntelagen 9 §: the effective policy rate at the end of 2024 was 2.75 % (the cut to "
            "2.50 % decided on 2024-12-19 applied only from 2025-01-08, Riksbanken's decision of "
            "December 2024), rounded up to 3.00 %; mystep.se's table agrees",
            D,
        ),
        Period(
            date(2025, 7, 1),
            Decimal("2.00"),
            "räntelagen 9 §: policy rate 2.00 % from 2025-06-25 (statsskuld.se); mystep.se's "
            "table of referensräntor",
            S,
        ),
        Period(
            date(2026, 1, 1),
            Decimal("2.00"),
            "räntelagen 9 §: policy rate 1.75 % from 2025-10-01 (Riksbanken's press release of "
            "September 2025) rounded up to 2.00 %",
            D,
        ),
    ),
    percent,
    until=half_year_end(date(2026, 1, 1)),
    advice=_UPDATE,
)


def drojsmalsranta(referensranta: DatedTable[Decimal]) -> DatedTable[Decimal]:
    """Dröjsmålsränta per half-year: the referensränta + 8 percentage points (räntelagen 6 §)."""
    periods = tuple(
        Period(
            p.valid_from,
            None if p.value is None else p.value + MARGIN,
            f"räntelagen 6 §: referensränta {p.value} % + 8 pp (referensränta: {p.source})",
            p.evidence,
        )
        for p in referensranta.periods
    )
    return DatedTable("dröjsmålsränta", periods, percent, referensranta.until, referensranta.advice)


def assemble(figures: Mapping[str, DatedTable[Decimal]]) -> CountryRules:
    """The Swedish rules with these tables for the published figures."""
    referensranta = figures["referensranta"]
    return CountryRules(
        country="SE",
        currency="SEK",
        stage_names=MappingProxyType(
            {
                ActionStage.REMINDER: "påminnelse",
                ActionStage.COLLECTION_NOTICE: "inkassokrav",
                ActionStage.HANDOVER: "överlämning till inkasso",
            }
        ),
        # Midsommarafton, julafton and nyårsafton: the `holidays` package lists exactly these
        # under the "de_facto" category for SE (from holidays 0.88).
        holiday_categories=("public", "de_facto"),
        extra_closed_days=(),
        business_day_source=(
            "lag (1930:173) om beräkning av lagstadgad tid 2 § and skuldebrevslagen 5 § (a "
            "deadline ending on a Saturday, Sunday, other allmän helgdag, midsommarafton, "
            "julafton or nyårsafton moves to the next weekday)"
        ),
        due_date_rule=(
            "skuldebrevslagen 5 §, applied to invoice claims: a due date on a Sunday, other "
            "allmän helgdag, Saturday, midsommarafton, julafton or nyårsafton moves to the next "
            "weekday (söckendag)"
        ),
        interest_rate=drojsmalsranta(referensranta),
        interest_day_basis=365,
        interest_rule_agreed=(
            "räntelagen 3 §: when the due date was fixed in advance, interest runs from it "
            "(kravsync counts from the day after)"
        ),
        interest_rule_demand=(
            "räntelagen 4 § första stycket: otherwise from 30 days after the creditor sent an "
            "invoice or demand for a fixed amount stating that interest will be charged"
        ),
        interest_after_demand_days=constant(
            "interest after a demand", 30, _SINCE, "räntelagen 4 § första stycket"
        ),
        reminder_fee_cap=constant(
            "påminnelseavgift cap",
            Decimal("60"),
            _SINCE,
            f"{_LAW} 4 § andra stycket 1 (SFS 2013:56)",
        ),
        notice_fee_cap=constant(
            "inkassoavgift cap",
            Decimal("180"),
            _SINCE,
            f"{_LAW} 4 § andra stycket 2 (SFS 2013:56; only for a kravbrev that meets "
            "inkassolagen 5 §, 3 § 1)",
        ),
        fee_min_days_after_due=constant(
            "first day for a fee",
            1,
            _SINCE,
            f"{_LAW} 2 § (a påminnelse about a debt that is due: not before the day after)",
        ),
        max_fee_letters=None,
        max_fees_per_stage=constant(
            "fees per stage",
            1,
            _SINCE,
            f"kravsync: one påminnelseavgift and one inkassoavgift per claim ({_LAW} sets no "
            "count; third parties say one påminnelseavgift per debt)",
            A,
        ),
        second_fee_min_deadline_days=None,
        reminder_fee_agreement_rule=(
            f"{_LAW} 2 § (a påminnelseavgift only where agreed no later than when the debt arose)"
        ),
        notice_min_deadline_days=constant(
            "inkassokrav deadline",
            8,
            _SINCE,
            f"inkassolagen 5 § ('skälig tid') as read by {_IMY}: at least 8 days from sending",
        ),
        notice_min_bank_days_after_receipt=constant(
            "bank days after presumed receipt",
            4,
            _SINCE,
            f"{_IMY}: at least 4 bank days to pay or object from presumed receipt, longer over a "
            "long weekend",
        ),
        presumed_delivery_bank_days=constant(
            "presumed delivery",
            2,
            _SINCE,
            "kravsync's assumption (IMY names no figure): a letter is received 2 bank days after "
            "it is sent, as for two-day post; e-mail is usually earlier, which only lengthens "
            "the debtor's time",
            A,
        ),
        handover_requires_notice=None,
        compensation=constant(
            "förseningsersättning",
            Decimal("450"),
            _SINCE,
            f"{_LAW} 4 a § (SFS 2013:56, claims falling due from 2013-03-16)",
        ),
        compensation_rule=(
            f"{_LAW} 4 a § (B2B only); kravsync deducts earlier fees from it and charges no "
            "inkassoavgift beside it (Sergel; the paragraph on the offset was not read)"
        ),
        compensation_follows_interest=(
            f"{_LAW} 4 a §: förseningsersättning only where the creditor has the right to "
            "dröjsmålsränta, so never before interest runs"
        ),
        time_bar_years_business=constant(
            "preskription", 10, _SINCE, "preskriptionslagen 2 § första stycket (10 years)"
        ),
        time_bar_years_consumer=constant(
            "preskription",
            3,
            _SINCE,
            "preskriptionslagen 2 § andra stycket (3 years for consumer claims)",
        ),
        # preskription runs from the claim's origin (tillkomst), usually the delivery: the issue
        # date is the closest fact we hold (a few days late at most; the warning window covers it)
        time_bar_start="issue_date",
        time_bar_interrupted_by_demand=True,
        time_bar_rule="preskriptionslagen 2 § (from the claim's origin) and 5 § 2",
        time_bar_moves_off_closed_days=None,
        time_bar_interruption_note=(
            "preskriptionslagen 5 § 2 interrupts when the debtor receives a written demand; "
            "kravsync restarts the period on the sending day (receipt is never earlier), so the "
            "date it computes is never later than the real one, and it does not move a last day "
            "off a holiday; the creditor must be able to prove receipt (NJA 2007 s. 157)"
        ),
        figures=MappingProxyType({key: (spec, figures[key]) for key, spec in FIGURES.items()}),
        assemble=assemble,
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


RULES = assemble({"referensranta": REFERENSRANTA})
