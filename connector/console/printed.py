"""The printed report (`kravsync report --format html`), from the console's templates: per
tenant one table of customers with the same columns, findings described in words, the aging
chart, local time with its zone."""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from datetime import datetime
from decimal import Decimal
from typing import Any

from connector.console.describe import describe
from connector.console.pages import CustomerRow
from connector.console.templating import environment

Row = Mapping[str, Any]


def _customers(rows: Sequence[Row], balances: Sequence[CustomerRow]) -> list[dict[str, Any]]:
    """One entry per customer with a balance or a finding: worst first (errors, overdue)."""
    out: dict[str, dict[str, Any]] = {}
    for b in balances:
        if b.balance:
            out[b.id] = {
                "number": b.number,
                "name": b.name,
                "org_number": b.org_number,
                "balance": b.balance,
                "overdue": b.overdue,
                "oldest_days": b.oldest_days,
                "findings": [],
            }
    for r in rows:
        key = str(r.get("customer_id") or r.get("customer_number") or r.get("customer_name"))
        entry = out.setdefault(
            key,
            {
                "number": r.get("customer_number"),
                "name": r.get("customer_name") or "(no customer)",
                "org_number": None,
                "balance": {},
                "overdue": {},
                "oldest_days": 0,
                "findings": [],
            },
        )
        what, fix, _why = describe(str(r["code"]))
        entry["findings"].append(
            {
                "severity": r["severity"],
                "what": what,
                "fix": fix,
                "code": r["code"],
                "message": r.get("message") or "",
            }
        )
    for entry in out.values():
        entry["findings"].sort(key=lambda f: (f["severity"] != "error", f["code"]))
        entry["errors"] = sum(1 for f in entry["findings"] if f["severity"] == "error")

    def order(e: dict[str, Any]) -> tuple[int, Decimal, str]:
        return (-e["errors"], -sum(e["overdue"].values(), Decimal(0)), str(e["name"]).lower())

    return sorted(out.values(), key=order)


def report_html(
    rows: Iterable[Row],
    summary: Mapping[str, Mapping[str, Any]],
    generated_at: datetime,
    balances: Mapping[str, Sequence[CustomerRow]] | None = None,
) -> str:
    """``balances``: per tenant, every customer's balance (from the store); without it the
    table lists the customers with findings only."""
    rows = list(rows)
    tenants = []
    for name, s in summary.items():
        mine = [r for r in rows if r.get("tenant") == name]
        tenants.append(
            {
                "name": name,
                "summary": s,
                "customers": _customers(mine, (balances or {}).get(name, ())),
            }
        )
    orphans = [r for r in rows if r.get("tenant") not in summary]
    if orphans:
        tenants.append({"name": "", "summary": {}, "customers": _customers(orphans, ())})
    template = environment().get_template("report.html")
    return template.render(tenants=tenants, generated_at=generated_at)
