"""`report --format html` from the console's templates and `report --format csv --what invoices`,
through the CLI against the Fiken sandbox."""

from __future__ import annotations

import csv
import io
from pathlib import Path

import pytest
from conftest import Kravsync

pytestmark = pytest.mark.e2e


def test_html_report_has_one_customer_table_with_balances_and_words(
    kravsync: Kravsync, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    assert kravsync("sync") == 0
    out = tmp_path / "report.html"
    assert kravsync("report", "--format", "html", "--output", str(out)) == 0
    html = out.read_text(encoding="utf-8")
    assert html.count('class="customers"') == 1  # one tenant, one table
    assert "Fjordlys Catering AS" in html and "15\u00a0625.00 NOK" in html  # a balance
    assert "The customer has no organisation number." in html
    assert "<svg" in html and " CET" in html
    assert "address.postcode.missing</span>" not in html.split("<tbody>")[0]  # no code headings


def test_csv_per_invoice(kravsync: Kravsync, capsys: pytest.CaptureFixture[str]) -> None:
    assert kravsync("sync") == 0
    capsys.readouterr()
    assert kravsync("report", "--format", "csv", "--what", "invoices") == 0
    rows = list(csv.DictReader(io.StringIO(capsys.readouterr().out)))
    assert len(rows) == 24  # every open invoice of the seed
    assert set(rows[0]) == {
        "tenant", "customer_number", "customer_name", "invoice_number", "due_date",
        "days_overdue", "outstanding", "currency", "stage", "findings",
    }  # fmt: skip
    fjellstue = [r for r in rows if r["customer_name"] == "Fjellstue Håndverk AS"]
    assert fjellstue and "The customer has no organisation number." in fjellstue[0]["findings"]
    assert all(int(r["days_overdue"]) >= 0 for r in rows)
    assert kravsync("report", "--format", "html", "--what", "invoices") == 2
