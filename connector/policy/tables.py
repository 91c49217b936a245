"""Dated rule tables: every legal figure with the day it took effect, where it comes from and how
sure we are of it.

A rule is never a literal in the engine; it is looked up for a day. A lookup answers ``None`` (with
a ``note`` saying why) where the data has no usable figure: before the first period, past the
table's ``until`` (the last day its figures are known for, e.g. the end of the last half-year of
a rate), on a period announced but not yet known, and on a period whose figure is
``UNVERIFIED``. Callers never fall back to another period's figure: a claim is made only at a
figure the data knows for that day.
"""

from __future__ import annotations

from bisect import bisect_right
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import date, timedelta
from decimal import Decimal
from enum import StrEnum
from typing import Generic, TypeVar

T = TypeVar("T")
_DAY = timedelta(days=1)


class Evidence(StrEnum):
    """How a figure is backed. Every kind but ``UNVERIFIED`` is used in calculations."""

    VERIFIED = "verified"  # the statute, regulation or authority's own text was read
    DERIVED = "derived"  # computed by the statutory rule from verified inputs
    SECONDARY = "secondary"  # only a reputable third party (bank, collection agency) states it
    UNVERIFIED = "unverified"  # not confirmed: shown by `kravsync rates`, never used
    ASSUMED = "assumed"  # kravsync's own cautious choice where the law names no figure
    FETCHED = "fetched"  # from the publisher's API (`kravsync rates update`)
    MANUAL = "manual"  # set by hand in the config ([rates.no] / [rates.se]) with its source

    @property
    def usable(self) -> bool:
        return self is not Evidence.UNVERIFIED


@dataclass(frozen=True, slots=True)
class Period(Generic[T]):
    valid_from: date
    value: T | None  # None: this period's figure is not yet known
    source: str
    evidence: Evidence = Evidence.VERIFIED

    @property
    def usable(self) -> bool:
        return self.value is not None and self.evidence.usable


@dataclass(frozen=True, slots=True)
class Lookup(Generic[T]):
    """A figure for one day; ``value`` is None where the data has no usable figure (``note``
    says why)."""

    value: T | None
    valid_from: date | None
    source: str
    note: str | None = None
    evidence: Evidence | None = None


def _plain(value: object) -> str:
    return str(value)


@dataclass(frozen=True, eq=False)  # identity: tables key the engine's caches
class DatedTable(Generic[T]):
    """Periods in date order; each applies from its ``valid_from`` until the next one, the last
    until ``until`` (None: until changed, e.g. an amount in a statute)."""

    name: str
    periods: tuple[Period[T], ...]
    fmt: Callable[[T], str] = _plain
    until: date | None = None
    advice: str = ""  # how to get figures the table lacks, e.g. "run `kravsync rates update`"
    _starts: tuple[date, ...] = field(init=False, repr=False)
    _memo: dict[date, Lookup[T]] = field(init=False, repr=False)

    def __post_init__(self) -> None:
        starts = tuple(p.valid_from for p in self.periods)
        if not starts or list(starts) != sorted(set(starts)):
            raise ValueError(f"{self.name}: periods must be non-empty, dated and in order")
        if self.until is not None and self.until < starts[-1]:
            raise ValueError(f"{self.name}: until {self.until} is before the last period")
        object.__setattr__(self, "_starts", starts)
        object.__setattr__(self, "_memo", {})

    def at(self, day: date) -> Lookup[T]:
        """The figure in force on ``day`` (memoised: planning asks about few distinct days)."""
        found = self._memo.get(day)
        if found is None:
            if len(self._memo) > 100_000:
                self._memo.clear()
            found = self._memo[day] = self._at(day)
        return found

    def _hint(self) -> str:
        return f" ({self.advice})" if self.advice else ""

    def _at(self, day: date) -> Lookup[T]:
        i = bisect_right(self._starts, day) - 1
        if i < 0:
            first = self.periods[0]
            return Lookup(None, None, "", f"no {self.name} in the data before {first.valid_from}")
        if self.until is not None and day > self.until:
            return Lookup(
                None, None, "", f"{self.name} after {self.until} is not known yet{self._hint()}"
            )
        period = self.periods[i]
        if period.value is None:
            return Lookup(
                None,
                period.valid_from,
                period.source,
                f"{self.name} from {period.valid_from} is not known yet{self._hint()}",
            )
        if not period.evidence.usable:
            return Lookup(
                None,
                period.valid_from,
                period.source,
                f"{self.name} {self.fmt(period.value)} from {period.valid_from} is unverified "
                f"and not used{self._hint()}",
                period.evidence,
            )
        return Lookup(period.value, period.valid_from, period.source, None, period.evidence)

    def segments(self, first: date, last: date) -> list[tuple[date, date, Lookup[T]]]:
        """Split the closed day range ``first..last`` at period starts (and after ``until``),
        each piece with its figure."""
        out: list[tuple[date, date, Lookup[T]]] = []
        if last < first:
            return out
        starts = list(self._starts)
        if self.until is not None:
            starts.append(self.until + _DAY)
        cuts = [s for s in starts if first < s <= last]
        start = first
        for cut in cuts:
            out.append((start, cut - _DAY, self.at(start)))
            start = cut
        out.append((start, last, self.at(start)))
        return out

    def gaps(self, last: date) -> list[tuple[date, date, str]]:
        """Day ranges from the first period to ``last`` without a usable figure, each with why."""
        out: list[tuple[date, date, str]] = []
        for start, end, look in self.segments(self.periods[0].valid_from, last):
            if look.value is None:
                out.append((start, end, look.note or ""))
        return out


def constant(
    name: str, value: T, since: date, source: str, evidence: Evidence = Evidence.VERIFIED
) -> DatedTable[T]:
    """A rule with a single known figure (a statute's fixed number of days, say)."""
    return DatedTable(name, (Period(since, value, source, evidence),))


def half_year_end(day: date) -> date:
    """The last day of the calendar half-year ``day`` falls in."""
    return date(day.year, 6, 30) if day.month <= 6 else date(day.year, 12, 31)


def is_half_year_start(day: date) -> bool:
    return (day.month, day.day) in ((1, 1), (7, 1))


def percent(value: Decimal) -> str:
    return f"{value:.2f} %"


def kroner(currency: str) -> Callable[[Decimal], str]:
    return lambda value: f"{value} {currency}"
