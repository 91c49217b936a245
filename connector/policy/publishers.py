"""`kravsync rates update`: new half-years from the publishers' open APIs (no key needed).

- Norway: Norges Bank's policy rate (SDMX API, ``data.norges-bank.no/api/data/IR/B.KPRA.SD.R``,
  a business-day series). The forsinkelsesrente for a half-year is the policy rate in force on
  1 January / 1 July + 8 percentage points (forsinkelsesrenteloven § 3 and the ministry's
  practice); the half-year's regulation is the legal source, so the row says "derived; confirm".
  The standardkompensasjon (EUR 40 in NOK) has no API: it stays a figure to set by hand.
- Sweden: the Riksbank's referensränta itself (SWEA API, series ``SECBREFEFF``), the figure
  räntelagen 9 § refers to.

This module is the only one in the policy package that does I/O; the rest stays pure.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from datetime import date, timedelta
from decimal import Decimal
from typing import Any

from connector.policy.rates import RateRow, row_problem
from connector.policy.tables import Evidence, half_year_end
from providers.http import HttpClient, ProviderError, RetryPolicy

NORGES_BANK_API = "https://data.norges-bank.no/api"
RIKSBANK_API = "https://api.riksbank.se/swea/v1"
POLICY_RATE_KEY = "IR/B.KPRA.SD.R"
REFERENSRANTA_SERIES = "SECBREFEFF"
FIRST_HALF_YEAR = date(2024, 1, 1)  # the built-in tables start here
_LOOKBACK = timedelta(days=14)  # a business-day series has no value on 1 January


def half_year_starts(first: date, today: date) -> list[date]:
    """1 January and 1 July from ``first`` to ``today`` inclusive."""
    out: list[date] = []
    year, month = first.year, 1 if first.month <= 6 else 7
    while True:
        start = date(year, month, 1)
        if start > today:
            return out
        if start >= first:
            out.append(start)
        year, month = (year, 7) if month == 1 else (year + 1, 1)


def _client(provider: str, base_url: str) -> HttpClient:
    return HttpClient(
        provider=provider,
        base_url=base_url,
        retry=RetryPolicy(max_tries=3),
        request_id_header=None,
    )


# -- Norges Bank -------------------------------------------------------------------------------


def policy_rates(body: dict[str, Any]) -> dict[date, Decimal]:
    """Observations of an SDMX-JSON 1.0 data message: the series' values by TIME_PERIOD."""
    data = body["data"]
    dates = [v["id"] for v in data["structure"]["dimensions"]["observation"][0]["values"]]
    out: dict[date, Decimal] = {}
    for series in data["dataSets"][0]["series"].values():
        for index, values in series["observations"].items():
            if values and values[0] not in (None, ""):
                out[date.fromisoformat(dates[int(index)])] = Decimal(str(values[0]))
    return out


def norway_rows(
    observations: dict[date, Decimal], today: date, fetched_at: str, first: date = FIRST_HALF_YEAR
) -> list[RateRow]:
    """Forsinkelsesrente per half-year: the policy rate on its first day + 8 pp."""
    rows: list[RateRow] = []
    for start in half_year_starts(first, today):
        seen = [d for d in observations if start - _LOOKBACK <= d <= start]
        if not seen:
            continue
        day = max(seen)
        policy = observations[day]
        rows.append(
            RateRow(
                "NO",
                "forsinkelsesrente",
                start,
                (policy + 8).quantize(Decimal("0.01")),
                f"Norges Bank's policy rate {policy} % in force on {start} (observation {day}, "
                f"data.norges-bank.no {POLICY_RATE_KEY}) + 8 pp (forsinkelsesrenteloven § 3): "
                "derived; confirm against the half-year's regulation on Lovdata",
                Evidence.FETCHED,
                f"fetched {fetched_at}",
            )
        )
    return rows


def fetch_norway(today: date, fetched_at: str, client: HttpClient | None = None) -> list[RateRow]:
    client = client or _client("norges-bank", NORGES_BANK_API)
    body = client.get_json(
        f"data/{POLICY_RATE_KEY}",
        params={
            "format": "sdmx-json",
            "startPeriod": (FIRST_HALF_YEAR - _LOOKBACK).isoformat(),
            "endPeriod": today.isoformat(),
            "locale": "en",
        },
    )
    return norway_rows(policy_rates(body), today, fetched_at)


# -- Riksbanken ------------------------------------------------------------------------------


def sweden_rows(
    observations: Sequence[dict[str, Any]],
    today: date,
    fetched_at: str,
    first: date = FIRST_HALF_YEAR,
) -> tuple[list[RateRow], list[str]]:
    """The referensränta per half-year (its first observation in the half-year), and problems
    (a half-year whose observations disagree is left out)."""
    by_day = {
        date.fromisoformat(str(o["date"])[:10]): Decimal(str(o["value"])) for o in observations
    }
    rows: list[RateRow] = []
    problems: list[str] = []
    for start in half_year_starts(first, today):
        inside = sorted(d for d in by_day if start <= d <= half_year_end(start))
        if not inside:
            continue
        values = {by_day[d] for d in inside}
        if len(values) > 1:
            problems.append(
                f"SE referensränta {start}: the series holds several values in the half-year "
                f"({', '.join(str(v) for v in sorted(values))}): left out"
            )
            continue
        value = by_day[inside[0]]
        rows.append(
            RateRow(
                "SE",
                "referensranta",
                start,
                value.quantize(Decimal("0.01")),
                f"Riksbanken's referensränta (api.riksbank.se/swea/v1, series "
                f"{REFERENSRANTA_SERIES}, observation {inside[0]})",
                Evidence.FETCHED,
                f"fetched {fetched_at}",
            )
        )
    return rows, problems


def fetch_sweden(
    today: date, fetched_at: str, client: HttpClient | None = None
) -> tuple[list[RateRow], list[str]]:
    client = client or _client("riksbank", RIKSBANK_API)
    body = client.get_json(
        f"Observations/{REFERENSRANTA_SERIES}/{FIRST_HALF_YEAR.isoformat()}/{today.isoformat()}"
    )
    if not isinstance(body, list):
        raise ValueError("the Riksbank answered something other than a list of observations")
    return sweden_rows(body, today, fetched_at)


# -- the command -------------------------------------------------------------------------------


@dataclass
class UpdateResult:
    rows: list[RateRow] = field(default_factory=list)
    lines: list[str] = field(default_factory=list)
    failed: list[str] = field(default_factory=list)


Fetcher = Callable[[date, str], tuple[list[RateRow], list[str]]]


def _no(today: date, fetched_at: str) -> tuple[list[RateRow], list[str]]:
    return fetch_norway(today, fetched_at), [
        "NO standardkompensasjon: no API publishes it; set new half-years in [rates.no]",
        "NO inkassosats: no API publishes it; set a change in [rates.no]",
    ]


FETCHERS: dict[str, Fetcher] = {"NO": _no, "SE": fetch_sweden}


def update(
    countries: Sequence[str],
    today: date,
    fetched_at: str,
    known: Sequence[dict[str, Any]] = (),
    fetchers: dict[str, Fetcher] | None = None,
) -> UpdateResult:
    """Fetch every half-year up to ``today`` for ``countries``; ``known``: the store's rows, to
    say what is new or changed. A country whose publisher fails is reported, not raised."""
    fetchers = fetchers or FETCHERS
    before = {(k["country"], k["figure"], k["valid_from"]): k["value"] for k in known}
    result = UpdateResult()
    for country in countries:
        try:
            rows, notes = fetchers[country](today, fetched_at)
        except (ProviderError, ValueError, KeyError, TypeError, IndexError) as exc:
            result.failed.append(f"{country}: {exc}")
            continue
        for row in rows:
            problem = row_problem(row)
            if problem:
                result.lines.append(f"{country} {row.figure} {row.valid_from}: skipped, {problem}")
                continue
            old = before.get((row.country, row.figure, row.valid_from.isoformat()))
            state = (
                "new"
                if old is None
                else ("unchanged" if Decimal(old) == row.value else f"changed from {old}")
            )
            result.lines.append(
                f"{country} {row.figure} from {row.valid_from}: {row.value} ({state})"
            )
            result.rows.append(row)
        result.lines.extend(notes)
    return result
