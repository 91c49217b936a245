"""Data-quality and receivables reports: pure functions from plain data to text.

Text in the rows comes from providers and is treated as hostile: every renderer masks anything
that validates as a person number (whatever the customer's country), the table escapes control
characters, CSV cells that a spreadsheet would run as a formula are neutralised, and HTML is
escaped.

Input is what the store holds: finding rows (dicts with the DESIGN.md §3 keys: tenant, provider,
customer_id, customer_number, customer_name, code, field, severity, message; ``blocks`` optional)
and a summary per tenant (see :func:`tenant_summary`). Output: ``table`` (terminal), ``csv``,
``json`` and ``html`` (one self-contained, printable file). Amounts are ``Decimal`` and leave as
decimal strings; findings are grouped by customer, worst first.
"""

from __future__ import annotations

import csv
import io
import json
from collections.abc import Iterable, Mapping, Sequence
from datetime import date, datetime
from decimal import Decimal
from typing import Any

from connector.models import Invoice
from connector.render.textsafe import csv_cell, printable
from connector.validation.identifiers import mask_person_numbers

ROW_KEYS = (
    "tenant",
    "provider",
    "customer_id",
    "customer_number",
    "customer_name",
    "code",
    "field",
    "severity",
    "message",
)
CSV_KEYS = (*ROW_KEYS, "blocks")
BUCKETS = ("0", "1-14", "15-30", "31-60", "61-90", "90+")  # days overdue; "0": not overdue
FORMATS = ("table", "csv", "json", "html")

Row = Mapping[str, Any]
Summary = Mapping[str, Mapping[str, Any]]  # tenant → tenant_summary(...)


# --- receivables -------------------------------------------------------------------------------


def _bucket(days_overdue: int) -> str:
    if days_overdue <= 0:
        return "0"
    for label, upper in (("1-14", 14), ("15-30", 30), ("31-60", 60), ("61-90", 90)):
        if days_overdue <= upper:
            return label
    return "90+"


def aging_buckets(invoices: Iterable[Invoice], today: date) -> dict[str, dict[str, Any]]:
    """Open balances per currency: outstanding, overdue, invoice count and aging buckets.

    >>> from connector.models import InvoiceStatus
    >>> inv = Invoice(provider="x", provider_id="1", number="1", customer_id="c",
    ...     issue_date=date(2026, 1, 1), due_date=date(2026, 1, 15), currency="NOK",
    ...     gross=Decimal("100"), outstanding=Decimal("80.50"), status=InvoiceStatus.OPEN)
    >>> aging_buckets([inv], date(2026, 2, 1))["NOK"]["buckets"]["15-30"]
    Decimal('80.50')
    """
    out: dict[str, dict[str, Any]] = {}
    for inv in invoices:
        if not inv.is_open:
            continue
        cur = out.setdefault(
            inv.currency,
            {
                "outstanding": Decimal("0"),
                "overdue": Decimal("0"),
                "invoices": 0,
                "overdue_invoices": 0,
                "buckets": {b: Decimal("0") for b in BUCKETS},
            },
        )
        days = (today - inv.due_date).days
        cur["outstanding"] += inv.outstanding
        cur["invoices"] += 1
        if days > 0:
            cur["overdue"] += inv.outstanding
            cur["overdue_invoices"] += 1
        cur["buckets"][_bucket(days)] += inv.outstanding
    return dict(sorted(out.items()))


def tenant_summary(
    *,
    customers: int,
    rows: Iterable[Row],
    receivables: Mapping[str, Mapping[str, Any]] | None = None,
    notes: Sequence[str] = (),
    waiting: int = 0,
) -> dict[str, Any]:
    """One tenant's summary: customers, how many of them were checked (the others wait for
    their detail reads), customers with findings, counts per code and severity."""
    rows = list(rows)
    counts: dict[str, int] = {}
    for r in rows:
        counts[r["code"]] = counts.get(r["code"], 0) + 1
    return {
        "customers": customers,
        "customers_checked": customers - waiting,
        "customers_with_findings": len({_customer_key(r) for r in rows}),
        "errors": sum(1 for r in rows if r["severity"] == "error"),
        "warnings": sum(1 for r in rows if r["severity"] != "error"),
        "counts": dict(sorted(counts.items())),
        "receivables": dict(receivables or {}),
        "notes": list(notes),
    }


# --- ordering ----------------------------------------------------------------------------------


def _customer_key(r: Row) -> tuple[str, str]:
    who = r.get("customer_id") or r.get("customer_number") or r.get("customer_name") or "?"
    return str(r.get("tenant") or ""), str(who)


def group_by_customer(rows: Iterable[Row]) -> list[list[Row]]:
    """Rows per customer, worst first: more errors, then more findings, then name."""
    groups: dict[tuple[str, str], list[Row]] = {}
    for r in rows:
        groups.setdefault(_customer_key(r), []).append(r)
    for g in groups.values():
        g.sort(key=lambda r: (r["severity"] != "error", r["code"], r.get("field") or ""))

    def badness(g: list[Row]) -> tuple[int, int, str, str]:
        errors = sum(1 for r in g if r["severity"] == "error")
        return -errors, -len(g), str(g[0].get("customer_name") or ""), _customer_key(g[0])[0]

    return sorted(groups.values(), key=badness)


def _who(r: Row) -> str:
    parts = [str(r[k]) for k in ("customer_number", "customer_name") if r.get(k)]
    return " ".join(parts) or f"customer {r.get('customer_id') or '?'}"


def _blocks(r: Row) -> list[str]:
    value = r.get("blocks") or []
    return [value] if isinstance(value, str) else [str(v) for v in value]


def _money(value: Any) -> str:
    return f"{Decimal(value):,.2f}".replace(",", " ")


# --- renderers ---------------------------------------------------------------------------------

_TEXT_KEYS = ("customer_id", "customer_number", "customer_name", "field", "message", "findings")


def public_rows(rows: Iterable[Row]) -> list[dict[str, Any]]:
    """Rows fit to show: person numbers masked in every text a provider could have filled."""
    out = []
    for r in rows:
        row = dict(r)
        for key in _TEXT_KEYS:
            if isinstance(row.get(key), str):
                row[key] = mask_person_numbers(row[key])
        out.append(row)
    return out



def render_json(rows: Iterable[Row], summary: Summary, generated_at: datetime) -> str:
    doc = {
        "generated_at": generated_at.isoformat(),
        "findings": [dict(r) for g in group_by_customer(public_rows(rows)) for r in g],
        "summary": summary,
    }
    return json.dumps(doc, ensure_ascii=False, indent=2, default=_json_default) + "\n"


def _json_default(value: Any) -> Any:
    if isinstance(value, Decimal):
        return str(value)
    if isinstance(value, date | datetime):
        return value.isoformat()
    if isinstance(value, set | frozenset | tuple):
        return list(value)
    raise TypeError(f"not JSON serialisable: {type(value).__name__}")


def render_csv(rows: Iterable[Row]) -> str:
    """One line per finding; ``blocks`` is ``;``-separated. Excel-friendly (UTF-8, CRLF). No
    cell starts like a formula (``=``, ``+``, ``-``, ``@``, tab, CR: OWASP's rule)."""
    buf = io.StringIO()
    writer = csv.DictWriter(buf, fieldnames=CSV_KEYS, extrasaction="ignore")
    writer.writeheader()
    for g in group_by_customer(public_rows(rows)):
        for r in g:
            cells = {**{k: r.get(k) for k in ROW_KEYS}, "blocks": ";".join(_blocks(r))}
            writer.writerow({k: csv_cell(v) for k, v in cells.items()})
    return buf.getvalue()


INVOICE_KEYS = (
    "tenant",
    "customer_number",
    "customer_name",
    "invoice_number",
    "due_date",
    "days_overdue",
    "outstanding",
    "currency",
    "stage",
    "findings",
)


def render_invoices_csv(rows: Iterable[Row]) -> str:
    """One line per open invoice (``report --format csv --what invoices``), same CSV rules."""
    buf = io.StringIO()
    writer = csv.DictWriter(buf, fieldnames=INVOICE_KEYS, extrasaction="ignore")
    writer.writeheader()
    for r in public_rows(rows):
        writer.writerow({k: csv_cell(r.get(k)) for k in INVOICE_KEYS})
    return buf.getvalue()


def render_table(
    rows: Iterable[Row], summary: Summary, generated_at: datetime
) -> str:
    groups = group_by_customer(public_rows(rows))
    lines = [f"Data-quality report, {generated_at:%Y-%m-%d %H:%M %Z}"]
    for tenant, s in summary.items():
        lines.append("")
        lines.append(
            f"{tenant}: {s.get('customers', 0)} customers, "
            f"{s.get('customers_with_findings', 0)} with findings "
            f"({s.get('errors', 0)} errors, {s.get('warnings', 0)} warnings)"
        )
        checked = s.get("customers_checked", s.get("customers", 0))
        if checked != s.get("customers", 0):
            lines.append(
                f"  customers checked: {checked} of {s.get('customers', 0)}"
                " (the others wait for their detail reads)"
            )
        for note in s.get("notes", ()):
            lines.append(f"  note: {note}")
        for code, n in s.get("counts", {}).items():
            lines.append(f"  {n:>6}  {code}")
        rec = s.get("receivables") or {}
        if rec:
            head = f"  {'currency':<8} {'outstanding':>14} {'overdue':>14}"
            head += "".join(f" {b:>12}" for b in BUCKETS)
            lines.append(head)
            for cur, r in rec.items():
                line = f"  {cur:<8} {_money(r['outstanding']):>14} {_money(r['overdue']):>14}"
                line += "".join(f" {_money(r['buckets'].get(b, 0)):>12}" for b in BUCKETS)
                lines.append(line)
    width = max((len(r["code"]) for g in groups for r in g), default=10)
    for g in groups:
        first = g[0]
        errors = sum(1 for r in g if r["severity"] == "error")
        lines.append("")
        lines.append(
            f"{first.get('tenant') or ''} / {_who(first)}: {errors} error(s), {len(g)} in all"
        )
        for r in g:
            blocks = _blocks(r)
            tail = f"  [blocks: {', '.join(blocks)}]" if blocks else ""
            lines.append(f"  {r['severity'].upper():<7} {r['code']:<{width}}  {r['message']}{tail}")
    if not groups:
        lines.extend(["", "No findings."])
    # A name or a message cannot recolour the terminal or forge a line of its own.
    return "\n".join(printable(line) for line in lines) + "\n"


def render_html(
    rows: Iterable[Row],
    summary: Summary,
    generated_at: datetime,
    balances: Mapping[str, Sequence[Any]] | None = None,
) -> str:
    """One self-contained, printable page from the console's templates (``balances``: per
    tenant, every customer's balance, see ``connector.console.printed``)."""
    from connector.console.printed import report_html

    return report_html(public_rows(rows), summary, generated_at, balances)


def render(
    fmt: str,
    rows: Iterable[Row],
    summary: Summary,
    generated_at: datetime,
    balances: Mapping[str, Sequence[Any]] | None = None,
) -> str:
    """The report in ``fmt`` (one of :data:`FORMATS`)."""
    rows = list(rows)
    if fmt == "table":
        return render_table(rows, summary, generated_at)
    if fmt == "csv":
        return render_csv(rows)
    if fmt == "json":
        return render_json(rows, summary, generated_at)
    if fmt == "html":
        return render_html(rows, summary, generated_at, balances)
    raise ValueError(f"unknown report format {fmt!r} (known: {', '.join(FORMATS)})")
