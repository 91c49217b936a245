"""One writer per tenant across real processes: the lease, --wait, takeover, fencing, zombie runs,
write transactions that never fail "database is locked", and one rate budget per credential."""

from __future__ import annotations

import json
import os
import re
import signal
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

import pytest
from conftest import TODAY, TOKEN, clock_env, reminder_action

from connector.clock import Clock, host_time
from connector.lease import LeaseBusy, TenantLease
from connector.models import ActionState
from connector.store import LeaseLost, SqliteStore
from providers.fiken.sandbox import FikenSandbox

pytestmark = pytest.mark.e2e

HELD = re.compile(
    r"^kravsync: tenant fjord: held by another kravsync process "
    r"\(host (\S+) pid (\d+) since \d{4}-\d\d-\d\d \d\d:\d\d:\d\d \S+\)$"
)


def write_config(
    folder: Path, fjord: FikenSandbox, nord: FikenSandbox, *, push: bool = False
) -> Path:
    tenants = "".join(
        f"""
[[tenants]]
name = "{name}"
provider = "fiken"
country = "NO"
company = "{sb.company}"
base_url = "{sb.base_url}"
credentials = "env:LEASE_TOKEN"
push = {"true" if push else "false"}
[tenants.validation]
postcode_register_source = "fixture"
"""
        for name, sb in (("fjord", fjord), ("nord", nord))
    )
    path = folder / "kravsync.toml"
    path.write_text(
        f'[store]\nurl = "sqlite:///state.db"\nlease_seconds = 2\n{tenants}', encoding="utf-8"
    )
    return path


def _env() -> dict[str, str]:
    return {**clock_env(), "LEASE_TOKEN": TOKEN}


def _cmd(config: Path, *args: str) -> list[str]:
    return [sys.executable, "-m", "connector.cli", "--config", str(config), *args]


def spawn(config: Path, *args: str) -> subprocess.Popen[str]:
    return subprocess.Popen(
        _cmd(config, *args), env=_env(), stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True
    )


def run(config: Path, *args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        _cmd(config, *args), env=_env(), capture_output=True, text=True, timeout=180
    )


def parked(sandbox: FikenSandbox) -> Any:
    """Park the next pull's first request (the customer list) until released."""
    hold = sandbox.hold("contacts")
    hold._timeout = 180  # released by the test, never by the clock
    return hold


def store_of(config: Path, clock: Clock) -> SqliteStore:
    return SqliteStore(str(config.parent / "state.db"), clock)


def runs(store: SqliteStore, tenant: str) -> list[dict[str, Any]]:
    return [
        dict(r) for r in store.execute("SELECT * FROM runs WHERE tenant=? ORDER BY id", (tenant,))
    ]


def test_a_second_sync_names_the_holder_exits_75_and_the_other_tenant_runs(
    tmp_path: Path, clock: Clock
) -> None:
    with FikenSandbox(clock=clock, token=TOKEN) as a, FikenSandbox(clock=clock, token=TOKEN) as b:
        config = write_config(tmp_path, a, b)
        hold = parked(a)
        first = spawn(config, "sync", "--tenant", "fjord")
        try:
            assert hold.arrived.wait(120)
            second = run(config, "sync")
        finally:
            hold.release()
            out, err = first.communicate(timeout=180)
    assert first.returncode == 0, err
    assert second.returncode == 75, second.stderr
    lines = second.stderr.strip().splitlines()
    assert len(lines) == 1 and (m := HELD.match(lines[0])), second.stderr
    assert m.group(2) == str(first.pid)
    assert "nord: ok" in second.stdout and "fjord" not in second.stdout
    assert "Traceback" not in second.stderr + err


def test_wait_waits_for_the_holder_then_runs(tmp_path: Path, clock: Clock) -> None:
    with FikenSandbox(clock=clock, token=TOKEN) as a, FikenSandbox(clock=clock, token=TOKEN) as b:
        config = write_config(tmp_path, a, b)
        hold = parked(a)
        first = spawn(config, "sync", "--tenant", "fjord")
        try:
            assert hold.arrived.wait(120)
            second = spawn(config, "sync", "--tenant", "fjord", "--wait", "150")
            holder = store_of(config, clock).lease_holder("fjord")
            assert holder is not None and holder.pid == first.pid
        finally:
            hold.release()
            first.communicate(timeout=180)
            out, err = second.communicate(timeout=180)
    assert first.returncode == 0
    assert second.returncode == 0, err
    assert "fjord: ok" in out
    done = runs(store_of(config, clock), "fjord")
    assert [r["outcome"] for r in done] == ["ok", "ok"]
    assert done[0]["ended_at"] <= done[1]["started_at"]  # one after the other, never together


def test_a_sigkilled_holder_is_taken_over_and_its_run_shows_interrupted(
    tmp_path: Path, clock: Clock
) -> None:
    with FikenSandbox(clock=clock, token=TOKEN) as a, FikenSandbox(clock=clock, token=TOKEN) as b:
        config = write_config(tmp_path, a, b)
        assert run(config, "sync", "--tenant", "fjord").returncode == 0
        store = store_of(config, clock)
        invoice = next(iter(store.invoices("fjord", open_only=True)))
        generation = store.lease_holder("fjord").generation  # type: ignore[union-attr]
        hold = parked(a)
        victim = spawn(config, "sync", "--tenant", "fjord")
        try:
            assert hold.arrived.wait(120)
            victim.send_signal(signal.SIGKILL)
            victim.wait(30)
        finally:
            hold.release()
        assert runs(store, "fjord")[-1]["outcome"] == "running"  # the zombie
        # The next holder (here `note`, which writes the tenant's state too) takes over at once
        # (its holder is a dead process on this host) and closes the zombie run.
        noted = run(config, "note", "fjord", invoice.number, "--text", "called")
        status = run(config, "status", "--format", "json")
    assert noted.returncode == 0, noted.stderr
    last = [r for r in runs(store, "fjord")]
    assert last[-1]["outcome"] == "interrupted" and "interrupted" in last[-1]["error"]
    assert last[-1]["ended_at"] is not None
    document = json.loads(status.stdout)
    fjord = next(t for t in document["tenants"] if t["tenant"] == "fjord")
    assert fjord["last_run"]["outcome"] == "interrupted"
    assert store.lease_holder("fjord").generation == generation + 2  # type: ignore[union-attr]


def test_a_lease_held_on_another_host_is_taken_over_after_it_expires(
    tmp_path: Path, clock: Clock
) -> None:
    with FikenSandbox(clock=clock, token=TOKEN) as a, FikenSandbox(clock=clock, token=TOKEN) as b:
        config = write_config(tmp_path, a, b)
        store = store_of(config, clock)
        now = host_time()
        store.execute(
            "INSERT INTO leases VALUES ('fjord', 'elsewhere:4242:cafe', 'elsewhere', 4242, ?, ?, 7)",
            (now, now + 20),  # long enough for two commands to start on a loaded machine
        )
        held = run(config, "sync", "--tenant", "fjord")
        noted = run(config, "note", "fjord", "1", "--text", "x")
        waited = run(config, "sync", "--tenant", "fjord", "--wait", "60")
    assert held.returncode == 75
    assert (m := HELD.match(held.stderr.strip())) and m.groups() == ("elsewhere", "4242")
    assert noted.returncode == 75 and HELD.match(noted.stderr.strip()), noted.stderr
    assert waited.returncode == 0, waited.stderr
    assert "fjord: ok" in waited.stdout
    assert store.lease_holder("fjord").generation == 8  # type: ignore[union-attr]


def test_a_holder_whose_lease_was_taken_over_writes_nothing_to_the_journal(
    tmp_path: Path, clock: Clock
) -> None:
    """SIGSTOP a pushing sync mid-pull until its lease expires, take the lease over, let it
    go on: its first journal write is refused (generation fence), it fails in one line and
    sends nothing."""
    with FikenSandbox(clock=clock, token=TOKEN) as a, FikenSandbox(clock=clock, token=TOKEN) as b:
        config = write_config(tmp_path, a, b, push=True)
        store = store_of(config, clock)
        hold = parked(a)
        stale = spawn(config, "sync", "--tenant", "fjord")
        try:
            assert hold.arrived.wait(120)
            os.kill(stale.pid, signal.SIGSTOP)
            old = store.lease_holder("fjord")
            assert old is not None and old.pid == stale.pid
            while host_time() <= old.expires_at + 0.1:  # the stopped holder cannot renew
                time.sleep(0.1)
            generation, _ = store.take_lease("fjord", 600)  # a new holder
            assert generation == old.generation + 1
        finally:
            hold.release()
            os.kill(stale.pid, signal.SIGCONT)
            out, err = stale.communicate(timeout=180)
        journal = list(store.journal("fjord"))
        sent = a.sent_invoices()
        store.release_tenant_lease("fjord")
    assert stale.returncode == 1, out + err
    line = next(line for line in out.splitlines() if line.startswith("fjord:"))
    assert "FAILED" in line and "lease lost" in line, out
    assert journal == [] and sent == []
    assert runs(store, "fjord")[-1]["outcome"] == "failed"
    assert "Traceback" not in err


def test_the_fence_refuses_a_stale_generation_and_a_writer_without_the_lease(
    tmp_path: Path,
) -> None:
    clock = Clock.starting_at(TODAY)
    path = str(tmp_path / "f.db")
    old, new = SqliteStore(path, clock), SqliteStore(path, clock)
    old.ensure_tenant("fjord", "fiken", "NO")
    assert old.take_lease("fjord", ttl=0.05)[0] == 1
    time.sleep(0.1)  # the old holder stopped renewing: its lease expired
    with TenantLease(new, "fjord", ttl=60) as lease:
        assert lease.generation == 2
        with pytest.raises(LeaseBusy):
            TenantLease(SqliteStore(path, clock), "fjord", ttl=60).__enter__()
        with pytest.raises(LeaseLost, match="lease lost"):
            old.journal_begin(reminder_action())
        with pytest.raises(LeaseLost, match="held by another kravsync process"):
            SqliteStore(path, clock).journal_begin(reminder_action())
        assert new.journal_begin(reminder_action())
        with pytest.raises(LeaseLost):
            old.journal_finish(reminder_action().idempotency_key, ActionState.DONE)
    assert [e.state for e in new.journal("fjord")] == [ActionState.PENDING]


HAMMER = """
import sys
from dataclasses import dataclass
from datetime import date
from connector.clock import Clock
from connector.store import SqliteStore

@dataclass
class F:
    customer_id: str
    customer_number: None
    customer_name: None
    code: str
    field: str
    severity: str
    message: str
    @property
    def blocks(self):
        return ()

store = SqliteStore(sys.argv[1], Clock.starting_at(date(2026, 11, 23)))
store.ensure_tenant("t", "fiken", "NO")
for i in range(int(sys.argv[2])):
    store.replace_findings("t", [F(str((i + j) % 11), None, None, "c", "f", "error", "m") for j in range(5)])
    store.set_cursor("t", sys.argv[3], str(i))
print("done")
"""


def test_two_processes_hammering_writes_never_see_database_is_locked(tmp_path: Path) -> None:
    path = str(tmp_path / "h.db")
    SqliteStore(path, Clock.starting_at(TODAY)).ensure_tenant("t", "fiken", "NO")
    procs = [
        subprocess.Popen(
            [sys.executable, "-c", HAMMER, path, "300", f"s{n}"],
            env=clock_env(),
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            text=True,
        )
        for n in range(2)
    ]
    results = [p.communicate(timeout=300) for p in procs]
    for proc, (out, err) in zip(procs, results, strict=True):
        assert "locked" not in err and proc.returncode == 0, err[-2000:]
        assert out.strip() == "done"


@pytest.mark.parametrize("scenario", ["two-syncs", "daemon+sync"])
def test_two_pushing_processes_with_a_sigkill_send_each_action_once(
    tmp_path: Path, scenario: str
) -> None:
    pytest.importorskip("aiosmtpd")
    sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "benchmarks"))
    import random

    import concurrency

    outcome = concurrency.run_trial(
        scenario, random.Random(7), tmp_path, frozenset({"skog:15:reminder:1"}), 6.0
    )
    assert outcome.ok, (outcome.killed, outcome.problems)
    assert outcome.locked == 0 and outcome.duplicate_sends == 0 and outcome.duplicate_fees == 0


def test_two_processes_on_one_rate_limited_credential_get_no_429(tmp_path: Path) -> None:
    sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "benchmarks"))
    import concurrency

    limited, requests, codes = concurrency.rate_trial(tmp_path)
    assert codes == [0, 0]
    assert requests > 40  # together well over the sandbox's 10 per 2 s
    assert limited == 0


def test_a_daemon_skips_a_held_tenant_without_calling_it_failed(tmp_path: Path) -> None:
    from connector.config import Config, TenantConfig
    from connector.daemon import Daemon

    clock = Clock.starting_at(TODAY)
    path = str(tmp_path / "d.db")
    other = SqliteStore(path, clock)
    assert other.take_lease("fjord", 600)[0] == 1
    config = Config(
        tenants=[TenantConfig(name="fjord", provider="fiken", country="NO", company="fjord")]
    )
    daemon = Daemon(config, SqliteStore(path, clock), clock=clock)
    daemon.submit(config.tenants[0])
    daemon.shutdown()
    code, document = daemon.health_document()
    assert code == 200
    assert document["tenants"]["fjord"]["last_ok"] is None
    assert document["tenants"]["fjord"]["running"] is False
    assert SqliteStore(path, clock).last_run("fjord") is None  # nothing was run or written


def test_two_processes_creating_one_new_store_file_both_open_it(tmp_path: Path) -> None:
    """The file appears between one process's "does it exist" and its exclusive create (seen
    once in 20 benchmark runs as exit 2): it opens the other's file instead of failing."""
    from unittest import mock

    from connector.files import prepare_store_file

    path = tmp_path / "s.db"
    real_exists = Path.exists
    raced: list[Path] = []

    def exists(self: Path) -> bool:
        if self == path and not raced:
            raced.append(self)
            path.write_bytes(b"")  # the other process wins the race
            return False
        return real_exists(self)

    with mock.patch.object(Path, "exists", exists):
        assert prepare_store_file(path) == path
    assert raced
