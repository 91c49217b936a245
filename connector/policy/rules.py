"""What a country's rules look like, and the registry of countries (``rules_for``).

Every table and every citation here is shown by `kravsync rates`; a row's ``source`` names what a
reader can check (statute section, regulation id or the authority's page).
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass, field, fields
from decimal import Decimal
from types import MappingProxyType
from typing import Any, Literal

from connector.models import ActionStage
from connector.policy.tables import DatedTable


@dataclass(frozen=True)
class FigureSpec:
    """A published figure that changes by date and can be kept current from outside the code
    (`kravsync rates update`, or ``[rates.no]``/``[rates.se]`` by hand)."""

    key: str  # the name in the config and the store, e.g. "forsinkelsesrente"
    unit: Literal["percent", "kroner"]
    half_yearly: bool  # set per calendar half-year (a row must start on 1 January or 1 July)
    meaning: str  # one line for `kravsync rates`


@dataclass(frozen=True, eq=False)  # identity: the engine's caches are keyed by it
class CountryRules:
    """Every figure and rule citation the engine needs for one country, as dated data."""

    country: str
    currency: str
    stage_names: Mapping[ActionStage, str]
    # business days: the `holidays` categories counted as closed, plus fixed (month, day)s
    holiday_categories: tuple[str, ...]
    extra_closed_days: tuple[tuple[int, int], ...]
    business_day_source: str  # why a deadline in our letters moves off a closed day
    # a due date on a closed day moves to the next working day (the statutory calendar: the
    # `holidays` categories and weekends, without extra_closed_days)
    due_date_rule: str
    # interest on late payment, % p.a., simple, per day on a fixed day basis
    interest_rate: DatedTable[Decimal]
    interest_day_basis: int
    # when interest starts: the day after the due date if it was agreed in advance, otherwise
    # `interest_after_demand_days` after a written demand
    interest_rule_agreed: str
    interest_rule_demand: str
    interest_after_demand_days: DatedTable[int]
    # fee caps per letter (whole kroner/kronor) and the conditions for charging them
    reminder_fee_cap: DatedTable[Decimal]
    notice_fee_cap: DatedTable[Decimal]
    fee_min_days_after_due: DatedTable[int]
    max_fee_letters: DatedTable[int] | None  # per claim, all stages together (NO: 2)
    max_fees_per_stage: DatedTable[int] | None  # per claim and stage (SE: 1)
    second_fee_min_deadline_days: DatedTable[int] | None
    reminder_fee_agreement_rule: str | None  # set where a reminder fee must be agreed first
    notice_min_deadline_days: DatedTable[int]
    # SE: the notice must also leave this many bank days after its presumed receipt, which is
    # taken to be `presumed_delivery_bank_days` bank days after sending
    notice_min_bank_days_after_receipt: DatedTable[int] | None
    presumed_delivery_bank_days: DatedTable[int] | None
    handover_requires_notice: str | None  # the rule, where one applies
    # B2B standard compensation (looked up on the due date); replaces fees, earlier fees deducted
    compensation: DatedTable[Decimal]
    compensation_rule: str
    compensation_follows_interest: str  # the rule: no compensation before interest runs
    # time bars
    time_bar_years_business: DatedTable[int]
    time_bar_years_consumer: DatedTable[int]
    time_bar_start: Literal["due_date", "issue_date"]
    time_bar_interrupted_by_demand: bool
    time_bar_rule: str
    time_bar_moves_off_closed_days: str | None  # the rule, where a last day on a holiday moves
    time_bar_interruption_note: str | None  # how the interruption day is modelled, and why
    # the published figures that `kravsync rates` can update, with the tables that hold them
    figures: Mapping[str, tuple[FigureSpec, DatedTable[Decimal]]] = field(
        default_factory=lambda: MappingProxyType({})
    )
    # rebuilds these rules with other tables for the figures (see connector.policy.rates)
    assemble: Callable[[Mapping[str, DatedTable[Decimal]]], CountryRules] | None = None
    # tenant policy defaults for this country (keys of PolicySettings)
    defaults: Mapping[str, Any] = field(default_factory=lambda: MappingProxyType({}))

    def fee_cap(self, stage: ActionStage) -> DatedTable[Decimal] | None:
        if stage is ActionStage.REMINDER:
            return self.reminder_fee_cap
        if stage is ActionStage.COLLECTION_NOTICE:
            return self.notice_fee_cap
        return None

    def money(self, amount: Decimal) -> str:
        return f"{amount} {self.currency}"

    def tables(self) -> list[tuple[str, DatedTable[Any]]]:
        """Every dated table of these rules, by field name (for `kravsync rates`)."""
        out: list[tuple[str, DatedTable[Any]]] = []
        for f in fields(self):
            value = getattr(self, f.name)
            if isinstance(value, DatedTable):
                out.append((f.name, value))
        return out

    def citations(self) -> list[tuple[str, str]]:
        """Every rule given as a citation rather than a figure (for `kravsync rates`)."""
        names = (
            "business_day_source",
            "due_date_rule",
            "interest_rule_agreed",
            "interest_rule_demand",
            "reminder_fee_agreement_rule",
            "handover_requires_notice",
            "compensation_rule",
            "compensation_follows_interest",
            "time_bar_rule",
            "time_bar_moves_off_closed_days",
            "time_bar_interruption_note",
        )
        return [(n, getattr(self, n)) for n in names if getattr(self, n)]


def rules_for(country: str) -> CountryRules:
    """The rules for ``country`` ("NO" or "SE"); KeyError names the supported ones."""
    from connector.policy import rules_no, rules_se

    known = {"NO": rules_no.RULES, "SE": rules_se.RULES}
    try:
        return known[country.upper()]
    except KeyError:
        raise KeyError(f"no reminder rules for country {country!r} (known: NO, SE)") from None


__all__ = ["CountryRules", "FigureSpec", "rules_for"]
