"""Dated rule tables: every legal figure with the day it took effect and where it comes from.

A rule is never a literal in the engine; it is looked up for a day. A period whose value is
``None`` is announced but not yet known: a lookup on it falls back to the last known figure and
says so in ``Lookup.note``, so the decision an auditor reads shows the assumption.
"""

from __future__ import annotations

from bisect import bisect_right
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import date
from decimal import Decimal
from typing import Generic, TypeVar

T = TypeVar("T")


@dataclass(frozen=True, slots=True)
class Period(Generic[T]):
    valid_from: date
    value: T | None  # None: this period's figure is not yet known
    source: str


@dataclass(frozen=True, slots=True)
class Lookup(Generic[T]):
    """A figure for one day: ``value`` is None only before the table's first period."""

    value: T | None
    valid_from: date | None
    source: str
    note: str | None = None


def _plain(value: object) -> str:
    return str(value)


@dataclass(frozen=True)
class DatedTable(Generic[T]):
    """Periods in date order; each applies from its ``valid_from`` until the next one."""

    name: str
    periods: tuple[Period[T], ...]
    fmt: Callable[[T], str] = _plain
    _starts: tuple[date, ...] = field(init=False, repr=False, compare=False)
    _memo: dict[date, Lookup[T]] = field(init=False, repr=False, compare=False)

    def __post_init__(self) -> None:
        starts = tuple(p.valid_from for p in self.periods)
        if not starts or list(starts) != sorted(set(starts)):
            raise ValueError(f"{self.name}: periods must be non-empty, dated and in order")
        if self.periods[0].value is None:
            raise ValueError(f"{self.name}: the first period must have a value")
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

    def _at(self, day: date) -> Lookup[T]:
        i = bisect_right(self._starts, day) - 1
        if i < 0:
            first = self.periods[0]
            return Lookup(None, None, "", f"no {self.name} in the data before {first.valid_from}")
        period = self.periods[i]
        if period.value is not None:
            return Lookup(period.value, period.valid_from, period.source)
        known = next(p for p in reversed(self.periods[:i]) if p.value is not None)
        assert known.value is not None
        note = (
            f"{self.name} for {period.valid_from}.. not yet known; "
            f"used {self.fmt(known.value)} from {known.valid_from}"
        )
        return Lookup(known.value, known.valid_from, known.source, note)

    def segments(self, first: date, last: date) -> list[tuple[date, date, Lookup[T]]]:
        """Split the closed day range ``first..last`` at period starts, each with its figure."""
        out: list[tuple[date, date, Lookup[T]]] = []
        if last < first:
            return out
        cuts = [s for s in self._starts if first < s <= last]
        start = first
        for cut in cuts:
            out.append((start, date.fromordinal(cut.toordinal() - 1), self.at(start)))
            start = cut
        out.append((start, last, self.at(start)))
        return out


def constant(name: str, value: T, since: date, source: str) -> DatedTable[T]:
    """A rule with a single known figure (a statute's fixed number of days, say)."""
    return DatedTable(name, (Period(since, value, source),))


def percent(value: Decimal) -> str:
    return f"{value:.2f} %"


def kroner(currency: str) -> Callable[[Decimal], str]:
    return lambda value: f"{value} {currency}"
