"""`kravsync status`: per tenant counts, open balances per currency and the last run."""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from datetime import date, datetime, timedelta
from decimal import Decimal
from typing import Any

from connector.clock import Clock
from connector.config import TenantConfig
from connector.render.textsafe import printable
from connector.store import Store, TenantStatus
from connector.store.records import ActionCounts
from connector.store.workers import WorkerRecord

STATES = ("done", "pending", "failed", "stuck")


def action_counts(store: Store, tenant: TenantConfig, clock: Clock) -> ActionCounts:
    """The tenant's journal by state, with its own threshold for stuck."""
    return store.action_counts(tenant.name, clock.now(), tenant.stuck_after)


def age(delta: timedelta | None) -> str:
    """``3d 4h``, ``5h 10m``, ``12m``; ``-`` for none."""
    if delta is None:
        return "-"
    minutes = max(0, int(delta.total_seconds() // 60))
    days, rest = divmod(minutes, 24 * 60)
    hours, minutes = divmod(rest, 60)
    if days:
        return f"{days}d {hours}h"
    return f"{hours}h {minutes}m" if hours else f"{minutes}m"


def counts_line(counts: ActionCounts, now: datetime) -> str:
    """``2 done, 1 pending, 3 failed, 0 stuck; oldest 2d 4h``."""
    line = ", ".join(f"{getattr(counts, s)} {s}" for s in STATES)
    oldest = counts.oldest_age(now)
    return line + (f"; oldest {age(oldest)}" if oldest is not None else "")


def counts_json(counts: ActionCounts, now: datetime) -> dict[str, Any]:
    """Per state: the count and the age in seconds of its oldest action (not done)."""
    out: dict[str, Any] = {s: getattr(counts, s) for s in STATES}
    out["oldest_seconds"] = {
        s: int((now - when).total_seconds()) for s, when in sorted(counts.oldest.items())
    }
    return out


def _money(amounts: dict[str, Decimal]) -> str:
    return (
        ", ".join(
            f"{amount:,.2f} {currency}".replace(",", " ") for currency, amount in amounts.items()
        )
        or "-"
    )


def status_json(
    statuses: Iterable[TenantStatus],
    actions: Mapping[str, ActionCounts] | None = None,
    now: datetime | None = None,
) -> dict[str, Any]:
    tenants = []
    for s in statuses:
        run = s.last_run
        counts = (actions or {}).get(s.tenant)
        tenants.append(
            {
                "tenant": s.tenant,
                **(
                    {"actions": counts_json(counts, now)}
                    if counts is not None and now is not None
                    else {}
                ),
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


def status_table(
    statuses: Iterable[TenantStatus],
    actions: Mapping[str, ActionCounts] | None = None,
    now: datetime | None = None,
) -> str:
    statuses = list(statuses)
    shown_actions = actions is not None and now is not None
    header: tuple[str, ...] = (
        "tenant", "customers", "open", "outstanding", "overdue", "overdue amount", "last run"
    )
    if shown_actions:
        header += (*STATES, "oldest")
    rows: list[tuple[str, ...]] = [header]
    for s in statuses:
        run = s.last_run
        last = "never" if run is None else f"{run.started_at.astimezone():%Y-%m-%d %H:%M} {run.outcome}"
        row: tuple[str, ...] = (
            s.tenant,
            str(s.customers),
            str(s.open_invoices),
            _money(s.outstanding),
            str(s.overdue),
            _money(s.overdue_amount),
            last,
        )
        if actions is not None and now is not None:
            counts = actions.get(s.tenant, ActionCounts())
            row += (*(str(getattr(counts, st)) for st in STATES), age(counts.oldest_age(now)))
        rows.append(row)
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


def _since(seconds: float) -> str:
    """``4s``, ``3m 05s``, ``2h 10m``: a heartbeat's age."""
    whole = max(0, int(seconds))
    if whole < 60:
        return f"{whole}s"
    minutes, secs = divmod(whole, 60)
    if minutes < 60:
        return f"{minutes}m {secs:02d}s"
    return age(timedelta(seconds=whole))


def workers_json(workers: Iterable[WorkerRecord], now: float) -> list[dict[str, Any]]:
    """The daemon workers (host time ``now``): host, pid, tenants held, heartbeat age, stale."""
    return [w.as_json(now) for w in workers]


def workers_table(workers: Iterable[WorkerRecord], now: float) -> str:
    """``workers:`` and one line per daemon worker; stale ones flagged ``STALE``."""
    header = ("host", "pid", "concurrency", "tenants held", "last heartbeat", "")
    rows: list[tuple[str, ...]] = [header]
    for w in workers:
        rows.append(
            (
                w.host,
                str(w.pid),
                str(w.concurrency),
                ", ".join(w.tenants) or "-",
                f"{_since(w.heartbeat_age(now))} ago",
                "STALE" if w.stale else "",
            )
        )
    widths = [max(len(r[i]) for r in rows) for i in range(len(header))]
    lines = ["  ".join(cell.ljust(widths[i]) for i, cell in enumerate(r)).rstrip() for r in rows]
    lines.insert(1, "  ".join("-" * w for w in widths if w).rstrip())
    return "\n".join(printable(line) for line in ["workers:", *lines])
