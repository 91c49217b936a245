"""End to end: the real Fiken client against the Fiken sandbox over HTTP on 127.0.0.1."""

from __future__ import annotations

import io
import json
from datetime import date
from pathlib import Path

import pytest
import requests
from conftest import Kravsync

from connector.clock import Clock
from connector.config import load_config
from connector.demo import run_demo
from connector.models import InvoiceStatus
from connector.store import Store, open_configured_store
from providers.fiken.sandbox import FikenSandbox

pytestmark = [pytest.mark.e2e, pytest.mark.backends]
TODAY = date(2026, 11, 23)


def store_of(config: Path) -> Store:
    return open_configured_store(load_config(config), Clock.starting_at(TODAY))


def sandbox_rows(sandbox: FikenSandbox, resource: str, **params: str) -> list[dict]:
    url = f"{sandbox.base_url}/companies/{sandbox.company}/{resource}"
    rows: list[dict] = []
    page = 0
    while True:
        r = requests.get(
            url,
            params={**params, "page": page, "pageSize": 100},
            headers={"Authorization": "Bearer e2e-token"},
            timeout=10,
        )
        r.raise_for_status()
        rows += r.json()
        page += 1
        if page >= int(r.headers["Fiken-Api-Page-Count"]):
            return rows


def test_sync_stores_every_customer_and_open_invoice(kravsync: Kravsync,
    config: Path, sandbox: FikenSandbox, capsys: pytest.CaptureFixture[str]
) -> None:
    assert kravsync("sync") == 0
    out = capsys.readouterr().out
    assert "fjord: ok" in out
    store = store_of(config)
    customers = {c.provider_id: c for c in store.customers("fjord")}
    expected_customers = sandbox_rows(sandbox, "contacts", customer="true")
    assert set(customers) == {str(c["contactId"]) for c in expected_customers}
    names = {c.name for c in customers.values()}
    assert any(ch in "".join(names) for ch in "æøåÆØÅ")  # Norwegian letters survive the trip
    open_ids = store.open_invoice_ids("fjord")
    expected_open = sandbox_rows(sandbox, "invoices", settled="false")
    assert open_ids == {str(i["invoiceId"]) for i in expected_open}
    run = store.last_run("fjord")
    assert run is not None and run.outcome == "ok" and run.customers == len(expected_customers)


def test_second_sync_sees_a_settlement_through_the_overlapping_cursor(kravsync: Kravsync,
    config: Path, sandbox: FikenSandbox
) -> None:
    assert kravsync("sync") == 0
    store = store_of(config)
    victim = sorted(store.open_invoice_ids("fjord"))[0]
    sandbox.settle(int(victim))
    assert kravsync("sync") == 0
    settled = store.invoice("fjord", victim)
    assert settled is not None and settled.status is InvoiceStatus.PAID
    assert victim not in store.open_invoice_ids("fjord")


def test_malformed_page_fails_the_tenant_and_the_cursor_stays(kravsync: Kravsync,
    config: Path, sandbox: FikenSandbox, capsys: pytest.CaptureFixture[str]
) -> None:
    assert kravsync("sync") == 0
    store = store_of(config)
    cursor = store.get_cursor("fjord", "invoices")
    before = store.open_invoice_ids("fjord")
    sandbox.inject("/invoices", malformed=True, times=50)
    assert kravsync("sync") == 1
    out = capsys.readouterr().out
    assert "fjord: FAILED" in out and "malformed response" in out
    assert store.get_cursor("fjord", "invoices") == cursor
    assert store.open_invoice_ids("fjord") == before
    last = store.last_run("fjord")
    assert last is not None and last.outcome == "failed"


def test_a_record_that_fails_mapping_is_skipped_and_the_rest_stored(kravsync: Kravsync,
    config: Path, sandbox: FikenSandbox, capsys: pytest.CaptureFixture[str]
) -> None:
    good = sandbox_rows(sandbox, "invoices", settled="false")[0]
    bad = {**good, "invoiceId": 999999, "dueDate": "not-a-date"}
    sandbox.inject(
        "/invoices",
        status=200,
        body=json.dumps([good, bad]),
        headers={
            "Fiken-Api-Page-Count": "1",
            "Fiken-Api-Result-Count": "2",
            "Content-Type": "application/json",
        },
    )
    assert kravsync("sync") == 0
    out = capsys.readouterr().out
    assert "skipped invoice 999999: dueDate: not a date" in out
    store = store_of(config)
    assert store.invoice("fjord", str(good["invoiceId"])) is not None
    assert store.invoice("fjord", "999999") is None


def test_wrong_token_is_one_clear_line_naming_the_variable(kravsync: Kravsync,
    config: Path, sandbox: FikenSandbox, capsys: pytest.CaptureFixture[str]
) -> None:
    # The tenant reads its token from env:FIKEN_E2E_TOKEN: `kravsync auth` would not help.
    sandbox.revoke_token()
    assert kravsync("sync") == 1
    out = capsys.readouterr().out.strip().splitlines()
    assert len(out) == 1
    assert "fjord" in out[0] and "FIKEN_E2E_TOKEN" in out[0] and "HTTP 401" in out[0]
    assert "kravsync auth" not in out[0]
    assert "e2e-token" not in out[0]


def test_status_json_reports_counts_balances_and_last_run(kravsync: Kravsync,
    config: Path, sandbox: FikenSandbox, capsys: pytest.CaptureFixture[str]
) -> None:
    assert kravsync("sync") == 0
    capsys.readouterr()
    assert (
        kravsync("status", "--format", "json", "--today", TODAY.isoformat())
        == 0
    )
    status = json.loads(capsys.readouterr().out)["tenants"][0]
    store = store_of(config)
    open_invoices = list(store.invoices("fjord", open_only=True))
    assert status["open_invoices"] == len(open_invoices)
    nok = sum((i.outstanding for i in open_invoices if i.currency == "NOK"), start=0)
    assert status["outstanding"]["NOK"] == str(nok)
    assert status["overdue"] == sum(1 for i in open_invoices if i.due_date < TODAY)
    assert status["last_run"]["outcome"] == "ok"


def test_rate_limits_are_respected_up_front(kravsync: Kravsync, config: Path, sandbox: FikenSandbox) -> None:
    assert kravsync("sync") == 0
    assert sandbox.stats.rate_limited == 0


def test_demo_syncs_the_sandboxes_and_prints_status() -> None:
    out = io.StringIO()
    assert run_demo(Clock.starting_at(TODAY), out=out) == 0
    text = out.getvalue()
    assert "demo-fiken: ok" in text
    assert "tenant" in text and "outstanding" in text and "NOK" in text
