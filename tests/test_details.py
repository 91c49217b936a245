"""Prioritised detail reads (connector.cycle.backlog) over the real Fortnox client and its sandbox."""

from __future__ import annotations

import io
import logging
from collections.abc import Iterator
from datetime import date
from pathlib import Path
from typing import Any

import pytest

from connector.clock import Clock
from connector.config import TenantConfig
from connector.cycle import CycleResult
from connector.cycle.backlog import Backlog, budget_for, order
from connector.cycle.plan import plan_tenant
from connector.policy import Outcome
from connector.render.progress import LogProgress, TerminalProgress, progress_for
from connector.render.report import render as render_report
from connector.render.views import plan_table, report_data
from connector.runtime import run_tenant
from connector.secrets import MemoryCredentials
from connector.store import SqliteStore
from providers.fortnox.sandbox import FortnoxSandbox

pytestmark = pytest.mark.e2e
TODAY = date(2026, 11, 23)
CUSTOMERS, INVOICES = 300, 2500


@pytest.fixture
def book() -> Iterator[FortnoxSandbox]:
    with FortnoxSandbox(
        today=TODAY, rate_limit=False, customers=CUSTOMERS, invoices=INVOICES
    ) as sandbox:
        yield sandbox


def tenant(sb: FortnoxSandbox, **over: Any) -> TenantConfig:
    return TenantConfig.model_validate(
        {
            "name": "skog-se",
            "provider": "fortnox",
            "country": "SE",
            "auth": "client_credentials",
            "requests_per_window": 1000,  # the sandbox runs unthrottled here
            **sb.tenant_settings(),
            **over,
        }
    )


def cycle(
    sb: FortnoxSandbox, store: SqliteStore, t: TenantConfig, **kwargs: Any
) -> CycleResult:
    return run_tenant(
        t,
        store,
        clock=sb.clock,
        credentials=MemoryCredentials({t.name: sb.demo_secret()}),
        dry_run=True,
        **kwargs,
    )


def reads(sb: FortnoxSandbox) -> int:
    return sb.stats.per_path["GET /3/customers/{n}"] + sb.stats.per_path["GET /3/invoices/{n}"]


def api_requests(sb: FortnoxSandbox) -> int:
    return sum(sb.stats.per_path.values())  # not the token grants


def overdue_customers(store: SqliteStore, name: str) -> set[str]:
    return {
        i.customer_id
        for i in store.invoices(name, open_only=True)
        if i.due_date < TODAY and i.customer_id
    }


def test_the_plan_stands_after_tier_one_and_the_backfill_keeps_to_its_budget(
    book: FortnoxSandbox, tmp_path: Path
) -> None:
    store = SqliteStore(str(tmp_path / "s.db"), book.clock)
    t = tenant(book, detail_reads_per_cycle=40)
    seen: dict[str, Any] = {}

    def planned(result: CycleResult) -> None:
        backlog = Backlog.load(store, t.name)
        seen["unread_late_payers"] = overdue_customers(store, t.name) & set(backlog.customers)
        seen["reads"] = reads(book)
        seen["outcomes"] = {d.outcome for d in result.decisions}
        seen["waiting"] = [d for d in result.decisions if d.outcome is Outcome.WAITING_FOR_DETAILS]
        seen["acting_unread"] = [
            d for d in result.decisions if d.action and backlog.waits(d.invoice)
        ]

    result = cycle(book, store, t, planned=planned)
    assert result.ok, result.sync.error
    # Tier 1 is in: every customer with an overdue invoice was read before planning, and no
    # action rests on a record still waiting for its detail read.
    assert seen["unread_late_payers"] == set()
    assert Outcome.ACTION in seen["outcomes"] and seen["acting_unread"] == []
    assert seen["waiting"] and all("waiting for details (" in d.reason for d in seen["waiting"])
    # Tier 1 read far fewer records than the book has; the lastmodified probe proved most
    # overdue invoices complete without a read each.
    tier1, backfill = result.details
    assert tier1.proven > tier1.read - len(overdue_customers(store, t.name))
    assert seen["reads"] == tier1.read < CUSTOMERS + tier1.proven
    # The backfill kept to its budget and left the rest for later cycles.
    assert backfill.read == 40 and reads(book) == seen["reads"] + 40
    assert backfill.left == Backlog.load(store, t.name).total > 0
    assert f"customers checked {result.checks.checked} of {CUSTOMERS}" in result.summary()


def test_a_restart_carries_on_and_nothing_is_read_twice(
    book: FortnoxSandbox, tmp_path: Path
) -> None:
    path = str(tmp_path / "s.db")
    t = tenant(book, detail_reads_per_cycle=120)
    left = []
    for _ in range(10):
        store = SqliteStore(path, book.clock)  # a new process each time: state is in the store
        result = cycle(book, store, t)
        assert result.ok, result.sync.error
        left.append(Backlog.load(store, t.name).total)
        store.close()
        if not left[-1]:
            break
    assert left[-1] == 0 and left == sorted(left, reverse=True) and len(left) > 2
    assert book.stats.per_path["GET /3/customers/{n}"] == CUSTOMERS  # each exactly once
    assert book.stats.per_path["GET /3/customers"] == len(left)  # one list request a cycle


def test_incremental_cycles_read_only_what_the_list_shows_changed(
    book: FortnoxSandbox, tmp_path: Path
) -> None:
    store = SqliteStore(str(tmp_path / "s.db"), book.clock)
    t = tenant(book)
    assert cycle(book, store, t, full=True).ok
    assert Backlog.load(store, t.name).total == 0
    before = api_requests(book)
    quiet = cycle(book, store, t)
    assert quiet.ok and api_requests(book) - before == quiet.sync.requests == 2  # one list request per collection
    # A customer and an overdue invoice change: exactly those two are read again.
    late = next(i for i in store.invoices(t.name, open_only=True) if i.due_date < TODAY)
    book.update_customer(7, Email="ny@example.se")
    book.update_invoice(int(late.provider_id), Reminders=1, LastRemindDate=TODAY.isoformat())
    before, before_reads = api_requests(book), reads(book)
    changed = cycle(book, store, t)
    assert changed.ok and reads(book) - before_reads == 2
    assert api_requests(book) - before == changed.sync.requests == 2 + 2
    assert store.invoice(t.name, late.provider_id).reminders_sent == 1  # type: ignore[union-attr]
    decisions = {d.invoice.provider_id: d for d in plan_tenant(t, store, TODAY)}
    assert decisions[late.provider_id].outcome is Outcome.SECOND_SENDER


def test_plan_and_report_say_what_waits_for_details(book: FortnoxSandbox, tmp_path: Path) -> None:
    store = SqliteStore(str(tmp_path / "s.db"), book.clock)
    t = tenant(book, detail_reads_per_cycle=0)
    assert cycle(book, store, t).ok
    backlog = Backlog.load(store, t.name)
    decisions = plan_tenant(t, store, TODAY)
    waiting = [d for d in decisions if d.outcome is Outcome.WAITING_FOR_DETAILS]
    assert waiting and all(backlog.waits(d.invoice) for d in waiting)
    assert all(not backlog.waits(d.invoice) for d in decisions if d not in waiting)
    assert f"waiting for details ({backlog.total} left)" in waiting[0].reason
    text = plan_table([(t, decisions)])
    assert f"{len(waiting)} invoice(s) not planned, waiting for details ({backlog.total} left)" in text
    unread_customer = next(d for d in waiting if d.invoice.customer_id in backlog.customers)
    assert f"customer {unread_customer.invoice.customer_number} " in unread_customer.reason
    _, summary = report_data([t], store, TODAY)
    assert summary[t.name]["customers"] == CUSTOMERS
    assert summary[t.name]["customers_checked"] == CUSTOMERS - len(backlog.customers) > 0
    unread = set(backlog.customers)
    assert not [f for f in store.findings(t.name) if f["customer_id"] in unread]
    table = render_report("table", [], summary, book.clock.now())
    checked = summary[t.name]["customers_checked"]
    assert f"customers checked: {checked} of {CUSTOMERS} (the others wait" in table


def test_tier_one_reads_the_oldest_overdue_first(book: FortnoxSandbox, tmp_path: Path) -> None:
    store = SqliteStore(str(tmp_path / "s.db"), book.clock)
    t = tenant(book, detail_reads_per_cycle=0)
    from connector.cycle.pull import pull
    from providers.fortnox import create

    provider = create(t, MemoryCredentials({t.name: book.demo_secret()}), clock=book.clock)
    assert pull(t, provider, store, clock=book.clock).ok
    invoices = {i.provider_id: i for i in store.invoices(t.name, open_only=True)}
    due_now = {i for i, inv in invoices.items() if inv.due_date < TODAY}
    first, rest = order(store, t.name, TODAY, lambda found: {i.provider_id for i in found})
    oldest: dict[str, date] = {}
    for inv in invoices.values():
        if inv.due_date < TODAY and inv.customer_id:
            oldest[inv.customer_id] = min(inv.due_date, oldest.get(inv.customer_id, date.max))
    keys = [
        oldest[i.provider_id] if i.kind == "customer" else invoices[i.provider_id].due_date
        for i in first
    ]
    assert keys == sorted(keys)
    assert {i.provider_id for i in first if i.kind == "customer"} == set(oldest)
    assert {i.provider_id for i in first if i.kind == "invoice"} == due_now
    # Tier 2 before tier 3: customers with open, not yet due invoices come first.
    not_due = {i.customer_id for i in invoices.values() if i.due_date >= TODAY} - set(oldest)
    customers_rest = [i.provider_id for i in rest if i.kind == "customer"]
    assert set(customers_rest[: len(not_due)]) == not_due
    provider.close()


def test_budget_defaults_to_half_the_rate_over_the_interval(book: FortnoxSandbox) -> None:
    class Rate:
        requests_per_second = 5.0

    reads_ = Rate()
    assert budget_for(tenant(book), reads_, full=False) == 9000  # type: ignore[arg-type]
    assert budget_for(tenant(book, interval_minutes=10), reads_, full=False) == 1500  # type: ignore[arg-type]
    assert budget_for(tenant(book, detail_reads_per_cycle=7), reads_, full=False) == 7  # type: ignore[arg-type]
    assert budget_for(tenant(book, detail_reads_per_cycle=7), reads_, full=True) is None  # type: ignore[arg-type]


class _Tty(io.StringIO):
    def isatty(self) -> bool:
        return True


def test_progress_is_a_bar_on_a_terminal_and_one_line_per_phase_elsewhere(
    caplog: pytest.LogCaptureFixture,
) -> None:
    assert isinstance(progress_for("t", io.StringIO()), LogProgress)
    screen = _Tty()
    bars = progress_for("t", screen)
    assert isinstance(bars, TerminalProgress)
    with caplog.at_level(logging.INFO, logger="kravsync.progress"):
        phase = bars.phase("tier-1 details", total=3, unit="reads")
        for _ in range(3):
            phase.advance()
        phase.close("3 read")
        lists = bars.phase("lists", unit="rows")
        lists.grow(10)
        lists.advance(10)
        lists.close()
        bars.finish()
    out = screen.getvalue()
    assert "t: tier-1 details (reads)" in out and "3/3" in out and "10/10" in out
    lines = [r.getMessage() for r in caplog.records]
    assert lines == ["t: tier-1 details: 3 reads in 0.0 s; 3 read", "t: lists: 10 rows in 0.0 s"]


def test_sync_full_prints_the_plan_before_the_backfill(
    book: FortnoxSandbox, tmp_path: Path, capsys: pytest.CaptureFixture[str], clock: Clock
) -> None:
    from connector.cli import main

    settings = book.tenant_settings()
    config = tmp_path / "kravsync.toml"
    config.write_text(
        f'[store]\nurl = "sqlite:///{tmp_path / "k.db"}"\n\n[[tenants]]\nname = "skog-se"\n'
        'provider = "fortnox"\ncountry = "SE"\nauth = "client_credentials"\n'
        'credentials = "env:SKOG_SECRET"\nrequests_per_window = 1000\ndetail_reads_per_cycle = 1\n'
        + "".join(f'{k} = "{v}"\n' for k, v in settings.items())
    )
    env = {"SKOG_SECRET": book.demo_secret()}
    with pytest.MonkeyPatch.context() as mp:
        for k, v in env.items():
            mp.setenv(k, v)
        code = main(
            ["--config", str(config), "sync", "--full", "--dry-run", "--today", TODAY.isoformat()],
            clock=book.clock,
        )
    out = capsys.readouterr().out.splitlines()
    assert code == 0
    assert out[0].startswith("skog-se: planned: ") and "actions" in out[0]
    assert "backfill:" in out[1] and out[1].rstrip().endswith("0 left")
