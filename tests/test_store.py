"""The store on SQLite and PostgreSQL: migrations, idempotent upserts, cursors, runs and the
cross-process lock."""

from __future__ import annotations

import multiprocessing
import threading
import time
from datetime import date
from decimal import Decimal

import pytest
from backends import MakeStore

from connector.clock import Clock
from connector.models import Customer, CustomerKind, Invoice, InvoiceStatus
from connector.store import LockTimeout, Store, StoreError, open_store
from connector.store.migrations import MIGRATIONS

CLOCK = Clock.starting_at(date(2026, 11, 23))  # the tests' clock; never the real date

pytestmark = pytest.mark.backends


def customer(pid: str, name: str = "Ærlig Bakeri AS") -> Customer:
    return Customer(provider="fiken", provider_id=pid, name=name, kind=CustomerKind.COMPANY)


def invoice(
    pid: str,
    outstanding: str = "100.00",
    status: InvoiceStatus = InvoiceStatus.OPEN,
    due: date = date(2026, 1, 1),
    currency: str = "NOK",
) -> Invoice:
    return Invoice(
        provider="fiken",
        provider_id=pid,
        number=pid,
        customer_id="1",
        issue_date=date(2025, 12, 1),
        due_date=due,
        currency=currency,
        gross=Decimal("100.00"),
        outstanding=Decimal(outstanding),
        status=status,
    )


@pytest.fixture
def store(make_store: MakeStore) -> Store:
    s = make_store(CLOCK)
    s.ensure_tenant("t", "fiken", "NO")
    return s


def test_migrations_are_versioned_and_idempotent(make_store: MakeStore, backend: str) -> None:
    first = make_store(CLOCK, "m")
    assert first.schema_version() == MIGRATIONS[-1][0]
    assert make_store(CLOCK, "m").migrate() == MIGRATIONS[-1][0]  # re-opening applies nothing twice
    versions = first.execute("SELECT version FROM schema_version ORDER BY version")
    assert [r[0] for r in versions] == [m[0] for m in MIGRATIONS]
    if backend == "sqlite":
        mode = first._conn().execute("PRAGMA journal_mode").fetchone()[0]
        assert mode == "wal"


def test_upserts_are_idempotent_and_keep_unicode(store: Store) -> None:
    store.upsert_customers("t", [customer("1"), customer("2", "Bjørg Løvås")])
    store.upsert_customers("t", [customer("2", "Bjørg Løvås-Åsen")])
    names = {c.provider_id: c.name for c in store.customers("t")}
    assert names == {"1": "Ærlig Bakeri AS", "2": "Bjørg Løvås-Åsen"}


def test_invoice_upsert_updates_state_and_decimal_survives(store: Store) -> None:
    store.upsert_invoices("t", [invoice("10", "1234.56")])
    store.upsert_invoices("t", [invoice("10", "0.00", InvoiceStatus.PAID)])
    stored = store.invoice("t", "10")
    assert stored is not None and stored.status is InvoiceStatus.PAID
    assert stored.outstanding == Decimal("0.00")
    assert store.open_invoice_ids("t") == set()


def test_status_sums_per_currency_and_counts_overdue(store: Store) -> None:
    store.upsert_invoices(
        "t",
        [
            invoice("1", "100.10", due=date(2026, 1, 1)),
            invoice("2", "0.20", due=date(2026, 3, 1)),
            invoice("3", "50.00", currency="EUR", due=date(2025, 1, 1)),
            invoice("4", "0.00", InvoiceStatus.PAID),
        ],
    )
    status = store.tenant_status("t", today=date(2026, 2, 1))
    assert status.open_invoices == 3
    assert status.outstanding == {"EUR": Decimal("50.00"), "NOK": Decimal("100.30")}
    assert status.overdue == 2
    assert status.overdue_amount == {"EUR": Decimal("50.00"), "NOK": Decimal("100.10")}


def test_cursor_and_runs(store: Store) -> None:
    assert store.get_cursor("t", "invoices") is None
    store.set_cursor("t", "invoices", "2026-11-23T10:00:00+00:00")
    assert store.get_cursor("t", "invoices") == "2026-11-23T10:00:00+00:00"
    run = store.begin_run("t")
    store.record_error(run, "invoice", "42", "dueDate: not a date")
    store.finish_run(run, "ok", customers=3, invoices=4, skipped=1)
    last = store.last_run("t")
    assert (
        last is not None
        and last.outcome == "ok"
        and last.invoices == 4
        and last.ended_at is not None
    )
    assert store.run_errors(run) == [("invoice", "42", "dueDate: not a date")]


def test_advisory_lock_excludes_other_threads(store: Store) -> None:
    inside = 0
    overlaps = 0
    guard = threading.Lock()

    def work() -> None:
        nonlocal inside, overlaps
        for _ in range(5):
            with store.advisory_lock("x", timeout=10):
                with guard:
                    inside += 1
                    overlaps += inside > 1
                time.sleep(0.002)
                with guard:
                    inside -= 1

    threads = [threading.Thread(target=work) for _ in range(4)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert overlaps == 0


def _hold_lock(
    url: str, ready: multiprocessing.synchronize.Event, release: multiprocessing.synchronize.Event
) -> None:  # type: ignore[name-defined]
    s = open_store(url, CLOCK)
    with s.advisory_lock("shared", timeout=5):
        ready.set()
        release.wait(10)


def test_advisory_lock_excludes_other_processes_and_times_out(make_store: MakeStore) -> None:
    make_store(CLOCK, "p")
    url = make_store.urls["p"]  # type: ignore[attr-defined]
    ctx = multiprocessing.get_context("spawn")
    ready, release = ctx.Event(), ctx.Event()
    proc = ctx.Process(target=_hold_lock, args=(url, ready, release))
    proc.start()
    try:
        assert ready.wait(20)
        with pytest.raises(LockTimeout):
            with make_store(CLOCK, "p").advisory_lock("shared", timeout=0.3):
                pass
    finally:
        release.set()
        proc.join(20)
    with make_store(CLOCK, "p").advisory_lock("shared", timeout=5):
        pass


def test_expired_lock_of_a_dead_holder_is_taken_over(store: Store) -> None:
    store.execute("INSERT INTO locks VALUES ('y', 'dead-host:1', ?)", (store.shared_time() - 1,))
    with store.advisory_lock("y", timeout=0.5):
        pass


def test_unsupported_store_urls_are_refused_clearly() -> None:
    with pytest.raises(StoreError, match="unsupported store URL 'mysql'"):
        open_store("mysql://u@h/db", CLOCK)


def test_an_unreachable_postgresql_is_one_line_without_the_password() -> None:
    with pytest.raises(StoreError) as caught:
        open_store("postgresql://kravsync:s3cret-pw@127.0.0.1:9/db", CLOCK)
    message = str(caught.value)
    assert message.startswith("store.url: cannot connect to postgresql://kravsync:***@127.0.0.1:9/db")
    assert "s3cret-pw" not in message and "\n" not in message


def test_a_postgres_password_from_the_environment_is_used_and_never_shown(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setenv("KS_STORE_PW", "pw-from-env-1234")
    with pytest.raises(StoreError) as caught:
        open_store("postgres://kravsync@127.0.0.1:9/db", CLOCK, "env:KS_STORE_PW")
    assert "pw-from-env-1234" not in str(caught.value)
    monkeypatch.delenv("KS_STORE_PW")
    with pytest.raises(StoreError, match="store.password: env:KS_STORE_PW gives no password"):
        open_store("postgres://kravsync@127.0.0.1:9/db", CLOCK, "env:KS_STORE_PW")


def test_receivable_snapshots_give_dso_at_each_months_end(store: Store) -> None:
    """Each cycle's snapshot: what is open, what was invoiced in the 90 days before; a month's
    last snapshot is its month-end figure, a later one the same day replaces it."""
    issued = [
        invoice("a", "600.00").model_copy(update={"issue_date": date(2026, 1, 10), "gross": Decimal("900.00")}),
        invoice("b", "0.00", InvoiceStatus.PAID).model_copy(update={"issue_date": date(2026, 1, 20), "gross": Decimal("300.00")}),
        invoice("c", "50.00", currency="SEK").model_copy(update={"issue_date": date(2025, 6, 1)}),
    ]
    store.upsert_invoices("t", issued)
    assert store.snapshot_receivables("t", date(2026, 1, 25)) == 2
    store.upsert_invoices("t", [issued[0].model_copy(update={"outstanding": Decimal("300.00")})])
    store.snapshot_receivables("t", date(2026, 1, 31))
    store.snapshot_receivables("t", date(2026, 2, 3))
    store.upsert_invoices("t", [issued[0].model_copy(update={"outstanding": Decimal("0.00")})])
    store.snapshot_receivables("t", date(2026, 2, 3))  # the day's last cycle wins
    rows = [
        (r["month"], r["currency"], r["day"], r["open_units"], r["invoiced_90d_units"])
        for r in store.month_end_receivables("t", date(2025, 12, 1))
    ]
    assert rows == [
        ("2026-01", "NOK", "2026-01-31", 300_0000, 1200_0000),
        ("2026-01", "SEK", "2026-01-31", 50_0000, 0),  # issued long before: nothing in 90 days
        ("2026-02", "NOK", "2026-02-03", 0, 1200_0000),
        ("2026-02", "SEK", "2026-02-03", 50_0000, 0),
    ]
