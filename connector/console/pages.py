"""The data each console page shows, read from the store (the report's functions reused)."""

from __future__ import annotations

import json
import sqlite3
from collections import defaultdict
from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import date, datetime, timedelta
from decimal import Decimal
from typing import Any

from connector.config import TenantConfig
from connector.console.describe import describe
from connector.models import Customer, Invoice
from connector.render.report import BUCKETS
from connector.render.views import tenant_notices
from connector.store import Store
from connector.store.console import SCALE

PAGE_SIZE = 50

# Registry states and findings that mean: no new credit.
_HOLD_CODES = {"org_number.bankrupt", "org_number.dissolving", "org_number.deleted"}


def money(units: int) -> Decimal:
    return Decimal(units) / SCALE


def receivables(tenant: TenantConfig, store: Store, today: date) -> dict[str, dict[str, Any]]:
    """What ``report.aging_buckets`` gives, summed in the store (exact, see ``SCALE``)."""
    out: dict[str, dict[str, Any]] = {}
    for r in store.aging_units(tenant.name, today):
        cur = out.setdefault(
            r["currency"],
            {
                "outstanding": Decimal(0),
                "overdue": Decimal(0),
                "invoices": 0,
                "overdue_invoices": 0,
                "buckets": {b: Decimal(0) for b in BUCKETS},
            },
        )
        amount = money(r["amount"])
        cur["buckets"][r["bucket"]] += amount
        cur["outstanding"] += amount
        cur["invoices"] += r["n"]
        if r["bucket"] != "0":
            cur["overdue"] += amount
            cur["overdue_invoices"] += r["n"]
    return dict(sorted(out.items()))


def overview(
    tenant: TenantConfig,
    store: Store,
    today: date,
    now: datetime,
    receivables_: dict[str, dict[str, Any]] | None = None,
) -> dict[str, Any]:
    """A tenant's overview; ``receivables_``: already worked out (the console's cache)."""
    if receivables_ is None:
        receivables_ = receivables(tenant, store, today)
    counts = store.action_counts(tenant.name, now, tenant.stuck_after)
    return {
        "tenant": tenant,
        "receivables": receivables_,
        "last_run": store.last_run(tenant.name),
        "actions": counts,
        "customers": store.customer_count(tenant.name),
        "notes": [*store.last_run_notes(tenant.name), *tenant_notices(tenant, store, today)],
    }


def combined(overviews: list[dict[str, Any]]) -> dict[str, dict[str, Any]]:
    """All tenants' receivables added up per currency."""
    out: dict[str, dict[str, Any]] = {}
    for ov in overviews:
        for currency, r in ov["receivables"].items():
            cur = out.setdefault(
                currency,
                {
                    "outstanding": Decimal(0),
                    "overdue": Decimal(0),
                    "invoices": 0,
                    "overdue_invoices": 0,
                    "buckets": {b: Decimal(0) for b in BUCKETS},
                },
            )
            for key in ("outstanding", "overdue", "invoices", "overdue_invoices"):
                cur[key] += r[key]
            for b in BUCKETS:
                cur["buckets"][b] += r["buckets"][b]
    return dict(sorted(out.items()))


@dataclass(frozen=True)
class MonthRow:
    month: str
    currency: str
    invoiced: Decimal
    still_open: Decimal
    count: int

    @property
    def collected(self) -> Decimal | None:
        """Løsningsgrad: the share of what was invoiced that month that has been paid."""
        if self.invoiced <= 0:
            return None
        return (self.invoiced - self.still_open) / self.invoiced * 100


@dataclass(frozen=True)
class MonthDso:
    """DSO at a month's end: open receivables ÷ what was invoiced in the 90 days before × 90,
    from the month's last snapshot (``day``; the current month: the latest)."""

    month: str
    currency: str
    day: str
    days: Decimal | None


def dso_by_month(tenant: TenantConfig, store: Store, today: date) -> list[MonthDso]:
    """DSO per month (the last 12) from the snapshots each cycle writes."""
    since = date(today.year - 1, today.month, 1)
    out = []
    for r in store.month_end_receivables(tenant.name, since):
        invoiced, open_ = int(r["invoiced_90d_units"]), int(r["open_units"])
        days = (Decimal(open_) / Decimal(invoiced) * 90).quantize(Decimal(1)) if invoiced else None
        out.append(MonthDso(r["month"], r["currency"], r["day"], days))
    return out


def collection(
    tenant: TenantConfig, store: Store, today: date
) -> tuple[list[MonthRow], dict[str, Decimal], list[MonthDso]]:
    """Collection rate per month of issue (the last 12 months), DSO per currency over the
    last 90 days (open receivables ÷ amount invoiced in those days × 90), and DSO at each
    month's end from the stored snapshots (invoices carry no payment dates, so that history
    starts with kravsync's first cycle)."""
    since = date(today.year - 1, today.month, 1)
    rows = [
        MonthRow(r["month"], r["currency"], money(r["gross"]), money(r["open"]), r["n"])
        for r in store.issued_by_month(tenant.name, since)
    ]
    recent = store.issued_by_month(tenant.name, today - timedelta(days=90))
    invoiced: dict[str, Decimal] = defaultdict(Decimal)
    for r in recent:
        invoiced[r["currency"]] += money(r["gross"])
    dso = {}
    for currency, open_ in receivables(tenant, store, today).items():
        if invoiced.get(currency):
            dso[currency] = (open_["outstanding"] / invoiced[currency] * 90).quantize(Decimal(1))
    return rows, dso, dso_by_month(tenant, store, today)


@dataclass
class CustomerRow:
    id: str
    number: str | None
    name: str
    org_number: str | None
    balance: dict[str, Decimal] = field(default_factory=dict)
    overdue: dict[str, Decimal] = field(default_factory=dict)
    oldest_days: int = 0
    findings: int = 0


def customer_rows(
    tenant: TenantConfig, store: Store, today: date, search: str = ""
) -> list[CustomerRow]:
    """Every customer matching ``search`` with balance, overdue, oldest days overdue and its
    number of open findings; the largest balance first."""
    balances: dict[str, list[sqlite3.Row]] = defaultdict(list)
    for b in store.customer_balances(tenant.name, today.isoformat()):
        balances[b["customer_id"]].append(b)
    findings: dict[str, int] = defaultdict(int)
    for f in store.finding_rows(tenant.name):
        if f["customer_id"]:
            findings[f["customer_id"]] += 1
    out = []
    for r in store.customer_rows(tenant.name, search.strip()):
        row = CustomerRow(r["provider_id"], r["number"], r["name"], r["org_number"])
        _add_balances(row, balances.get(r["provider_id"], ()), today)
        row.findings = findings.get(r["provider_id"], 0)
        out.append(row)
    out.sort(key=lambda c: (-sum(c.balance.values(), Decimal(0)), c.name.lower()))
    return out


def customer_page(
    tenant: TenantConfig, store: Store, today: date, search: str, page: int
) -> tuple[int, list[CustomerRow]]:
    """(total matching, one page of rows), the largest balance first; sums for that page only."""
    total, rows = store.customer_page_rows(
        tenant.name, search.strip(), max(0, page - 1) * PAGE_SIZE, PAGE_SIZE
    )
    ids = [r["provider_id"] for r in rows]
    balances: dict[str, list[sqlite3.Row]] = defaultdict(list)
    for b in store.customer_balances_of(tenant.name, today.isoformat(), ids) if ids else ():
        balances[b["customer_id"]].append(b)
    findings = store.finding_counts(tenant.name, ids) if ids else {}
    out = []
    for r in rows:
        row = CustomerRow(r["provider_id"], r["number"], r["name"], r["org_number"])
        _add_balances(row, balances.get(r["provider_id"], ()), today)
        row.findings = findings.get(r["provider_id"], 0)
        out.append(row)
    return total, out


def _add_balances(row: CustomerRow, balances: Iterable[sqlite3.Row], today: date) -> None:
    for b in balances:
        row.balance[b["currency"]] = money(b["amount"])
        if b["overdue"]:
            row.overdue[b["currency"]] = money(b["overdue"])
        row.oldest_days = max(row.oldest_days, (today - date.fromisoformat(b["oldest_due"])).days)


@dataclass
class CustomerView:
    customer: Customer
    invoices: list[tuple[Invoice, int]]  # (invoice, days overdue)
    actions: list[sqlite3.Row]
    notes: list[Any]
    findings: list[dict[str, Any]]


def customer_view(
    tenant: TenantConfig, store: Store, today: date, customer_id: str
) -> CustomerView | None:
    customer = store.customer(tenant.name, customer_id)
    if customer is None:
        return None
    invoices = [
        Invoice.model_validate_json(r["data"])
        for r in store.customer_invoices(tenant.name, customer_id)
    ]
    open_ids = {i.provider_id for i in invoices}
    notes = [
        n
        for n in store.notes(tenant.name)
        if n.customer_id == customer_id or n.invoice_id in open_ids
    ]
    return CustomerView(
        customer=customer,
        invoices=[(i, (today - i.due_date).days) for i in invoices if i.is_open],
        actions=store.customer_actions(tenant.name, customer_id),
        notes=sorted(notes, key=lambda n: n.created_at, reverse=True),
        findings=[described(dict(f)) for f in finding_rows(store, tenant.name, customer_id)],
    )


@dataclass
class InvoiceView:
    invoice: Invoice
    days_overdue: int
    customer: Customer | None
    actions: list[sqlite3.Row]  # the letters about this invoice, newest first
    notes: list[Any]  # on the invoice, and on its customer as a whole


def invoice_view(
    tenant: TenantConfig, store: Store, today: date, invoice_id: str
) -> InvoiceView | None:
    invoice = store.invoice(tenant.name, invoice_id)
    if invoice is None:
        return None
    customer = store.customer(tenant.name, invoice.customer_id) if invoice.customer_id else None
    actions = (
        [
            a
            for a in store.customer_actions(tenant.name, invoice.customer_id)
            if a["invoice_id"] == invoice_id
        ]
        if invoice.customer_id
        else []
    )
    notes = [
        n
        for n in store.notes(tenant.name)
        if n.invoice_id == invoice_id
        or (n.invoice_id is None and n.customer_id == invoice.customer_id)
    ]
    return InvoiceView(
        invoice=invoice,
        days_overdue=(today - invoice.due_date).days,
        customer=customer,
        actions=actions,
        notes=sorted(notes, key=lambda n: n.created_at, reverse=True),
    )


def finding_rows(store: Store, tenant: str, customer_id: str) -> list[sqlite3.Row]:
    return [f for f in store.finding_rows(tenant) if f["customer_id"] == customer_id]


def described(row: dict[str, Any]) -> dict[str, Any]:
    row["what"], row["fix"], row["why"] = describe(row["code"])
    if isinstance(row.get("blocks"), str):
        row["blocks"] = json.loads(row["blocks"])
    return row


def quality(tenant: TenantConfig, store: Store) -> dict[str, list[dict[str, Any]]]:
    """Open findings grouped by severity (errors first), then the resolved ones."""
    out: dict[str, list[dict[str, Any]]] = {"error": [], "warning": [], "resolved": []}
    for f in store.finding_rows(tenant.name):
        out["error" if f["severity"] == "error" else "warning"].append(described(dict(f)))
    out["resolved"] = [described(dict(f)) for f in store.finding_rows(tenant.name, resolved=True)]
    return out


@dataclass
class HoldRow:
    tenant: str
    customer_id: str
    number: str | None
    name: str
    reasons: list[str]


def credit_holds(tenant: TenantConfig, store: Store, today: date) -> list[HoldRow]:
    """Customers who should get no new credit, each with the reasons in words, those with the
    most reasons first (names not read: see ``named_holds``)."""
    reasons: dict[str, list[str]] = defaultdict(list)
    for f in store.finding_rows(tenant.name):
        cid = f["customer_id"]
        if not cid:
            continue
        if f["code"] in _HOLD_CODES:
            reasons[cid].append(describe(f["code"])[0])
        elif f["severity"] == "error":
            reasons[cid].append(f"blocks collection: {describe(f['code'])[0]}")
    for h in store.collection_history(tenant.name, today):
        if h["handed"]:
            reasons[h["customer_id"]].append(f"handed over to collection: invoice {h['handed']}")
        if h["missed"] >= 2:
            reasons[h["customer_id"]].append(f"{h['missed']} payment deadlines missed")
    for cid in store.open_disputes(tenant.name):
        reasons[cid].append("open dispute")
    out = [HoldRow(tenant.name, cid, None, "", sorted(set(why))) for cid, why in reasons.items()]
    return sorted(out, key=lambda h: (-len(h.reasons), h.customer_id))


def named_holds(store: Store, rows: list[HoldRow]) -> list[HoldRow]:
    """``rows`` with their customers' numbers and names (read for these rows only)."""
    out = []
    for tenant in dict.fromkeys(h.tenant for h in rows):
        mine = [h for h in rows if h.tenant == tenant]
        names = store.customer_names(tenant, [h.customer_id for h in mine])
        for h in mine:
            h.number, h.name = names.get(h.customer_id, (None, "(unknown)"))
            out.append(h)
    return out
