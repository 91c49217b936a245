"""Business days per country: weekends, public holidays (``holidays`` package) and the
country's extra closed days from its rules. Lookups are cached: planning 100k invoices asks
about the same few hundred days again and again.

Two calendars: *business days* (deadlines in kravsync's own letters, sending days) also skip the
rules' ``extra_closed_days`` (NO: 24 and 31 December, in the debtor's favour); *statutory days*
(moving a due date or a time-bar deadline) skip only what the statute names: weekends and the
``holidays`` categories of the rules."""

from __future__ import annotations

from datetime import date, timedelta
from functools import cache, lru_cache

import holidays

from connector.policy.rules import CountryRules, rules_for

_DAY = timedelta(days=1)


@cache
def _calendar(country: str) -> holidays.HolidayBase:
    rules = rules_for(country)
    return holidays.country_holidays(rules.country, categories=rules.holiday_categories)


def _closed_fixed(rules: CountryRules, day: date) -> bool:
    return (day.month, day.day) in rules.extra_closed_days


@lru_cache(maxsize=65536)
def is_business_day(country: str, day: date) -> bool:
    if day.weekday() >= 5:
        return False
    if _closed_fixed(rules_for(country), day):
        return False
    return day not in _calendar(country)


@lru_cache(maxsize=65536)
def next_business_day(country: str, day: date) -> date:
    """``day`` itself if it is a business day, else the first business day after it."""
    while not is_business_day(country, day):
        day += _DAY
    return day


@lru_cache(maxsize=65536)
def is_statutory_day(country: str, day: date) -> bool:
    """A day the due-date and deadline statutes count as a working day (gjeldsbrevloven § 5,
    foreldelsesloven § 29, skuldebrevslagen 5 §)."""
    return day.weekday() < 5 and day not in _calendar(country)


@lru_cache(maxsize=65536)
def deferred_due_date(country: str, due: date) -> date:
    """``due`` itself, or the next statutory working day when it falls on a closed day."""
    while not is_statutory_day(country, due):
        due += _DAY
    return due


def add_business_days(country: str, day: date, count: int) -> date:
    """The ``count``-th business day after ``day`` (``day`` itself not counted)."""
    for _ in range(count):
        day = next_business_day(country, day + _DAY)
    return day


def closed_reason(country: str, day: date) -> str | None:
    """Why ``day`` is not a business day (for explanations), None if it is one."""
    if day.weekday() >= 5:
        return day.strftime("%A")
    if _closed_fixed(rules_for(country), day):
        return "bank holiday"
    name = _calendar(country).get(day)
    return str(name) if name else None
