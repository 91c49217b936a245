"""`kravsync rates`: every dated figure with its valid-from day, evidence and source; `kravsync
rates update`: new half-years from the publishers into the store; and the one-line notices that
plan, report and status print where a figure is missing."""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from datetime import date
from typing import Any

from connector.config import Config, manual_row
from connector.policy.publishers import update
from connector.policy.rates import (
    RateRow,
    effective_rules,
    from_store,
    interest_known_until,
    listing,
    notices,
    to_store,
)
from connector.policy.rules import rules_for
from connector.policy.tables import Evidence
from connector.store import Store

COUNTRIES = ("NO", "SE")


def countries_of(config: Config | None, wanted: Sequence[str]) -> list[str]:
    if wanted:
        return [c.upper() for c in wanted]
    found: list[str] = sorted({t.country for t in config.tenants}) if config else []
    return found or list(COUNTRIES)


def extra_rows(config: Config | None, store: Store | None) -> list[RateRow]:
    """Figures fetched into the store and set by hand in the config."""
    rows = [from_store(r) for r in store.stored_rates()] if store is not None else []
    if config is not None:
        rows += [
            manual_row(country, figure, row, f"[rates.{country.lower()}]")
            for country, figure, _, row in config.manual_rate_rows()
        ]
    return rows


def rates_document(
    countries: Iterable[str], rows: Sequence[RateRow], today: date
) -> dict[str, Any]:
    out: dict[str, Any] = {}
    for country in countries:
        mine = tuple(r for r in rows if r.country == country)
        rules = effective_rules(country, mine)
        known = interest_known_until(rules)
        out[country] = {
            "figures": [
                {
                    "table": f.table,
                    "valid_from": f.valid_from.isoformat(),
                    "value": f.value,
                    "evidence": f.evidence.value,
                    "used": f.used,
                    "source": f.source,
                    "remark": f.remark,
                }
                for f in listing(country, mine)
            ],
            "citations": dict(rules.citations()),
            "interest_known_until": known.isoformat() if known else None,
            "notices": notices(rules, today),
        }
    return {"countries": out}


def rates_table(document: dict[str, Any]) -> str:
    lines: list[str] = []
    for country, doc in document["countries"].items():
        rules = rules_for(country)
        lines.append(f"{country}: every dated figure (valid from, value, evidence, source)")
        current = None
        for f in doc["figures"]:
            if f["table"] != current:
                current = f["table"]
                spec = rules.figures.get(current)
                meaning = f" — {spec[0].meaning}" if spec else ""
                lines.append(f"  {current}{meaning}")
            mark = "used" if f["used"] else "NOT USED"
            evidence = (
                f["evidence"].upper() if f["evidence"] == Evidence.UNVERIFIED else f["evidence"]
            )
            remark = f" [{f['remark']}]" if f["remark"] else ""
            lines.append(f"    {f['valid_from']}  {f['value']:<10} {evidence:<10} {mark}{remark}")
            lines.append(f"        source: {f['source']}")
        lines.append("  rules cited:")
        for name, text in doc["citations"].items():
            lines.append(f"    {name}: {text}")
        known = doc["interest_known_until"]
        lines.append(f"  interest rates known to: {known or 'no end date'}")
        for notice in doc["notices"]:
            lines.append(f"  ! {notice}")
        lines.append("")
    lines.append(
        "evidence: verified = the statute, regulation or authority's text was read; derived = "
        "computed by the statutory rule from verified inputs; secondary = a third party only; "
        "assumed = kravsync's cautious choice; fetched = `kravsync rates update`; manual = "
        "[rates.no]/[rates.se]; UNVERIFIED figures are never used: confirm them by hand or by "
        "`kravsync rates update`."
    )
    return "\n".join(lines) + "\n"


def run_update(
    config: Config, store: Store, countries: Sequence[str], today: date, fetched_at: str
) -> tuple[list[str], bool]:
    """Fetch, keep in the store, and say what changed; the flag is False if a publisher failed."""
    known = store.stored_rates()
    result = update(countries, today, fetched_at, known)
    if result.rows:
        store.put_rates(to_store(r, fetched_at) for r in result.rows)
    lines = list(result.lines)
    lines += [f"failed: {f}" for f in result.failed]
    for country in countries:
        rows = tuple(r for r in extra_rows(config, store) if r.country == country)
        known_until = interest_known_until(effective_rules(country, rows))
        lines.append(f"{country}: interest rates now known to {known_until or 'no end date'}")
    return lines, not result.failed
