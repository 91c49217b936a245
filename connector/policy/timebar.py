"""Time bars: NO foreldelse (3 years from the due date, not interrupted by a reminder; a last
day on a Saturday or holiday moves to the next working day, foreldelsesloven § 29 nr. 2) and SE
preskription (10 years, 3 for consumer claims, restarted by each written demand).

Where a fact is uncertain the earlier date is taken, so kravsync never reminds a claim that may
already be time-barred: the due date before any move off a closed day (NO), the sending day of a
demand rather than its receipt (SE, documented in the rules' ``time_bar_interruption_note``)."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date, timedelta

from connector.models import Customer, CustomerKind, Invoice
from connector.policy.calendar import is_statutory_day
from connector.policy.history import TakenAction
from connector.policy.rules import CountryRules

_DAY = timedelta(days=1)


@dataclass(frozen=True, slots=True)
class TimeBar:
    expires_on: date  # the first day the claim is time-barred
    start: date
    years: int
    rule: str
    moved_from: date | None = None  # the period's own last day, where it fell on a closed day

    def barred(self, today: date) -> bool:
        return today >= self.expires_on

    @property
    def last_day(self) -> date:
        return self.expires_on - _DAY

    def describe(self) -> str:
        moved = ""
        if self.moved_from is not None:
            moved = f", {self.moved_from} being a closed day"
        return f"{self.years} years from {self.start}, last day {self.last_day}{moved}; {self.rule}"


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
    end = add_years(start, years)
    if not rules.time_bar_moves_off_closed_days:
        # no rule moves the end: the claim counts as barred from the anniversary itself
        return TimeBar(end, start, years, rules.time_bar_rule)
    # the period runs out on the day with the same date (NO: foreldelsesloven § 29 nr. 1) and
    # a closed last day moves to the next working day (§ 29 nr. 2)
    last = end
    while not is_statutory_day(rules.country, last):
        last += _DAY
    if last == end:
        return TimeBar(last + _DAY, start, years, rules.time_bar_rule)
    rule = f"{rules.time_bar_rule}; {rules.time_bar_moves_off_closed_days}"
    return TimeBar(last + _DAY, start, years, rule, end)


def time_bar_warning(bar: TimeBar, today: date, window_days: int) -> str | None:
    if bar.barred(today):
        return f"time-barred since {bar.expires_on} ({bar.describe()})"
    if today >= bar.expires_on - timedelta(days=window_days):
        return f"time bar: claim is time-barred on {bar.expires_on} ({bar.describe()})"
    return None
