"""`kravsync status`: per tenant counts, open balances per currency and the last run."""

from __future__ import annotations

from collections.abc import Iterable
from datetime import date
from decimal import Decimal
from typing import Any

from connector.render.textsafe import printable
from connector.store import Store, TenantStatus


def _money(amounts: dict[str, Decimal]) -> str:
    return (
        ", ".join(
            f"{amount:,.2f} {currency}".replace(",", " ") for currency, amount in amounts.items()
        )
        or "-"
    )


def status_json(statuses: Iterable[TenantStatus]) -> dict[str, Any]:
    tenants = []
    for s in statuses:
        run = s.last_run
        tenants.append(
            {
                "tenant": s.tenant,
                "customers": s.customers,
                "open_invoices": s.open_invoices,
                "outstanding": {k: str(v) for k, v in s.outstanding.items()},
                "overdue": s.overdue,
                "overdue_amount": {k: str(v) for k, v in s.overdue_amount.items()},
                "last_run": None
                if run is None
                else {
                    "started_at": run.started_at.isoformat(),
                    "ended_at": run.ended_at.isoformat() if run.ended_at else None,
                    "outcome": run.outcome,
                    "customers": run.customers,
                    "invoices": run.invoices,
                    "skipped": run.skipped,
                    "requests": run.requests,
                    "error": run.error,
                },
            }
        )
    return {"tenants": tenants}


def status_table(statuses: Iterable[TenantStatus]) -> str:
    statuses = list(statuses)
    header = ("tenant", "customers", "open", "outstanding", "overdue", "overdue amount", "last run")
    rows: list[tuple[str, ...]] = [header]
    for s in statuses:
        run = s.last_run
        last = "never" if run is None else f"{run.started_at.astimezone():%Y-%m-%d %H:%M} {run.outcome}"
        rows.append(
            (
                s.tenant,
                str(s.customers),
                str(s.open_invoices),
                _money(s.outstanding),
                str(s.overdue),
                _money(s.overdue_amount),
                last,
            )
        )
    widths = [max(len(r[i]) for r in rows) for i in range(len(header))]
    lines = ["  ".join(cell.ljust(widths[i]) for i, cell in enumerate(r)).rstrip() for r in rows]
    lines.insert(1, "  ".join("-" * w for w in widths))
    errors = [
        f"  {s.tenant}: {s.last_run.error}" for s in statuses if s.last_run and s.last_run.error
    ]
    shown = lines + (["", "last errors:", *errors] if errors else [])
    return "\n".join(printable(line) for line in shown)  # stored errors quote providers


def collect(store: Store, tenants: Iterable[str], today: date) -> list[TenantStatus]:
    return [store.tenant_status(name, today) for name in tenants]
