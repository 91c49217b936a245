"""The clock seam: one injectable clock, ``--today`` moves it for the whole command, and no code
or test reads the real date behind its back."""

from __future__ import annotations

import ast
import os
import subprocess
import sys
from datetime import UTC, date, datetime, timedelta
from pathlib import Path

import pytest
from conftest import TODAY, Kravsync

from connector.clock import GUARD_ENV, START_ENV, Clock, ClockSettingError, RealClockRead
from connector.store import SqliteStore
from providers.fiken.sandbox import FikenSandbox

ROOT = Path(__file__).resolve().parents[1]
# Reads of the real date or time. Only connector/clock.py may make them.
FORBIDDEN = {
    ("date", "today"),
    ("datetime", "now"),
    ("datetime", "today"),
    ("datetime", "utcnow"),
    ("time", "time"),
    ("time", "time_ns"),
    ("time", "localtime"),
    ("time", "gmtime"),
    ("time", "ctime"),
    ("utils", "formatdate"),
}
FORBIDDEN_IMPORTS = {("time", "time"), ("time", "time_ns"), ("email.utils", "formatdate")}


def _real_clock_reads(path: Path) -> list[str]:
    tree = ast.parse(path.read_text(encoding="utf-8"), filename=str(path))
    where = path.relative_to(ROOT) if path.is_relative_to(ROOT) else path.name
    found = []
    for node in ast.walk(tree):
        if isinstance(node, ast.Attribute):
            owner = node.value
            name = owner.attr if isinstance(owner, ast.Attribute) else getattr(owner, "id", None)
            if (name, node.attr) in FORBIDDEN:
                found.append(f"{where}:{node.lineno}: {name}.{node.attr}")
        elif isinstance(node, ast.ImportFrom):
            for alias in node.names:
                if (node.module, alias.name) in FORBIDDEN_IMPORTS:
                    found.append(f"{where}:{node.lineno}: import {alias.name}")
    return found


def test_nothing_but_the_clock_module_reads_the_real_date() -> None:
    """Every "now" and "today" goes through connector.clock, in the code and in the tests
    (a call or a default argument like ``today=date.today`` both count)."""
    sources = [
        p
        for folder in ("connector", "providers", "mappings", "benchmarks", "tests")
        for p in sorted((ROOT / folder).rglob("*.py"))
        if p != ROOT / "connector" / "clock.py"
    ]
    assert len(sources) > 50
    offenders = [line for p in sources for line in _real_clock_reads(p)]
    assert offenders == []


def test_the_lint_would_catch_a_real_clock_read(tmp_path: Path) -> None:
    planted = tmp_path / "planted.py"
    planted.write_text(
        "import datetime as dt\nfrom datetime import date\nfrom time import time\n"
        "def f(today=date.today):\n    return dt.datetime.now()\n",
        encoding="utf-8",
    )
    assert sorted(line.split(": ", 1)[1] for line in _real_clock_reads(planted)) == [
        "date.today",
        "datetime.now",
        "import time",
    ]


def test_the_guard_refuses_a_real_clock_read_in_tests() -> None:
    assert os.environ.get(GUARD_ENV)
    with pytest.raises(RealClockRead):
        Clock.system().now()
    with pytest.raises(RealClockRead):
        FikenSandbox()  # a sandbox without a clock or a day would read the real date


def test_a_started_clock_ticks_from_where_it_starts() -> None:
    start = datetime(2028, 12, 31, 21, 30, tzinfo=UTC)
    clock = Clock.starting_at(start)
    first = clock.now()
    assert start <= first < start + timedelta(seconds=5)
    assert clock.now() >= first
    clock.advance(timedelta(days=14))
    assert clock.today() == date(2029, 1, 14)


def test_today_is_the_nordic_date_not_the_hosts() -> None:
    # 23:30 UTC on New Year's Eve is already 00:30 on 1 January in Oslo and Stockholm.
    assert Clock.starting_at(datetime(2028, 12, 31, 23, 30, tzinfo=UTC)).today() == date(2029, 1, 1)
    # 00:05 on 1 July in Oslo is still 30 June in UTC.
    clock = Clock.starting_at(datetime.fromisoformat("2027-07-01T00:05:00+02:00"))
    assert clock.today() == date(2027, 7, 1) and clock.now().date() == date(2027, 6, 30)


def test_on_moves_by_whole_days_and_keeps_the_time_of_day() -> None:
    clock = Clock.starting_at(datetime(2026, 11, 23, 14, 0, tzinfo=UTC))
    later = clock.on(date(2027, 1, 20))
    assert later.today() == date(2027, 1, 20)
    assert later.now().time().hour == 14
    assert clock.today() == date(2026, 11, 23)  # the original is unchanged


def test_the_environment_carries_a_clock_to_a_child_process() -> None:
    clock = Clock.starting_at(datetime(2030, 2, 3, 4, 5, tzinfo=UTC))
    env = {**os.environ, **clock.environment()}
    code = "from connector.clock import Clock; print(Clock.from_environment().now().isoformat())"
    out = subprocess.run(
        [sys.executable, "-c", code], env=env, capture_output=True, text=True, check=True
    ).stdout
    child = datetime.fromisoformat(out.strip())
    assert clock.now() - timedelta(seconds=30) < child <= clock.now() + timedelta(seconds=1)


@pytest.mark.parametrize("value", ["tomorrow", "2026-11-23T12:00:00"])
def test_a_bad_clock_setting_is_one_line(value: str, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv(START_ENV, value)
    with pytest.raises(ClockSettingError, match=START_ENV):
        Clock.from_environment()


def test_a_bad_clock_setting_exits_2_on_the_command_line(
    config: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    from connector.cli import main

    monkeypatch.setenv(START_ENV, "soon")
    assert main(["--config", str(config), "status"]) == 2
    assert capsys.readouterr().err.strip() == f"kravsync: {START_ENV}: not an ISO timestamp: 'soon'"


def test_a_note_written_under_today_is_dated_that_day(
    kravsync: Kravsync, config: Path, sandbox: FikenSandbox
) -> None:
    assert kravsync("sync") == 0
    day = TODAY + timedelta(days=40)
    store = SqliteStore(str(config.parent / "state.db"), Clock.starting_at(TODAY))
    invoice = next(iter(store.invoices("fjord", open_only=True)))
    assert kravsync("note", "fjord", invoice.number, "--text", "Ringte", "--today", day.isoformat()) == 0
    (note,) = store.notes("fjord")
    assert note.created_at.astimezone(UTC).date() in {day, day - timedelta(days=1)}
    assert Clock.starting_at(note.created_at).today() == day


def test_a_cursor_from_a_future_today_does_not_hide_changes(
    kravsync: Kravsync, config: Path, sandbox: FikenSandbox
) -> None:
    """A `sync --today` far ahead leaves a cursor in the future; the next ordinary sync must not
    ask only for changes after it (it would miss every settlement until then)."""
    assert kravsync("sync", "--dry-run", "--today", (TODAY + timedelta(days=60)).isoformat()) == 0
    store = SqliteStore(str(config.parent / "state.db"), Clock.starting_at(TODAY))
    victim = sorted(store.open_invoice_ids("fjord"))[0]
    sandbox.settle(int(victim))
    assert kravsync("sync", "--dry-run") == 0
    assert victim not in store.open_invoice_ids("fjord")


@pytest.mark.skipif(
    not os.environ.get("KRAVSYNC_TIME_TRAVEL"), reason="only in CI's time-shifted runs"
)
def test_the_shifted_run_is_really_shifted() -> None:
    """CI's second and third runs must really run on the other dates (the sitecustomize took)."""
    from connector.clock import host_time

    destination = datetime.fromisoformat(os.environ["KRAVSYNC_TIME_TRAVEL"])
    now = datetime.fromtimestamp(host_time(), UTC)
    assert destination <= now < destination + timedelta(minutes=25)
