"""What a country's rules look like, and the registry of countries (``rules_for``)."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from decimal import Decimal
from types import MappingProxyType
from typing import Any, Literal

from connector.models import ActionStage
from connector.policy.tables import DatedTable


@dataclass(frozen=True)
class CountryRules:
    """Every figure and rule citation the engine needs for one country, as dated data."""

    country: str
    currency: str
    stage_names: Mapping[ActionStage, str]
    # business days: the `holidays` categories counted as closed, plus fixed (month, day)s
    holiday_categories: tuple[str, ...]
    extra_closed_days: tuple[tuple[int, int], ...]
    business_day_source: str
    # interest on late payment, % p.a., simple, per day on a fixed day basis
    interest_rate: DatedTable[Decimal]
    interest_day_basis: int
    # fee caps per letter (whole kroner/kronor) and the conditions for charging them
    reminder_fee_cap: DatedTable[Decimal]
    notice_fee_cap: DatedTable[Decimal]
    fee_min_days_after_due: DatedTable[int]
    max_fee_letters: DatedTable[int] | None  # per claim, all stages together (NO: 2)
    max_fees_per_stage: DatedTable[int] | None  # per claim and stage (SE: 1)
    second_fee_min_deadline_days: DatedTable[int] | None
    fee_count_reset_months: DatedTable[int] | None
    reminder_fee_agreement_rule: str | None  # set where a reminder fee must be agreed first
    notice_min_deadline_days: DatedTable[int]
    handover_requires_notice: str | None  # the rule, where one applies
    # B2B standard compensation (looked up on the due date); replaces fees, earlier fees deducted
    compensation: DatedTable[Decimal]
    compensation_rule: str
    # time bars
    time_bar_years_business: DatedTable[int]
    time_bar_years_consumer: DatedTable[int]
    time_bar_start: Literal["due_date", "issue_date"]
    time_bar_interrupted_by_demand: bool
    time_bar_rule: str
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


def rules_for(country: str) -> CountryRules:
    """The rules for ``country`` ("NO" or "SE"); KeyError names the supported ones."""
    from connector.policy import rules_no, rules_se

    known = {"NO": rules_no.RULES, "SE": rules_se.RULES}
    try:
        return known[country.upper()]
    except KeyError:
        raise KeyError(f"no reminder rules for country {country!r} (known: NO, SE)") from None


__all__ = ["CountryRules", "rules_for"]
