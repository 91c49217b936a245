"""`kravsync store copy`: a store that has run cycles, moved SQLite → PostgreSQL → SQLite,
verified table by table, and usable where it lands."""

from __future__ import annotations

from pathlib import Path

import pytest
from backends import fresh_store_url
from conftest import TODAY, Kravsync

from connector.cli import main
from connector.clock import Clock
from connector.store import open_store
from connector.store.copy import checksum, store_tables

pytestmark = pytest.mark.e2e


def _summary(url: str, clock: Clock) -> tuple[object, ...]:
    store = open_store(url, clock)
    return (
        [c.model_dump() for c in store.customers("fjord")],
        [i.model_dump() for i in store.invoices("fjord")],
        [(e.action.idempotency_key, e.state) for e in store.journal("fjord")],
        [(n.kind, n.text) for n in store.notes("fjord")],
        store.last_run("fjord"),
    )


def test_a_synced_store_moves_to_postgresql_and_back_without_loss(
    kravsync: Kravsync, config: Path, clock: Clock, capsys: pytest.CaptureFixture[str]
) -> None:
    text = config.read_text()
    config.write_text(text.replace("[tenants.validation]", "push = true\n[tenants.validation]"))
    assert kravsync("sync", "--today", TODAY.isoformat()) == 0
    assert kravsync("note", "fjord", "10002", "--text", "Lovar å betala på fredag",
                    "--promise-date", "2026-12-04") == 0
    capsys.readouterr()
    sqlite_url = f"sqlite:///{config.parent / 'state.db'}"
    pg_url = fresh_store_url("postgresql")
    assert main(["store", "copy", sqlite_url, pg_url], clock=clock) == 0
    out = capsys.readouterr().out
    assert "verified:" in out and " NO" not in out
    assert "actions" in out and "customers" in out
    before = _summary(sqlite_url, clock)
    assert before[2], "the sync pushed nothing: the copy would prove little"
    assert _summary(pg_url, clock) == before
    back = f"sqlite:///{config.parent / 'back.db'}"
    assert main(["store", "copy", pg_url, back], clock=clock) == 0
    assert _summary(back, clock) == before
    # the copy continues numbering where the source stopped
    moved = open_store(pg_url, clock)
    assert moved.begin_run("fjord") > before[4].id  # type: ignore[union-attr]


def test_copy_into_a_store_with_data_is_refused(
    kravsync: Kravsync, config: Path, clock: Clock, capsys: pytest.CaptureFixture[str]
) -> None:
    assert kravsync("sync", "--dry-run", "--today", TODAY.isoformat()) == 0
    sqlite_url = f"sqlite:///{config.parent / 'state.db'}"
    pg_url = fresh_store_url("postgresql")
    assert main(["store", "copy", sqlite_url, pg_url], clock=clock) == 0
    capsys.readouterr()
    assert main(["store", "copy", sqlite_url, pg_url], clock=clock) == 2
    err = capsys.readouterr().err
    assert "is not empty" in err and err.count("\n") == 1


def test_the_checksum_sees_one_changed_value_but_not_row_order() -> None:
    rows = [(1, "Ærlig Bakeri AS", 1.5, None, b"\x00"), (2, "Bjørg", 2.0, "x", None)]
    count, total = checksum(rows)
    assert count == 2
    assert checksum(reversed(rows)) == (2, total)
    assert checksum([rows[0], (2, "Bjørg", 2.0, "y", None)])[1] != total
    assert checksum([rows[0], (2, "Bjørg", 2.0, None, "x")])[1] != total  # columns don't blur


def test_every_table_is_copied() -> None:
    tables = store_tables()
    assert tables[0] == "tenants" and tables.index("runs") < tables.index("run_errors")
    assert {"actions", "action_steps", "notes", "leases", "approvals"} <= set(tables)


def test_copy_from_a_store_that_does_not_exist_creates_nothing(
    tmp_path: Path, clock: Clock, capsys: pytest.CaptureFixture[str]
) -> None:
    missing = tmp_path / "nothing.db"
    target = tmp_path / "target.db"
    assert main(["store", "copy", f"sqlite:///{missing}", f"sqlite:///{target}"], clock=clock) == 2
    assert "no such store" in capsys.readouterr().err
    assert not missing.exists() and not target.exists()
