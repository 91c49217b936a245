"""Keeping the published figures current: built-in tables + figures fetched from the publishers
(`kravsync rates update`, kept in the store) + figures set by hand (``[rates.no]``/``[rates.se]``).

For each period the figure used is, in order: one set by hand; a built-in one backed by a source
(verified, derived, secondary); one fetched from the publisher; otherwise none (a built-in
``UNVERIFIED`` figure is shown but never used). ``effective_rules`` returns the country's rules
with those tables, cached so that the engine's caches see one object per set of figures.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import date
from decimal import Decimal
from functools import lru_cache
from typing import Any

from connector.policy.rules import CountryRules, FigureSpec, rules_for
from connector.policy.tables import DatedTable, Evidence, Period, half_year_end, is_half_year_start

_RANK = {
    Evidence.MANUAL: 0,
    Evidence.VERIFIED: 1,
    Evidence.DERIVED: 1,
    Evidence.SECONDARY: 1,
    Evidence.ASSUMED: 1,
    Evidence.FETCHED: 2,
    Evidence.UNVERIFIED: 3,
}


@dataclass(frozen=True, slots=True)
class RateRow:
    """A figure from outside the code: fetched from its publisher or set by hand."""

    country: str
    figure: str  # a key of the country's ``figures``, e.g. "forsinkelsesrente"
    valid_from: date
    value: Decimal
    source: str
    evidence: Evidence  # FETCHED or MANUAL
    recorded: str = ""  # when it was fetched, or where it was set


@dataclass(frozen=True, slots=True)
class ListedFigure:
    """One row of `kravsync rates`."""

    table: str
    valid_from: date
    value: str
    evidence: Evidence
    source: str
    used: bool
    remark: str = ""


def row_problem(row: RateRow) -> str | None:
    """Why ``row`` cannot be used (unknown figure, a half-year figure not starting on 1 January
    or 1 July, a missing source, a negative value); None when it can."""
    try:
        figures = rules_for(row.country).figures
    except KeyError as exc:
        return str(exc.args[0])
    if row.figure not in figures:
        return f"unknown figure {row.figure!r} for {row.country} (known: {', '.join(figures)})"
    spec = figures[row.figure][0]
    if spec.half_yearly and not is_half_year_start(row.valid_from):
        return f"{row.figure} is set per half-year: valid_from must be a 1 January or 1 July"
    if not row.source.strip():
        return "source: name where the figure comes from (regulation, authority's page)"
    if row.value < 0:
        return "value: must not be negative"
    return None


def _merged(
    spec: FigureSpec, table: DatedTable[Decimal], rows: Sequence[RateRow]
) -> DatedTable[Decimal]:
    candidates: dict[date, list[Period[Decimal]]] = {}
    for p in table.periods:
        candidates.setdefault(p.valid_from, []).append(p)
    for r in rows:
        candidates.setdefault(r.valid_from, []).append(
            Period(r.valid_from, r.value, _row_source(r), r.evidence)
        )
    periods = tuple(_best(found) for _, found in sorted(candidates.items()))
    until = table.until
    if spec.half_yearly:
        ends = [half_year_end(r.valid_from) for r in rows]
        if until is not None or ends:
            until = max([*ends, *([until] if until else [])])
    return DatedTable(table.name, periods, table.fmt, until, table.advice)


def _best(found: list[Period[Decimal]]) -> Period[Decimal]:
    """The figure used for one period (a stable sort: the last manual row wins among manual)."""
    usable = [p for p in found if p.value is not None]
    if not usable:
        return found[0]
    return min(reversed(usable), key=lambda p: _RANK[p.evidence])


def _row_source(row: RateRow) -> str:
    when = f"; {row.recorded}" if row.recorded else ""
    return f"{row.source}{when}"


@lru_cache(maxsize=64)
def effective_rules(country: str, rows: tuple[RateRow, ...] = ()) -> CountryRules:
    """``country``'s rules with fetched and hand-set figures merged in. Rows that do not fit
    (see :func:`row_problem`) or belong to another country are ignored."""
    base = rules_for(country)
    mine = [r for r in rows if r.country == base.country and row_problem(r) is None]
    if not mine or base.assemble is None:
        return base
    tables = {
        key: _merged(spec, table, [r for r in mine if r.figure == key])
        for key, (spec, table) in base.figures.items()
    }
    return base.assemble(tables)


def listing(country: str, rows: Iterable[RateRow] = ()) -> list[ListedFigure]:
    """Every dated figure of ``country``: the published figures with every candidate (built-in,
    fetched, by hand; which one is used), then every other table of the rules."""
    base = rules_for(country)
    rows = [r for r in rows if r.country == base.country]
    effective = effective_rules(base.country, tuple(rows))
    out: list[ListedFigure] = []
    for key, (_spec, table) in base.figures.items():
        used_table = effective.figures[key][1]
        used = {p.valid_from: p for p in used_table.periods}
        candidates = [(p, "built-in") for p in table.periods] + [
            (
                Period(r.valid_from, r.value, _row_source(r), r.evidence),
                "config" if r.evidence is Evidence.MANUAL else "store",
            )
            for r in rows
            if r.figure == key and row_problem(r) is None
        ]
        candidates.sort(key=lambda c: (c[0].valid_from, _RANK[c[0].evidence]))
        for period, where in candidates:
            chosen = used.get(period.valid_from)
            is_used = (
                chosen is not None
                and chosen.evidence is period.evidence
                and chosen.value == period.value
                and chosen.source == period.source
                and period.usable
            )
            remark = where
            if chosen is not None and not is_used and chosen.value is not None:
                if chosen.value != period.value and chosen.evidence.usable:
                    remark += f"; differs from the figure used ({table.fmt(chosen.value)})"
            if not period.evidence.usable:
                remark += "; not used until confirmed"
            out.append(
                ListedFigure(
                    key,
                    period.valid_from,
                    "unknown" if period.value is None else table.fmt(period.value),
                    period.evidence,
                    period.source,
                    is_used,
                    remark,
                )
            )
    published = {id(t) for _, (_, t) in effective.figures.items()}
    for name, table in effective.tables():
        if id(table) in published:
            continue
        for p in table.periods:
            out.append(
                ListedFigure(
                    name,
                    p.valid_from,
                    "unknown" if p.value is None else table.fmt(p.value),
                    p.evidence,
                    p.source,
                    p.usable,
                    "" if table.until is None else f"known to {table.until}",
                )
            )
    return out


def notices(rules: CountryRules, today: date) -> list[str]:
    """One line per published figure with days up to ``today`` that have no usable figure, so
    plan, report and status can say what is not claimed and how to fix it."""
    out: list[str] = []
    recent = date(today.year - 3, 1, 1)  # older gaps concern claims mostly time-barred by now
    for key, (_spec, table) in rules.figures.items():
        gaps = [g for g in _joined(table.gaps(today)) if g[1] >= recent]
        if not gaps:
            continue
        what = {
            "forsinkelsesrente": "no interest is claimed for those days",
            "referensranta": "no dröjsmålsränta is claimed for those days",
            "standardkompensasjon": "no B2B compensation on claims falling due then",
            "inkassosats": "no fee on letters sent then",
        }.get(key, "nothing is claimed on it")
        spans = "; ".join(f"{start}..{end if end < today else 'today'}" for start, end in gaps)
        unconfirmed = [
            f"{table.fmt(p.value)} from {p.valid_from}"
            for p in table.periods
            if p.value is not None
            and not p.evidence.usable
            and any(a <= p.valid_from <= b for a, b in gaps)
        ]
        line = f"{rules.country} {table.name} has no usable figure for {spans}: {what}"
        if unconfirmed:
            line += f"; built-in figures not confirmed: {', '.join(unconfirmed)}"
        if table.advice:
            line += f" ({table.advice})"
        out.append(line)
    return out


def _joined(gaps: list[tuple[date, date, str]]) -> list[tuple[date, date]]:
    """Adjacent gaps as one span."""
    out: list[tuple[date, date]] = []
    for start, end, _why in gaps:
        if out and out[-1][1].toordinal() + 1 == start.toordinal():
            out[-1] = (out[-1][0], end)
        else:
            out.append((start, end))
    return out


def interest_known_until(rules: CountryRules) -> date | None:
    """The last day of the last usable interest figure (None: open-ended or none at all)."""
    table = rules.interest_rate
    usable = [p for p in table.periods if p.usable]
    if not usable:
        return None
    last = usable[-1]
    later = [p.valid_from for p in table.periods if p.valid_from > last.valid_from]
    if later:
        return date.fromordinal(min(later).toordinal() - 1)
    return table.until


def to_store(row: RateRow, fetched_at: str) -> dict[str, Any]:
    """A fetched row as the store keeps it."""
    return {
        "country": row.country,
        "figure": row.figure,
        "valid_from": row.valid_from.isoformat(),
        "value": str(row.value),
        "source": row.source,
        "fetched_at": fetched_at,
    }


def from_store(raw: dict[str, Any]) -> RateRow:
    """A row of the store's ``rates`` table (fetched by `kravsync rates update`)."""
    return RateRow(
        raw["country"],
        raw["figure"],
        date.fromisoformat(raw["valid_from"]),
        Decimal(raw["value"]),
        raw["source"],
        Evidence.FETCHED,
        f"fetched {raw['fetched_at']}",
    )
