"""Daemon workers sharing the tenants: claiming due tenants, heartbeats, and real daemons that
share tenants, lose one to SIGKILL, and one paused past its lease (SIGSTOP) that pushes
nothing when it wakes."""

from __future__ import annotations

import json
import os
import re
import signal
import socket
import subprocess
import sys
import threading
import time
from collections import Counter
from collections.abc import Iterator
from contextlib import ExitStack, contextmanager
from datetime import timedelta
from pathlib import Path
from typing import Any

import pytest
import requests
from backends import MakeStore
from conftest import TODAY, TOKEN, clock_env, reminder_action
from test_policy_support import invoice

from connector.cli import main
from connector.clock import Clock
from connector.config import load_config
from connector.models import InvoiceStatus
from connector.store import LeaseLost, Store, open_configured_store
from connector.store.workers import GC_BEATS, GC_MIN_SECONDS
from providers.fiken.sandbox import FikenSandbox

pytestmark = pytest.mark.backends

CLOCK = Clock.starting_at(TODAY)
# The daemons' business day: the sandbox's demo invoices leave two reminders per company due
# then (a few seconds of pushing per tenant, not half a minute)
# One Fiken user (token) per company: Fiken lets a user have one request in flight, and the
# clients of all processes keep to that, so a parked request would hold up the other tenants.
NAMES = ("a", "b", "c")
ENV = {
    **clock_env(TODAY - timedelta(days=28)),
    **{f"WORKERS_TOKEN_{n.upper()}": f"{TOKEN}-{n}" for n in NAMES},
    "WORKERS_TOKEN_A_OTHER": f"{TOKEN}-a",
}


def token(name: str) -> str:
    return f"{TOKEN}-{name}"


def store_of(config: Path) -> Store:
    return open_configured_store(load_config(config), CLOCK)


def next_due(store: Store, tenant: str) -> float:
    rows = store.execute("SELECT next_due FROM tenant_schedule WHERE tenant=?", (tenant,))
    return float(rows[0][0])


def dead_pid() -> int:
    proc = subprocess.Popen([sys.executable, "-c", "pass"])
    proc.wait(30)
    return proc.pid


# -- claim_due_tenants -----------------------------------------------------------------------------


def test_claim_takes_up_to_the_limit_in_name_order_and_skips_what_is_held(tmp_path: Path, make_store: MakeStore) -> None:
    one, two = make_store(CLOCK), make_store(CLOCK)
    assert one.claim_due_tenants(["c", "a", "b"], 2, ttl=60) == [("a", 1), ("b", 1)]
    assert two.claim_due_tenants(["a", "b", "c"], 5, ttl=60) == [("c", 1)]  # a, b held
    assert one.claim_due_tenants(["a", "b", "c"], 5, ttl=60) == []
    assert one.claim_due_tenants(["a"], 0, ttl=60) == []
    holder = one.lease_holder("a")
    assert holder is not None and holder.holder == one._holder and holder.generation == 1


def test_a_released_tenant_is_due_again_only_after_its_interval(tmp_path: Path, make_store: MakeStore) -> None:
    store = make_store(CLOCK)
    assert store.claim_due_tenants(["a", "b"], 2, ttl=60) == [("a", 1), ("b", 1)]
    before = store.shared_time()
    assert store.release_claimed("a", 3600.0)
    assert store.release_claimed("b", 0.0)
    assert next_due(store, "a") >= before + 3600
    # a ran a moment ago and is due in an hour; b is due now
    assert store.claim_due_tenants(["a", "b"], 2, ttl=60) == [("b", 2)]
    store.execute("UPDATE tenant_schedule SET next_due=? WHERE tenant='a'", (store.shared_time() - 1,))
    assert store.claim_due_tenants(["a", "b"], 2, ttl=60) == [("a", 2)]


def test_the_most_overdue_tenants_are_claimed_first(tmp_path: Path, make_store: MakeStore) -> None:
    store = make_store(CLOCK)
    names = ["a", "b", "c", "d"]
    assert len(store.claim_due_tenants(names, 4, ttl=60)) == 4
    now = store.shared_time()
    for name, due in (("a", now - 10), ("b", now - 500), ("c", now + 500), ("d", now - 100)):
        assert store.release_claimed(name, due - store.shared_time())
    assert [n for n, _ in store.claim_due_tenants(names, 2, ttl=60)] == ["b", "d"]
    assert [n for n, _ in store.claim_due_tenants(names, 2, ttl=60)] == ["a"]  # c is not due


def test_a_lease_on_another_host_is_claimed_only_after_it_expires(tmp_path: Path, make_store: MakeStore) -> None:
    store = make_store(CLOCK)
    store.ensure_tenant("a", "fiken", "NO")
    now = store.shared_time()
    store.execute(
        "INSERT INTO leases (tenant, holder, host, pid, since, expires_at, generation) "
        "VALUES ('a', 'elsewhere:4242:cafe', 'elsewhere', 4242, ?, ?, 7)",
        (now, now + 600),
    )
    run_id = store.begin_run("a")  # the other host's run, in flight
    assert store.claim_due_tenants(["a"], 1, ttl=60) == []
    store.execute("UPDATE leases SET expires_at=? WHERE tenant='a'", (store.shared_time() - 1,))
    assert store.claim_due_tenants(["a"], 1, ttl=60) == [("a", 8)]
    run = store.last_run("a")
    assert run is not None and run.id == run_id and run.outcome == "interrupted"


def test_a_lease_of_a_dead_process_on_this_host_is_claimed_at_once(tmp_path: Path, make_store: MakeStore) -> None:
    store = make_store(CLOCK)
    pid, host, now = dead_pid(), socket.gethostname(), store.shared_time()
    store.execute(
        "INSERT INTO leases (tenant, holder, host, pid, since, expires_at, generation) "
        "VALUES ('a', ?, ?, ?, ?, ?, 3)",
        (f"{host}:{pid}:dead", host, pid, now, now + 600),
    )
    store.execute(
        "INSERT INTO leases (tenant, holder, host, pid, since, expires_at, generation) "
        "VALUES ('b', ?, ?, ?, ?, ?, 5)",
        (f"{host}:{os.getpid()}:live", host, os.getpid(), now, now + 600),
    )
    assert store.claim_due_tenants(["a", "b"], 2, ttl=60) == [("a", 4)]


def test_a_claimed_lease_fences_writes_and_a_stale_holder_releases_nothing(
    tmp_path: Path, make_store: MakeStore,
) -> None:
    old, new = make_store(CLOCK), make_store(CLOCK)
    old.ensure_tenant("a", "fiken", "NO")
    assert old.claim_due_tenants(["a"], 1, ttl=0.05) == [("a", 1)]
    assert old.journal_begin(reminder_action("a"))  # the claim's generation is what writes check
    time.sleep(0.1)  # the old holder stopped renewing: its lease expired
    assert new.claim_due_tenants(["a"], 1, ttl=60) == [("a", 2)]
    with pytest.raises(LeaseLost, match="lease lost"):
        old.journal_begin(reminder_action("a").model_copy(update={"invoice_id": "2"}))
    due = next_due(new, "a")
    assert not old.release_claimed("a", 3600.0)  # taken over: its release changes nothing
    assert next_due(new, "a") == due
    holder = new.lease_holder("a")
    assert holder is not None and holder.generation == 2 and holder.expires_at > new.shared_time()


def test_a_holder_that_lost_its_lease_writes_no_pulled_records_cursors_or_findings(
    tmp_path: Path, make_store: MakeStore,
) -> None:
    """What a paused worker pulled before its lease expired must not overwrite what the new
    holder pulled since: a stale invoice (unpaid, say) would plan a reminder on old facts."""
    old, new = make_store(CLOCK), make_store(CLOCK)
    old.ensure_tenant("a", "fiken", "NO")
    assert old.claim_due_tenants(["a"], 1, ttl=0.05) == [("a", 1)]
    time.sleep(0.1)
    assert new.claim_due_tenants(["a"], 1, ttl=60) == [("a", 2)]
    paid = invoice(TODAY, outstanding="0.00", status=InvoiceStatus.PAID)
    new.upsert_invoices("a", [paid])
    new.set_cursor("a", "invoices", "new")
    stale = invoice(TODAY, outstanding="1000.00")
    for write in (
        lambda: old.upsert_invoices("a", [stale]),
        lambda: old.upsert_customers("a", []),
        lambda: old.set_cursor("a", "invoices", "old"),
        lambda: old.replace_findings("a", []),
        lambda: old.note_malformed("a", "invoice", [("9", "bad")]),
        lambda: old.clear_malformed("a", "invoice", None),
        lambda: old.queue_details("a", "invoice", ["9"]),
    ):
        with pytest.raises(LeaseLost):
            write()
    stored = new.invoice("a", paid.provider_id)
    assert stored is not None and stored.outstanding == paid.outstanding
    assert new.get_cursor("a", "invoices") == "new"


def test_claimers_in_parallel_never_take_one_tenant_twice(tmp_path: Path, make_store: MakeStore) -> None:
    names = [f"t{n:02d}" for n in range(24)]
    stores = [make_store(CLOCK) for _ in range(4)]
    stores[0].migrate()
    taken: list[list[str]] = [[] for _ in stores]
    start = threading.Barrier(len(stores))

    def claim(n: int) -> None:
        start.wait()
        while True:
            got = stores[n].claim_due_tenants(names, 2, ttl=60)
            if not got:
                return
            taken[n].extend(name for name, _ in got)

    threads = [threading.Thread(target=claim, args=(n,)) for n in range(len(stores))]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(60)
    everything = [name for got in taken for name in got]
    assert sorted(everything) == names  # each once, none left over


# -- the workers table -----------------------------------------------------------------------------


def test_a_worker_registers_beats_shows_stale_and_is_collected(tmp_path: Path, make_store: MakeStore) -> None:
    one, two = make_store(CLOCK), make_store(CLOCK)
    one.register_worker(concurrency=3, heartbeat_seconds=5)
    two.register_worker(concurrency=1, heartbeat_seconds=5)
    one.heartbeat_worker(["b", "a"], 3, 5)
    workers = {w.id: w for w in one.workers()}
    assert set(workers) == {one._holder, two._holder}
    mine = workers[one._holder]
    assert (mine.host, mine.pid, mine.concurrency) == (socket.gethostname(), os.getpid(), 3)
    assert mine.tenants == ("a", "b") and not mine.stale
    assert mine.heartbeat_age(one.shared_time()) < 5
    # two stops beating: stale after 3 intervals, deleted by another's beat after GC_BEATS
    two.execute("UPDATE workers SET heartbeat_at=? WHERE id=?", (two.shared_time() - 16, two._holder))
    assert {w.id: w.stale for w in one.workers()} == {one._holder: False, two._holder: True}
    assert one.heartbeat_worker([], 3, 5) == 0  # stale, but kept (shown) for a while
    two.execute(
        "UPDATE workers SET heartbeat_at=? WHERE id=?",
        (two.shared_time() - max(5 * GC_BEATS, GC_MIN_SECONDS) - 1, two._holder),
    )
    assert one.heartbeat_worker([], 3, 5) == 1
    assert [w.id for w in one.workers()] == [one._holder]
    one.remove_worker()
    assert one.workers() == []


def test_a_worker_row_of_a_dead_process_on_this_host_is_stale_at_once(tmp_path: Path, make_store: MakeStore) -> None:
    store = make_store(CLOCK)
    pid, host, now = dead_pid(), socket.gethostname(), store.shared_time()
    store.execute(
        "INSERT INTO workers VALUES (?, ?, ?, ?, ?, 5, 2, '[\"a\"]')",
        (f"{host}:{pid}:dead", host, pid, now, now),
    )
    [worker] = store.workers()
    assert worker.stale and worker.tenants == ("a",)


def test_status_lists_the_workers_in_the_table_and_in_json(
    tmp_path: Path, config: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    store = store_of(config)
    store.register_worker(concurrency=4, heartbeat_seconds=5)
    store.heartbeat_worker(["fjord"], 4, 5)
    now = store.shared_time()
    store.execute(
        "INSERT INTO workers VALUES ('far:77:beef', 'far', 77, ?, ?, 5, 2, '[]')",
        (now - 600, now - 120),
    )
    assert main(["--config", str(config), "status"], clock=CLOCK) == 0
    table = capsys.readouterr().out
    lines = table[table.index("workers:") :].splitlines()
    mine = next(line for line in lines if f" {os.getpid()} " in line)
    assert "fjord" in mine and "STALE" not in mine and re.search(r"\b\ds ago", mine)
    far = next(line for line in lines if line.startswith("far "))
    assert "STALE" in far and "2m 00s ago" in far
    assert main(["--config", str(config), "status", "--format", "json"], clock=CLOCK) == 0
    document = json.loads(capsys.readouterr().out)
    workers = {w["host"]: w for w in document["workers"]}
    assert workers["far"]["stale"] is True and workers["far"]["heartbeat_age_seconds"] >= 120
    assert workers[socket.gethostname()]["tenants"] == ["fjord"]
    assert workers[socket.gethostname()]["pid"] == os.getpid()
    assert workers[socket.gethostname()]["stale"] is False


# -- real daemons ------------------------------------------------------------------------------------


def write_config(folder: Path, sandboxes: dict[str, FikenSandbox], store_url: str) -> Path:
    tenants = "".join(
        f"""
[[tenants]]
name = "{name}"
provider = "fiken"
country = "NO"
company = "{sb.company}"
base_url = "{sb.base_url}"
credentials = "env:WORKERS_TOKEN_{name.upper()}"
push = true
[tenants.validation]
postcode_register_source = "fixture"
"""
        for name, sb in sandboxes.items()
    )
    path = folder / "kravsync.toml"
    path.write_text(
        f'[store]\nurl = "{store_url}"\nlease_seconds = 60\n{tenants}', encoding="utf-8"
    )
    return path


class Worker:
    """A `kravsync daemon` subprocess, its log in a file."""

    def __init__(self, config: Path, n: int, *args: str) -> None:
        self.log = config.parent / f"worker{n}.log"
        self._handle = self.log.open("wb")
        self.proc = subprocess.Popen(
            [
                sys.executable, "-m", "connector.cli", "--config", str(config), "daemon",
                "--heartbeat", "0.3", "--lease-ttl", "2", *args,
            ],
            env=ENV,
            stdout=self._handle,
            stderr=subprocess.STDOUT,
        )
        self.pid = self.proc.pid

    def text(self) -> str:
        return self.log.read_text(encoding="utf-8", errors="replace")

    def stop(self) -> int:
        if self.proc.poll() is None:
            os.kill(self.pid, signal.SIGCONT)
            self.proc.send_signal(signal.SIGTERM)
        try:
            return self.proc.wait(60)
        except subprocess.TimeoutExpired:
            self.proc.kill()
            return self.proc.wait(10)
        finally:
            self._handle.close()


@contextmanager
def fleet(
    tmp_path: Path, names: list[str], store_url: str
) -> Iterator[tuple[Path, dict[str, FikenSandbox]]]:
    with ExitStack() as stack:
        sandboxes = {
            name: stack.enter_context(
                FikenSandbox(clock=CLOCK, token=token(name), rate_limit=False, company=f"co-{name}")
            )
            for name in names
        }
        yield write_config(tmp_path, sandboxes, store_url), sandboxes


def parked(sandbox: FikenSandbox) -> Any:
    hold = sandbox.hold("contacts")
    hold._timeout = 120  # released by the test
    return hold


def wait_for(what: Any, seconds: float = 60.0) -> Any:
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        value = what()
        if value:
            return value
        time.sleep(0.05)
    raise AssertionError("not within the time allowed")


def runs(config: Path, tenant: str) -> list[dict[str, Any]]:
    store = store_of(config)
    try:
        return [
            dict(r)
            for r in store.execute("SELECT * FROM runs WHERE tenant=? ORDER BY id", (tenant,))
        ]
    finally:
        store.close()


def ended_ok(config: Path, tenant: str) -> bool:
    return any(r["outcome"] == "ok" for r in runs(config, tenant))


def cycles_done(config: Path, *tenants: str) -> bool:
    """Each tenant's pull ended ok and no live worker holds any tenant (its push is over)."""
    if not all(ended_ok(config, t) for t in tenants):
        return False
    store = store_of(config)
    try:
        return all(not w.tenants for w in store.workers() if not w.stale)
    finally:
        store.close()


def status_workers(config: Path) -> dict[int, dict[str, Any]]:
    out = subprocess.run(
        [sys.executable, "-m", "connector.cli", "--config", str(config), "status", "--format",
         "json"],
        env=ENV, capture_output=True, text=True, timeout=60,
    )
    assert out.returncode == 0, out.stderr
    return {w["pid"]: w for w in json.loads(out.stdout)["workers"]}


def sends(sandbox: FikenSandbox) -> Counter[Any]:
    return Counter(body["invoiceId"] for body in sandbox.sent_invoices())


def assert_each_sent_once(config: Path, sandboxes: dict[str, FikenSandbox]) -> None:
    store = store_of(config)
    for name, sandbox in sandboxes.items():
        sent = sends(sandbox)
        done = [e for e in store.journal(name) if e.state.value == "done"]
        assert len(sent) == 2 and max(sent.values()) == 1, (name, sent)  # both, none twice
        assert len(done) == 2, (name, sent, done)


@pytest.mark.e2e
def test_two_daemons_share_the_tenants_each_runs_once_and_pushes_once(tmp_path: Path, store_url: str) -> None:
    with fleet(tmp_path, ["a", "b", "c"], store_url) as (config, sandboxes):
        holds = {name: parked(sb) for name, sb in sandboxes.items()}
        first = Worker(config, 1, "--concurrency", "1", "--healthz-port", "0")
        second: Worker | None = None
        try:
            assert holds["a"].arrived.wait(60)  # the first claims a (name order) and parks
            second = Worker(config, 2, "--concurrency", "1")
            assert holds["b"].arrived.wait(60)  # the second claims b: a is held
            workers = wait_for(
                lambda: (w := status_workers(config))
                and w.get(first.pid, {}).get("tenants") == ["a"]
                and w.get(second.pid, {}).get("tenants") == ["b"]
                and w
            )
            assert not any(w["stale"] for w in workers.values())
            assert workers[first.pid]["concurrency"] == 1
            port = int(wait_for(lambda: re.search(r"healthz on http://127.0.0.1:(\d+)/", first.text())).group(1))
            health = requests.get(f"http://127.0.0.1:{port}/healthz", timeout=10).json()
            assert {w["pid"] for w in health["workers"]} == {first.pid, second.pid}
            assert not holds["c"].arrived.is_set()  # both at their concurrency: c waits
            for hold in holds.values():
                hold.release()
            wait_for(lambda: cycles_done(config, *sandboxes))
            time.sleep(2.5)  # two more claiming ticks of each: nothing is due again
        finally:
            for hold in holds.values():
                hold.release()
            codes = [first.stop(), second.stop() if second else None]
        assert codes == [0, 0], first.text()[-2000:]
        for name in sandboxes:
            assert [r["outcome"] for r in runs(config, name)] == ["ok"], name
        assert_each_sent_once(config, sandboxes)
        assert status_workers(config) == {}  # a clean stop removes the worker's row
        assert "Traceback" not in first.text() + (second.text() if second else "")


@pytest.mark.e2e
def test_a_sigkilled_worker_s_tenant_is_finished_by_the_other(tmp_path: Path, store_url: str) -> None:
    with fleet(tmp_path, ["a", "b"], store_url) as (config, sandboxes):
        holds = {name: parked(sb) for name, sb in sandboxes.items()}
        victim = Worker(config, 1, "--concurrency", "1")
        survivor: Worker | None = None
        try:
            assert holds["a"].arrived.wait(60)
            survivor = Worker(config, 2, "--concurrency", "1")
            assert holds["b"].arrived.wait(60)
            victim.proc.send_signal(signal.SIGKILL)
            victim.proc.wait(30)
            workers = status_workers(config)
            assert workers[victim.pid]["stale"] is True  # a dead process on this host
            assert workers[victim.pid]["tenants"] == ["a"]
            assert workers[survivor.pid]["stale"] is False
            for hold in holds.values():
                hold.release()
            wait_for(lambda: cycles_done(config, "a", "b"))
        finally:
            for hold in holds.values():
                hold.release()
            victim.stop()
            code = survivor.stop() if survivor else None
        assert code == 0, survivor.text()[-2000:] if survivor else ""
        assert [r["outcome"] for r in runs(config, "a")] == ["interrupted", "ok"]
        assert [r["outcome"] for r in runs(config, "b")] == ["ok"]
        store = store_of(config)
        holder = store.lease_holder("a")
        assert holder is not None and holder.generation == 2
        assert_each_sent_once(config, sandboxes)


@pytest.mark.e2e
def test_a_worker_paused_past_its_lease_pushes_nothing_when_it_wakes(tmp_path: Path, store_url: str) -> None:
    with fleet(tmp_path, ["a"], store_url) as (config, sandboxes):
        sandbox = sandboxes["a"]
        first_hold = parked(sandbox)
        paused = Worker(config, 1)
        other: Worker | None = None
        second_hold = None
        try:
            assert first_hold.arrived.wait(60)
            os.kill(paused.pid, signal.SIGSTOP)
            store = store_of(config)
            old = store.lease_holder("a")
            assert old is not None and old.pid == paused.pid
            wait_for(lambda: store.shared_time() > old.expires_at + 0.1)  # it cannot renew
            second_hold = parked(sandbox)  # the next pull of a parks too
            # The paused worker's parked request keeps its place in the credential's shared
            # budget (Fiken: one request in flight per user) until it is 120 s old; the other
            # worker names the same token by another variable, so it has a budget of its own.
            text = config.read_text(encoding="utf-8").replace("_A\"", "_A_OTHER\"")
            other_config = config.with_name("other.toml")
            other_config.write_text(text, encoding="utf-8")
            other = Worker(other_config, 2)
            assert second_hold.arrived.wait(60)  # the other worker claimed a
            holder = store.lease_holder("a")
            assert holder is not None and holder.pid == other.pid
            assert holder.generation == old.generation + 1
            workers = status_workers(config)
            assert workers[paused.pid]["stale"] is True and workers[other.pid]["stale"] is False
            first_hold.release()
            os.kill(paused.pid, signal.SIGCONT)  # wakes with actions to push: refused
            wait_for(lambda: "dropped the tenant" in paused.text())
            assert sandbox.sent_invoices() == []
            assert paused.proc.poll() is None  # it carries on
            second_hold.release()
            wait_for(lambda: cycles_done(config, "a"))
        finally:
            first_hold.release()
            if second_hold is not None:
                second_hold.release()
            code = paused.stop()
            if other is not None:
                other.stop()
        text = paused.text()
        assert code == 0, text[-2000:]
        dropped = [line for line in text.splitlines() if "dropped the tenant" in line]
        assert len(dropped) == 1 and "tenant a: lease lost" in dropped[0], text[-2000:]
        assert "Traceback" not in text
        assert [r["outcome"] for r in runs(config, "a")] == ["failed", "ok"]
        assert_each_sent_once(config, sandboxes)


# -- the daemon's claiming loop, in process --------------------------------------------------------


def test_the_daemon_claims_up_to_its_concurrency_and_runs_each_on_the_claimed_lease(
    tmp_path: Path, caplog: pytest.LogCaptureFixture
, make_store: MakeStore) -> None:
    from connector.config import Config, TenantConfig
    from connector.cycle import CycleResult
    from connector.cycle.pull import SyncResult
    from connector.daemon import Daemon

    config = Config(
        tenants=[
            TenantConfig(name=n, provider="fiken", country="NO", company=n, interval_minutes=30)
            for n in ("a", "b", "c")
        ]
    )
    store = make_store(CLOCK)
    release = threading.Event()
    seen: dict[str, tuple[int | None, int]] = {}

    def run(tenant: TenantConfig, store: Store, **kwargs: Any) -> CycleResult:
        lease = kwargs["lease"]
        holder = store.lease_holder(tenant.name)
        assert holder is not None
        seen[tenant.name] = (lease.generation, holder.generation)
        release.wait(10)
        if tenant.name == "b":  # as a cycle whose fenced write was refused returns
            error = "tenant b: lease lost (generation 1 is no longer current): nothing written"
            return CycleResult(sync=SyncResult(tenant="b", ok=False, error=error), lost=True)
        return CycleResult(sync=SyncResult(tenant=tenant.name, ok=True))

    daemon = Daemon(config, store, clock=CLOCK, run=run, concurrency=2, lease_ttl=30)
    daemon.start_worker()
    try:
        assert daemon.claim() == ["a", "b"]
        assert daemon.claim() == []  # at its concurrency: c waits
        [me] = store.workers()
        assert me.tenants == ("a", "b") and me.concurrency == 2
        release.set()
        for name in ("a", "b"):
            daemon._running[name].result(timeout=10)
        assert daemon.claim() == ["c"]
        daemon._running["c"].result(timeout=10)
        assert daemon.claim() == []  # each ran once: none is due for 30 minutes
    finally:
        daemon.shutdown()
    assert seen == {"a": (1, 1), "b": (1, 1), "c": (1, 1)}
    assert next_due(store, "a") > store.shared_time() + 29 * 60
    assert store.workers() == []  # a clean stop removes the row
    code, document = daemon.health_document()
    assert document["tenants"]["b"]["last_ok"] is None  # dropped, not failed
    assert document["worker"] == store._holder and document["workers"] == []
    dropped = [r.getMessage() for r in caplog.records if "dropped the tenant" in r.getMessage()]
    assert dropped == [
        "tenant b: lease lost (generation 1 is no longer current): nothing written; "
        "dropped the tenant (another worker has it)"
    ]


def test_a_letter_is_not_sent_on_an_expired_or_lost_lease(tmp_path: Path, make_store: MakeStore) -> None:
    old, new = make_store(CLOCK), make_store(CLOCK)
    assert old.claim_due_tenants(["a"], 1, ttl=0.05) == [("a", 1)]
    old.check_lease("a")  # held and current: passes
    time.sleep(0.1)  # paused past the lease, nobody took it yet
    with pytest.raises(LeaseLost, match="lease expired"):
        old.check_lease("a")
    assert new.claim_due_tenants(["a"], 1, ttl=60) == [("a", 2)]
    with pytest.raises(LeaseLost, match="lease lost"):
        old.check_lease("a")
    new.check_lease("a")
    with pytest.raises(LeaseLost, match="held by another kravsync process"):
        make_store(CLOCK).check_lease("a")  # holding nothing, while another holds it


def test_a_running_daemon_picks_up_tenants_added_to_and_removed_from_the_store(
    tmp_path: Path, make_store: MakeStore,
) -> None:
    from connector.config import Config, TenantConfig
    from connector.daemon import Daemon

    file_config = Config(
        tenants=[TenantConfig(name="a", provider="fiken", country="NO", company="a")]
    )
    store = make_store(CLOCK)
    daemon = Daemon(file_config, store, clock=CLOCK, file_config=file_config, run=lambda *a, **k: None)
    table = {"name": "berg", "provider": "fiken", "country": "NO", "company": "berg-as"}
    store.put_tenants([("berg", "fiken", "NO", json.dumps(table))])
    daemon.reload_tenants()
    assert sorted(daemon._tenants) == ["a", "berg"] and "berg" in daemon.health
    store.put_tenants([("x", "fiken", "NO", '{"name": "x"}')])  # not a valid tenant table
    daemon.reload_tenants()
    assert sorted(daemon._tenants) == ["a", "berg"]  # a bad row: the known ones carry on
    store.remove_tenant_config("x")
    store.remove_tenant_config("berg")
    daemon.reload_tenants()
    assert sorted(daemon._tenants) == ["a"] and "berg" not in daemon.health


def test_a_silent_worker_s_request_in_flight_does_not_hold_its_credential(
    make_store: MakeStore,
) -> None:
    paused, other = make_store(CLOCK, "s"), make_store(CLOCK, "s")
    paused.register_worker(1, 0.2)
    place, _ = paused.budget_take("fiken:user", 10, 1.0, 1)
    assert place is not None  # a request in flight; Fiken allows one per user at a time
    assert other.budget_take("fiken:user", 10, 1.0, 1)[0] is None
    time.sleep(0.8)  # three heartbeats (0.2 s) missed: paused, or its host gone
    assert other.budget_take("fiken:user", 10, 1.0, 1)[0] is not None


def test_no_further_step_of_a_letter_is_taken_once_the_lease_is_gone(
    make_store: MakeStore,
) -> None:
    from connector.store.steps import StoreSteps

    old, new = make_store(CLOCK), make_store(CLOCK)
    old.ensure_tenant("a", "fiken", "NO")
    assert old.claim_due_tenants(["a"], 1, ttl=0.05) == [("a", 1)]
    steps = StoreSteps(old, "a")
    assert steps.get("fiken:1:42:reminder:1", "fee_invoice") is None  # held: the step may go
    time.sleep(0.1)  # paused in the middle of the letter, past the lease
    assert new.claim_due_tenants(["a"], 1, ttl=60) == [("a", 2)]
    with pytest.raises(LeaseLost):  # every provider asks before each step: none is taken
        steps.get("fiken:1:42:reminder:1", "send")
