"""Time bars: NO foreldelse (3 years from due date, not interrupted by a reminder) and SE
preskription (10 years, 3 for consumer claims, restarted by each written demand)."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date, timedelta

from connector.models import Customer, CustomerKind, Invoice
from connector.policy.history import TakenAction
from connector.policy.rules import CountryRules


@dataclass(frozen=True, slots=True)
class TimeBar:
    expires_on: date  # the first day the claim is time-barred
    start: date
    years: int
    rule: str

    def barred(self, today: date) -> bool:
        return today >= self.expires_on


def add_years(day: date, years: int) -> date:
    try:
        return day.replace(year=day.year + years)
    except ValueError:  # 29 February: the earlier day, so a warning is never late
        return day.replace(year=day.year + years, day=28)


def time_bar(
    invoice: Invoice,
    customer: Customer | None,
    history: Sequence[TakenAction],
    rules: CountryRules,
) -> TimeBar:
    """When ``invoice`` becomes time-barred. An unknown customer counts as a consumer (the
    shorter period), so the warning comes early rather than late."""
    consumer = customer is None or customer.kind is CustomerKind.PERSON
    start = invoice.due_date if rules.time_bar_start == "due_date" else invoice.issue_date
    if rules.time_bar_interrupted_by_demand:
        demands = [h.sent_on for h in history if h.is_letter]
        if demands:
            start = max(start, max(demands))
    table = rules.time_bar_years_consumer if consumer else rules.time_bar_years_business
    years = table.at(start).value or table.periods[0].value
    assert years is not None
    return TimeBar(add_years(start, years), start, years, rules.time_bar_rule)


def time_bar_warning(bar: TimeBar, today: date, window_days: int) -> str | None:
    if bar.barred(today):
        return (
            f"time-barred since {bar.expires_on} ({bar.years} years from {bar.start}; {bar.rule})"
        )
    if today >= bar.expires_on - timedelta(days=window_days):
        return (
            f"time bar: claim is time-barred on {bar.expires_on} ({bar.years} years from "
            f"{bar.start}; {bar.rule})"
        )
    return None
