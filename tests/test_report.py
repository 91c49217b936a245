"""Report rendering: formats parsed back, HTML structure, aging buckets."""

from __future__ import annotations

import csv
import io
import json
from datetime import UTC, date, datetime, timedelta
from decimal import Decimal
from html.parser import HTMLParser

import pytest

from connector.models import Invoice, InvoiceStatus
from connector.render.report import (
    ROW_KEYS,
    aging_buckets,
    render,
    render_csv,
    render_html,
    render_json,
    render_table,
    tenant_summary,
)

TODAY = date(2026, 3, 2)
AT = datetime(2026, 3, 2, 7, 30, tzinfo=UTC)


def row(customer: str, name: str, code: str, severity: str, **kw: object) -> dict[str, object]:
    base: dict[str, object] = {
        "tenant": "acme-no", "provider": "fiken", "customer_id": customer,
        "customer_number": f"1{customer:0>4}", "customer_name": name, "code": code,
        "field": code.split(".")[0], "severity": severity, "message": f"{code} for {name}",
    }  # fmt: skip
    base.update(kw)
    return base


ROWS = [
    row("1", "Ærlig Bakeri AS", "email.missing", "warning"),
    row("2", "Fjellstue Håndverk AS", "org_number.missing", "error",
        blocks=["collection_notice", "handover"]),
    row("3", "<script>alert(1)</script> & Co", "phone.invalid", "warning"),
    row("3", "<script>alert(1)</script> & Co", "email.invalid", "warning"),
    row("2", "Fjellstue Håndverk AS", "contact_person.missing", "warning"),
]  # fmt: skip


def invoice(n: int, days_overdue: int, amount: str, currency: str = "NOK", **kw: object) -> Invoice:
    args: dict = dict(
        provider="fiken", provider_id=str(n), number=str(n), customer_id="1",
        issue_date=TODAY - timedelta(days=days_overdue + 14),
        due_date=TODAY - timedelta(days=days_overdue), currency=currency,
        gross=Decimal(amount), outstanding=Decimal(amount), status=InvoiceStatus.OPEN,
    )  # fmt: skip
    args.update(kw)
    return Invoice(**args)


def summary() -> dict:
    rec = aging_buckets([invoice(1, 20, "1250.50"), invoice(2, -3, "99.95", "EUR")], TODAY)
    return {
        "acme-no": tenant_summary(
            customers=21, rows=ROWS, receivables=rec, notes=["postcode register unavailable"]
        )
    }


@pytest.mark.parametrize(
    ("days", "bucket"),
    [(-5, "0"), (0, "0"), (1, "1-14"), (14, "1-14"), (15, "15-30"), (30, "15-30"),
     (31, "31-60"), (60, "31-60"), (61, "61-90"), (90, "61-90"), (91, "90+"), (400, "90+")],
)  # fmt: skip
def test_aging_bucket_boundaries(days: int, bucket: str) -> None:
    result = aging_buckets([invoice(1, days, "10.00")], TODAY)["NOK"]
    assert result["buckets"][bucket] == Decimal("10.00")
    assert sum(result["buckets"].values()) == Decimal("10.00")
    assert result["overdue"] == (Decimal("10.00") if days > 0 else Decimal("0"))


def test_aging_counts_only_open_balances_per_currency() -> None:
    invoices = [
        invoice(1, 10, "100.10"),
        invoice(2, 40, "200.20", outstanding=Decimal("50.05")),  # part-paid
        invoice(3, 40, "300", status=InvoiceStatus.PAID, outstanding=Decimal("0")),
        invoice(4, 5, "70", status=InvoiceStatus.DRAFT),
        invoice(5, 100, "12.34", "SEK"),
    ]
    result = aging_buckets(invoices, TODAY)
    assert list(result) == ["NOK", "SEK"]
    assert result["NOK"]["outstanding"] == Decimal("150.15") and result["NOK"]["invoices"] == 2
    assert result["NOK"]["buckets"]["31-60"] == Decimal("50.05")
    assert result["SEK"]["buckets"]["90+"] == Decimal("12.34")
    assert all(isinstance(v, Decimal) for v in result["NOK"]["buckets"].values())


def test_json_round_trip() -> None:
    doc = json.loads(render_json(ROWS, summary(), AT))
    assert doc["generated_at"] == "2026-03-02T07:30:00+00:00"
    assert len(doc["findings"]) == len(ROWS)
    assert set(ROW_KEYS) <= set(doc["findings"][0])
    assert doc["findings"][0]["customer_name"] == "Fjellstue Håndverk AS"  # worst first
    s = doc["summary"]["acme-no"]
    assert s["customers"] == 21 and s["customers_with_findings"] == 3
    assert s["counts"]["org_number.missing"] == 1 and s["errors"] == 1 and s["warnings"] == 4
    nok = s["receivables"]["NOK"]
    assert nok["outstanding"] == "1250.50" and nok["buckets"]["15-30"] == "1250.50"
    assert s["receivables"]["EUR"]["buckets"]["0"] == "99.95"


def test_csv_round_trip_keeps_letters() -> None:
    text = render_csv(ROWS)
    parsed = list(csv.DictReader(io.StringIO(text)))
    assert len(parsed) == len(ROWS)
    assert parsed[0]["customer_name"] == "Fjellstue Håndverk AS"
    assert parsed[0]["blocks"] == "collection_notice;handover"
    assert {r["customer_name"] for r in parsed} == {r["customer_name"] for r in ROWS}
    assert {r["code"] for r in parsed} == {r["code"] for r in ROWS}


def test_table_is_grouped_worst_first() -> None:
    text = render_table(ROWS, summary(), AT)
    first, second = text.index("Fjellstue Håndverk AS"), text.index("alert(1)")
    assert first < second < text.index("Ærlig Bakeri AS")
    assert "blocks: collection_notice, handover" in text
    assert "note: postcode register unavailable" in text
    assert "1 250.50" in text


class Structure(HTMLParser):
    VOID = {"meta", "br", "hr", "img", "link", "input"}

    def __init__(self) -> None:
        super().__init__()
        self.stack: list[str] = []
        self.errors: list[str] = []
        self.tags: list[str] = []
        self.h3: list[str] = []
        self.text: list[str] = []
        self.attrs: list[tuple[str, str | None]] = []

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        self.tags.append(tag)
        self.attrs.extend(attrs)
        if tag not in self.VOID:
            self.stack.append(tag)

    def handle_endtag(self, tag: str) -> None:
        if not self.stack or self.stack.pop() != tag:
            self.errors.append(tag)

    def handle_data(self, data: str) -> None:
        self.text.append(data)
        if self.stack and self.stack[-1] == "h3":
            self.h3.append(data)


def test_html_is_one_self_contained_printable_file() -> None:
    html = render_html(ROWS, summary(), AT)
    p = Structure()
    p.feed(html)
    assert p.errors == [] and p.stack == []
    assert "script" not in p.tags and "link" not in p.tags and "img" not in p.tags
    assert not any(k in ("src", "href") for k, _ in p.attrs)
    assert "@media print" in html and p.tags.count("style") == 1
    text = "".join(p.text)
    assert "<script>alert(1)</script> & Co" in text  # shown as text, escaped in the source
    assert "&lt;script&gt;" in html
    # one table of customers per tenant (not one per customer), worst first
    assert p.tags.count("section") == 1 and html.count('class="customers"') == 1
    first, second = text.index("Fjellstue Håndverk AS"), text.index("alert(1)")
    assert first < second < text.index("Ærlig Bakeri AS")
    # descriptions in words, local time with its zone, the aging chart
    assert "The customer has no organisation number." in text
    assert "Generated 2026-03-02 08:30 CET" in text
    assert p.tags.count("svg") == 2  # NOK and EUR
    assert "postcode register unavailable" in text


def test_render_dispatch_and_empty_report() -> None:
    for fmt in ("table", "csv", "json", "html"):
        assert render(fmt, [], {}, AT)
    assert "No findings." in render("table", [], {}, AT)
    with pytest.raises(ValueError, match="unknown report format"):
        render("pdf", [], {}, AT)
