"""End to end through the CLI: sync → findings → report → plan → notes, against the sandboxes."""

from __future__ import annotations

import csv
import io
import json
from datetime import date, timedelta
from html.parser import HTMLParser
from pathlib import Path

import pytest
from conftest import Kravsync

from connector.clock import Clock
from connector.demo import run_demo
from providers.fiken.sandbox import FikenSandbox

pytestmark = [pytest.mark.e2e, pytest.mark.backends]
TODAY = date(2026, 11, 23)


def synced(kravsync: Kravsync, capsys: pytest.CaptureFixture[str]) -> None:
    assert kravsync("sync", "--today", TODAY.isoformat()) == 0
    capsys.readouterr()


def test_report_json_has_the_design_shape_and_the_seeded_defects(kravsync: Kravsync,
    config: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    synced(kravsync, capsys)
    assert kravsync("report", "--format", "json", "--today", TODAY.isoformat()) == 0
    report = json.loads(capsys.readouterr().out)
    assert set(report) >= {"generated_at", "findings", "summary"}
    keys = {
        "tenant",
        "provider",
        "customer_id",
        "customer_number",
        "customer_name",
        "code",
        "field",
        "severity",
        "message",
    }
    assert all(keys <= set(f) for f in report["findings"])
    codes = {f["code"] for f in report["findings"]}
    assert {
        "org_number.missing",
        "org_number.invalid",
        "address.postcode.missing",
        "email.missing",
        "contact_person.missing",
        "customer.duplicate",
    } <= codes
    summary = report["summary"]["fjord"]
    assert summary["customers"] >= 15
    assert set(summary["receivables"]["NOK"]["buckets"]) == {
        "0",
        "1-14",
        "15-30",
        "31-60",
        "61-90",
        "90+",
    }


def test_report_csv_and_html(kravsync: Kravsync,
    config: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    synced(kravsync, capsys)
    assert kravsync("report", "--format", "csv") == 0
    rows = list(csv.DictReader(io.StringIO(capsys.readouterr().out)))
    assert rows and all(r["tenant"] == "fjord" for r in rows)
    out = tmp_path / "report.html"
    assert kravsync("report", "--format", "html", "--output", str(out)) == 0
    html = out.read_text(encoding="utf-8")

    class Tags(HTMLParser):
        def __init__(self) -> None:
            super().__init__()
            self.tags: list[str] = []

        def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
            self.tags.append(tag)

    parser = Tags()
    parser.feed(html)
    assert {"html", "table", "style"} <= set(parser.tags)
    assert "<link" not in html and "<script src" not in html  # one self-contained file
    assert "Fjellstue Håndverk AS" in html


def test_a_resolved_defect_is_resolved_in_the_next_sync(kravsync: Kravsync,
    config: Path, sandbox: FikenSandbox, capsys: pytest.CaptureFixture[str]
) -> None:
    synced(kravsync, capsys)
    assert kravsync("report", "--format", "json") == 0
    before = json.loads(capsys.readouterr().out)["findings"]
    missing = next(f for f in before if f["code"] == "org_number.missing")
    sandbox.update_contact(int(missing["customer_id"]), organizationNumber="923609016")
    synced(kravsync, capsys)
    assert kravsync("report", "--format", "json") == 0
    after = json.loads(capsys.readouterr().out)["findings"]
    assert not [
        f
        for f in after
        if f["code"] == "org_number.missing" and f["customer_id"] == missing["customer_id"]
    ]


def test_plan_json_has_the_design_shape_and_reasons_for_the_rest(kravsync: Kravsync,
    config: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    synced(kravsync, capsys)
    assert kravsync("plan", "--format", "json", "--today", TODAY.isoformat()) == 0
    plan = json.loads(capsys.readouterr().out)
    keys = {
        "tenant",
        "invoice_id",
        "invoice_number",
        "customer_number",
        "stage",
        "planned_on",
        "deadline",
        "fee",
        "interest",
        "currency",
        "outstanding",
        "reason",
    }
    assert plan["actions"] and all(keys <= set(a) for a in plan["actions"])
    for a in plan["actions"]:
        assert isinstance(a["fee"], str) and isinstance(a["outstanding"], str)
    assert all(s["reason"] for s in plan["skipped"])
    assert any(s["reason"].startswith("not overdue") for s in plan["skipped"])
    assert any("own reminder" in s["reason"] or "second" in s["outcome"] for s in plan["skipped"])


def test_a_payment_promise_holds_the_invoice_and_resumes_by_itself(kravsync: Kravsync,
    config: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    synced(kravsync, capsys)
    assert kravsync("plan", "--format", "json", "--today", TODAY.isoformat()) == 0
    action = json.loads(capsys.readouterr().out)["actions"][0]
    promise = TODAY + timedelta(days=7)
    assert (
        kravsync(
            "note",
            "fjord",
            action["invoice_number"],
            "--text",
            "Ringte, betaler neste uke",
            "--promise-date",
            promise.isoformat(),
            "--author",
            "Kari",
        )
        == 0
    )
    assert "promise until" in capsys.readouterr().out
    assert kravsync("plan", "--format", "json", "--today", TODAY.isoformat()) == 0
    plan = json.loads(capsys.readouterr().out)
    assert action["invoice_id"] not in {a["invoice_id"] for a in plan["actions"]}
    held = next(s for s in plan["skipped"] if s["invoice_id"] == action["invoice_id"])
    assert held["reason"].startswith("on hold: promise to pay")
    later = (promise + timedelta(days=10)).isoformat()
    assert kravsync("plan", "--format", "json", "--today", later) == 0
    assert action["invoice_id"] in {
        a["invoice_id"] for a in json.loads(capsys.readouterr().out)["actions"]
    }


def test_a_dispute_holds_until_resolved(kravsync: Kravsync, config: Path, capsys: pytest.CaptureFixture[str]) -> None:
    synced(kravsync, capsys)
    assert kravsync("plan", "--format", "json", "--today", TODAY.isoformat()) == 0
    action = json.loads(capsys.readouterr().out)["actions"][0]
    ref = action["invoice_number"]
    assert kravsync("note", "fjord", ref, "--text", "Bestrider leveransen", "--dispute") == 0
    assert kravsync("plan", "--format", "json", "--today", TODAY.isoformat()) == 0
    out = capsys.readouterr().out
    plan = json.loads(out[out.index("{") :])
    assert action["invoice_id"] not in {a["invoice_id"] for a in plan["actions"]}
    assert (
        kravsync("note", "fjord", ref, "--text", "Enige, kreditnota ikke nødvendig", "--resolve")
        == 0
    )
    assert "lifted 1 hold" in capsys.readouterr().out
    assert kravsync("plan", "--format", "json", "--today", TODAY.isoformat()) == 0
    assert action["invoice_id"] in {
        a["invoice_id"] for a in json.loads(capsys.readouterr().out)["actions"]
    }


def test_note_on_an_unknown_invoice_is_a_usage_error(kravsync: Kravsync,
    config: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    synced(kravsync, capsys)
    assert kravsync("note", "fjord", "nope-404", "--text", "x") == 2
    assert "no invoice 'nope-404'" in capsys.readouterr().err


def test_illegal_policy_is_refused_at_load(kravsync: Kravsync,
    config: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    text = config.read_text(encoding="utf-8") + "\n[tenants.policy]\nnotice_deadline_days = 10\n"
    config.write_text(
        text.replace('[tenants.validation]\npostcode_register_source = "fixture"\n', ""),
        encoding="utf-8",
    )
    assert kravsync("plan") == 2
    err = capsys.readouterr().err.strip()
    assert (
        "kravsync.toml: tenants[0].policy.notice_deadline_days: 10 is below the legal minimum of 14 days"
        in err
    )


def test_demo_prints_findings_and_plan_for_both_sandboxes() -> None:
    out = io.StringIO()
    assert run_demo(Clock.starting_at(TODAY), out=out) == 0
    text = out.getvalue()
    for tenant in ("demo-fiken", "demo-fortnox"):
        assert f"{tenant}: ok" in text
    assert "== data quality" in text and "org_number.missing" in text
    assert "== reminder plan" in text and "purring" in text and "påminnelse" in text
    assert "== push" in text
    assert "the fiken sandbox received" in text and "invoices/send" in text
    assert "POST /3/noxfinansinvoices invoice" in text
    assert "kravsync's own e-mail channel sent 1 message(s)" in text


def test_the_next_sending_day_skips_weekends_and_either_countrys_holidays() -> None:
    from connector.demo import sending_day

    assert sending_day(date(2026, 12, 7)) == date(2026, 12, 7)  # a Monday: itself
    assert sending_day(date(2026, 12, 6)) == date(2026, 12, 7)  # a Sunday
    # Christmas Eve (closed in Sweden), Christmas Day, Boxing Day, a weekend
    assert sending_day(date(2026, 12, 24)) == date(2026, 12, 28)


def test_the_demo_on_a_day_nothing_is_sent_runs_on_the_next_sending_day_and_says_so() -> None:
    sunday, monday = date(2026, 12, 6), date(2026, 12, 7)
    out = io.StringIO()
    assert run_demo(Clock.starting_at(sunday), out=out, to_sending_day=True) == 0
    text = out.getvalue()
    assert f"today (Sunday {sunday}) is not a sending day" in text
    assert f"the demo runs as of Monday {monday}" in text and f"today: {monday}" in text
    assert "the fiken sandbox received" in text and "invoices/send" in text  # letters went out


def test_nothing_is_pushed_until_push_is_on_and_never_on_a_dry_run(kravsync: Kravsync, config: Path, sandbox: FikenSandbox, capsys: pytest.CaptureFixture[str]) -> None:
    assert kravsync("sync", "--today", TODAY.isoformat()) == 0  # a new tenant: plan only
    assert sandbox.received == []
    config.write_text(config.read_text(encoding="utf-8").replace(
        'credentials = "env:FIKEN_E2E_TOKEN"', 'credentials = "env:FIKEN_E2E_TOKEN"\npush = true'), encoding="utf-8")
    assert kravsync("sync", "--dry-run", "--today", TODAY.isoformat()) == 0
    assert sandbox.received == []
    capsys.readouterr()
    assert kravsync("sync", "--today", TODAY.isoformat()) == 0
    out = capsys.readouterr().out
    assert "pushed:" in out and sandbox.sent_invoices()
    sent = len(sandbox.sent_invoices())
    assert kravsync("sync", "--today", TODAY.isoformat()) == 0  # the same day again: nothing twice
    assert len(sandbox.sent_invoices()) == sent


def test_a_plan_made_on_a_sunday_says_why_it_is_empty(
    kravsync: Kravsync, capsys: pytest.CaptureFixture[str]
) -> None:
    synced(kravsync, capsys)
    sunday = TODAY + timedelta(days=6 - TODAY.weekday())
    assert kravsync("plan", "--today", sunday.isoformat()) == 0
    out = capsys.readouterr().out
    monday = sunday + timedelta(days=1)
    assert "0 actions in 0 messages" in out
    assert f"! today (Sunday {sunday}) is not a sending day in NO: nothing is planned for sending until Monday {monday}" in out
    assert kravsync("plan", "--today", monday.isoformat()) == 0
    assert "not a sending day" not in capsys.readouterr().out
