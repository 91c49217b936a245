"""Many companies on PostgreSQL: one full cycle of N tenants with 1, 2 and 4 worker processes.

    python benchmarks/many_tenants.py [--tenants 1000] [--workers 1,2,4] [--concurrency 4]
        [--pg postgresql://postgres@127.0.0.1:5432/postgres] [--hosts 4] [--latency 0.15]
    python benchmarks/many_tenants.py --trial kill|stop [--trials 10] [--tenants 40]

Every tenant is a small Fiken sandbox company of its own (20 customers, 50 invoices, Fiken's
rate limits: one request in flight, 4 per second) with its own token in its own secrets file
(``file:.../secrets/t0001.secret`` ...), so each has its own shared rate budget
(``connector/budget.py`` keys on the credential). ``--latency`` makes every answer take that
long, as a real API's round trip and answer do (the sandbox itself answers in about a
millisecond): with it the cycle waits on the network as in production, without it the run is
bound by this machine's CPU. The sandboxes live in ``--hosts`` helper
processes (this script with ``--serve``; one selector loop each, on 127.0.0.1), started on this
script's clock so business dates agree; on SIGUSR1 they write their counters (requests, 429s,
what was sent) to a JSON file, on SIGTERM too and then exit.

**Throughput** (default). For each worker count: a fresh PostgreSQL database (dropped after),
``kravsync migrate``, then W ``kravsync daemon`` processes on one config listing every tenant
(``interval_minutes`` large: each tenant is cycled once). Wall time runs from the workers' start
until every tenant has a finished run in the store's ``runs`` table (ended, not interrupted);
then the workers get SIGTERM. Reported per worker count: wall time, speed-up over the first
count, runs (more than the tenants: a tenant was cycled twice), failed runs, requests and 429s
at the sandboxes, and per worker its peak RSS (VmHWM) and CPU seconds (utime+stime), read from
/proc just before the SIGTERM; also the CPU seconds of the sandbox hosts and how busy the whole
machine was (/proc/stat; other work on the host counts there too). When ``kravsync daemon
--help`` lists ``--concurrency`` the workers get it, else ``[daemon] workers`` says it.

**Trials** (``--trial kill`` / ``--trial stop``). Each trial: fresh sandboxes and a pass of
non-pushing workers on a scratch database to learn the plan (``kravsync plan --format json``);
then, on a fresh database, 2 pushing workers with ``[store] lease_seconds`` short (5 s) and
``interval_minutes = 1``. Once a random share of the tenants has finished, one worker is
SIGKILLed (``kill``) or SIGSTOPped past its lease and SIGCONTed (``stop``). The trial waits
until every tenant has an ``ok`` run and every planned action is ``done`` in the journal (a run
is ``ok`` when its pull ends, before the push), or until lease + interval + 30 s after the kill (the
wake-up); it fails when that took longer than lease TTL + one interval + the longest run. Then
it stops the workers and counts what the sandboxes received against the plan
(``crash.deliveries``): duplicate, lost and unplanned sends, duplicate fee invoices. The killed
worker is reaped only at the end: until then its pid still exists, so kravsync treats it like a
worker on another host (its leases and rate-budget places end by expiry, not at once).
"""

from __future__ import annotations

import argparse
import json
import os
import random
import selectors
import signal
import subprocess
import sys
import tempfile
import time
import uuid
from collections.abc import Callable
from contextlib import ExitStack
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, cast

sys.path.insert(0, str(Path(__file__).resolve().parent))

import concurrency  # noqa: E402
import crash  # noqa: E402
import psycopg  # noqa: E402

from connector.clock import Clock  # noqa: E402
from connector.store import open_store  # noqa: E402
from providers.fiken.sandbox import FikenSandbox  # noqa: E402

TODAY = crash.TODAY
CUSTOMERS, INVOICES = 20, 50
DEFAULT_PG = "postgresql://postgres@127.0.0.1:5432/postgres"
CLK_TCK = os.sysconf("SC_CLK_TCK")


def tenant_name(i: int) -> str:
    return f"t{i:04d}"


def secret_file(folder: Path, i: int) -> Path:
    return folder / "secrets" / f"t{i:04d}.secret"


def write_secrets(folder: Path, tenants: int) -> None:
    """A secrets file per tenant (``credentials = "file:..."``, 0600 in a 0700 folder), as a
    bureau keeps a thousand tokens; not a thousand environment variables, which every request
    would scan (requests looks for proxy settings in the environment)."""
    (folder / "secrets").mkdir(mode=0o700, exist_ok=True)
    for i in range(1, tenants + 1):
        path = secret_file(folder, i)
        path.write_text(token(i) + "\n", encoding="utf-8")
        path.chmod(0o600)


def token(i: int) -> str:
    return f"bench-token-{i:04d}"


def _write_json(path: Path, data: Any) -> None:
    tmp = path.with_suffix(".tmp")
    tmp.write_text(json.dumps(data), encoding="utf-8")
    os.replace(tmp, path)


# -- the sandbox hosts ---------------------------------------------------------------------------


def serve(first: int, count: int, urls_file: Path, stats_file: Path, latency: float = 0.0) -> int:
    """Host sandboxes ``first`` .. ``first+count-1`` until SIGTERM (``--serve``); each answer
    leaves ``latency`` seconds after its request arrived (on the request's own thread)."""
    clock = Clock.from_environment()  # the parent's clock: the sandboxes date what they serve
    sandboxes = {
        i: FikenSandbox(
            customers=CUSTOMERS,
            invoices=INVOICES,
            clock=clock,
            token=token(i),
            company=f"bench-{i:04d}",
            rate_limit=True,
        )
        for i in range(first, first + count)
    }
    selector = selectors.DefaultSelector()
    servers = []
    for sandbox in sandboxes.values():
        # One selector loop serves every sandbox of this host: a thread per sandbox polling
        # every 50 ms (FikenSandbox.start) would cost 20 000 wake-ups a second at 1 000
        # sandboxes. The server is the sandbox's own; its requests still run on threads.
        sandbox.start()
        server = sandbox._server  # noqa: SLF001 - taken over from the sandbox's own thread
        assert server is not None
        server.shutdown()  # stops serve_forever; the socket stays open
        sandbox._server = None  # noqa: SLF001 - so stop() does not wait on it again
        server.timeout = 0.0
        if latency > 0:
            server.finish_request = _delayed(server.finish_request, latency)  # type: ignore[method-assign]
        selector.register(server, selectors.EVENT_READ, server)
        servers.append(server)
    _write_json(urls_file, {str(i): sb.base_url for i, sb in sandboxes.items()})

    flags = {"dump": False, "stop": False}

    def on_signal(signum: int, _frame: Any) -> None:
        flags["dump"] = True
        flags["stop"] = flags["stop"] or signum == signal.SIGTERM

    signal.signal(signal.SIGUSR1, on_signal)
    signal.signal(signal.SIGTERM, on_signal)
    while True:
        for key, _ in selector.select(0.2):
            key.data.handle_request()
        if flags["dump"]:
            flags["dump"] = False
            _write_json(
                stats_file,
                {
                    "requests": sum(sb.stats.requests for sb in sandboxes.values()),
                    "rate_limited": sum(sb.stats.rate_limited for sb in sandboxes.values()),
                    "tenants": {
                        str(i): {
                            "sent": sb.sent_invoices(),
                            "created": sb.created_invoices(),
                        }
                        for i, sb in sandboxes.items()
                        if sb.received
                    },
                },
            )
            if flags["stop"]:
                break
    for server in servers:
        server.close_connections()
        server.server_close()
    return 0


def _delayed(handle: Callable[..., None], latency: float) -> Callable[..., None]:
    """``handle`` after ``latency`` seconds: a real API's round trip and answer time (the
    sandbox answers in about a millisecond), so a cycle waits as it would on the network."""

    def delayed(*args: Any) -> None:
        time.sleep(latency)
        handle(*args)

    return delayed


@dataclass
class Hosts:
    folder: Path
    procs: list[subprocess.Popen[bytes]] = field(default_factory=list)
    urls: dict[int, str] = field(default_factory=dict)
    dumps: int = 0

    @classmethod
    def start(
        cls, tenants: int, hosts: int, folder: Path, env: dict[str, str], latency: float = 0.0
    ) -> Hosts:
        self = cls(folder)
        per = -(-tenants // hosts)
        for h, first in enumerate(range(1, tenants + 1, per)):
            count = min(per, tenants + 1 - first)
            self.procs.append(
                subprocess.Popen(
                    [
                        sys.executable,
                        str(Path(__file__).resolve()),
                        "--serve",
                        f"{first},{count},{folder / f'urls{h}.json'},"
                        f"{folder / f'stats{h}.json'},{latency}",
                    ],
                    env=env,
                )
            )
        deadline = time.monotonic() + 120
        for h, proc in enumerate(self.procs):
            path = folder / f"urls{h}.json"
            while not path.exists():
                if proc.poll() is not None or time.monotonic() > deadline:
                    self.stop()
                    raise RuntimeError(f"sandbox host {h} did not start (exit {proc.poll()})")
                time.sleep(0.05)
            self.urls.update({int(k): v for k, v in json.loads(path.read_text()).items()})
        return self

    def stats(self, final: bool = False) -> dict[str, Any]:
        """The hosts' counters so far: requests, 429s, per tenant index what was sent."""
        paths = [self.folder / f"stats{h}.json" for h in range(len(self.procs))]
        for path, proc in zip(paths, self.procs, strict=True):
            path.unlink(missing_ok=True)
            if proc.poll() is None:
                proc.send_signal(signal.SIGTERM if final else signal.SIGUSR1)
        total: dict[str, Any] = {"requests": 0, "rate_limited": 0, "tenants": {}}
        deadline = time.monotonic() + 60
        for path in paths:
            while not path.exists() and time.monotonic() < deadline:
                time.sleep(0.05)
            data = json.loads(path.read_text())
            total["requests"] += data["requests"]
            total["rate_limited"] += data["rate_limited"]
            total["tenants"].update({int(k): v for k, v in data["tenants"].items()})
        if final:
            for proc in self.procs:
                proc.wait(30)
        return total

    def cpu(self) -> float:
        return sum(cpu_seconds(p.pid) for p in self.procs if p.poll() is None)

    def stop(self) -> None:
        for proc in self.procs:
            if proc.poll() is None:
                proc.send_signal(signal.SIGTERM)
        for proc in self.procs:
            try:
                proc.wait(30)
            except subprocess.TimeoutExpired:
                proc.kill()
                proc.wait(10)


# -- /proc ---------------------------------------------------------------------------------------


def cpu_seconds(pid: int) -> float:
    """utime + stime of a process, in seconds (0 when it is gone)."""
    try:
        fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    except OSError:
        return 0.0
    return (int(fields[11]) + int(fields[12])) / CLK_TCK


def peak_rss_mb(pid: int) -> float:
    try:
        for line in Path(f"/proc/{pid}/status").read_text().splitlines():
            if line.startswith("VmHWM:"):
                return int(line.split()[1]) / 1024
    except OSError:
        pass
    return 0.0


def machine_ticks() -> tuple[int, int]:
    """(busy, total) jiffies of the whole machine since boot."""
    values = [int(v) for v in Path("/proc/stat").read_text().splitlines()[0].split()[1:]]
    idle = values[3] + values[4]
    total = sum(values[:8])
    return total - idle, total


# -- the store -----------------------------------------------------------------------------------


class Database:
    """A fresh PostgreSQL database on the server at ``admin_url``, dropped by :meth:`drop`."""

    def __init__(self, admin_url: str) -> None:
        self.admin_url = admin_url
        self.name = f"kravsync_bench_{os.getpid()}_{uuid.uuid4().hex[:6]}"
        with psycopg.connect(admin_url, autocommit=True, connect_timeout=5) as admin:
            admin.execute(f'CREATE DATABASE "{self.name}"')
        scheme, rest = admin_url.split("://", 1)
        self.url = f"{scheme}://{rest.partition('/')[0]}/{self.name}"
        self.conn = psycopg.connect(self.url, autocommit=True)

    def finished(self, *, ok_only: bool = False) -> int:
        """Tenants with a finished run (ended and not interrupted; ``ok_only``: ended ok)."""
        condition = "outcome = 'ok'" if ok_only else "outcome NOT IN ('running', 'interrupted')"
        try:
            row = self.conn.execute(
                f"SELECT COUNT(DISTINCT tenant) FROM runs WHERE ended_at IS NOT NULL AND {condition}"
            ).fetchone()
        except psycopg.errors.UndefinedTable:
            return 0
        return int(row[0]) if row else 0

    def actions_done(self) -> int:
        """Journal entries (actions) in state ``done``."""
        try:
            row = self.conn.execute("SELECT COUNT(*) FROM actions WHERE state = 'done'").fetchone()
        except psycopg.errors.UndefinedTable:
            return 0
        return int(row[0]) if row else 0

    def runs(self) -> list[tuple[str, str, str | None, str, str | None]]:
        return [
            (str(r[0]), str(r[1]), r[2], str(r[3]), r[4])
            for r in self.conn.execute(
                "SELECT tenant, outcome, error, started_at, ended_at FROM runs ORDER BY id"
            ).fetchall()
        ]

    def drop(self) -> None:
        self.conn.close()
        with psycopg.connect(self.admin_url, autocommit=True) as admin:
            admin.execute(f'DROP DATABASE IF EXISTS "{self.name}" WITH (FORCE)')


def write_config(
    folder: Path,
    urls: dict[int, str],
    store_url: str,
    *,
    concurrency: int,
    push: bool = False,
    interval_minutes: int = 24 * 60,
    lease_seconds: float | None = None,
) -> Path:
    lease = f"lease_seconds = {lease_seconds}\n" if lease_seconds else ""
    lines = [f'[store]\nurl = "{store_url}"\n{lease}\n[daemon]\nworkers = {concurrency}\n']
    for i, url in sorted(urls.items()):
        lines.append(
            f"""[[tenants]]
name = "{tenant_name(i)}"
provider = "fiken"
country = "NO"
company = "bench-{i:04d}"
base_url = "{url}"
credentials = "file:{secret_file(folder, i)}"
interval_minutes = {interval_minutes}
push = {"true" if push else "false"}
[tenants.validation]
postcode_register_source = "fixture"
"""
        )
    path = folder / "kravsync.toml"
    path.write_text("\n".join(lines), encoding="utf-8")
    return path


def kravsync(config: Path, *args: str) -> list[str]:
    return [sys.executable, "-m", "connector.cli", "--config", str(config), *args]


def daemon_has_concurrency() -> bool:
    out = subprocess.run(
        [sys.executable, "-m", "connector.cli", "daemon", "--help"],
        capture_output=True,
        text=True,
        timeout=60,
    )
    return "--concurrency" in out.stdout


# -- one cycle of every tenant -------------------------------------------------------------------


@dataclass
class Cycle:
    workers: int
    seconds: float = 0.0
    finished: int = 0
    runs: int = 0
    failed: list[str] = field(default_factory=list)
    rss_mb: list[float] = field(default_factory=list)
    cpu: list[float] = field(default_factory=list)
    host_cpu: float = 0.0
    machine_busy: float = 0.0
    requests: int = 0
    rate_limited: int = 0
    exits: list[int | None] = field(default_factory=list)
    timed_out: bool = False
    after_stop: int = 0  # runs begun after the SIGTERM (the daemons' queued cycles)
    done_at: float = 0.0  # monotonic: when the last tenant finished
    longest_run: float = 0.0


Hook = Callable[[int, float, list[subprocess.Popen[bytes]]], None]


def cycle_all(
    config: Path,
    db: Database,
    tenants: int,
    workers: int,
    *,
    env: dict[str, str],
    clock: Clock,
    concurrency_flag: int | None,
    timeout: float,
    logs: Path,
    hosts: Hosts | None = None,
    hook: Hook | None = None,
    ok_only: bool = False,
    complete: Callable[[], bool] | None = None,
    linger: Callable[[], bool] | None = None,
) -> Cycle:
    """Start ``workers`` daemons; wait until every tenant has a finished run; stop them.

    ``hook(finished, elapsed, procs)`` is called on every poll (the trials' kill/stop);
    ``complete()``, when given, must also hold before the cycle counts as done;
    ``linger()`` keeps the workers running after that while it is True."""
    cycle = Cycle(workers)
    extra = ["--concurrency", str(concurrency_flag)] if concurrency_flag else []
    procs: list[subprocess.Popen[bytes]] = []
    with ExitStack() as stack:
        before_hosts = hosts.stats() if hosts else None
        hosts_cpu = hosts.cpu() if hosts else 0.0
        busy0, total0 = machine_ticks()
        began = time.monotonic()
        for w in range(workers):
            log = stack.enter_context((logs / f"worker{w}.log").open("ab"))
            procs.append(
                subprocess.Popen(
                    kravsync(config, "daemon", *extra),
                    env={**env, **clock.environment()},
                    stdout=log,
                    stderr=subprocess.STDOUT,
                )
            )
        stack.callback(_reap, procs)  # on an exception too: no daemon outlives the benchmark
        deadline = began + timeout
        while True:
            cycle.finished = db.finished(ok_only=ok_only)
            elapsed = time.monotonic() - began
            if hook is not None:
                hook(cycle.finished, elapsed, procs)
            if cycle.finished >= tenants and (complete is None or complete()):
                if not cycle.done_at:
                    cycle.seconds, cycle.done_at = elapsed, time.monotonic()
                if linger is None or not linger():
                    break
            if time.monotonic() > deadline:
                cycle.timed_out, cycle.seconds = True, elapsed
                break
            if all(p.poll() is not None for p in procs):
                cycle.seconds = elapsed
                break
            time.sleep(0.2)
        cycle.rss_mb = [peak_rss_mb(p.pid) for p in procs]
        cycle.cpu = [cpu_seconds(p.pid) for p in procs]
        busy1, total1 = machine_ticks()
        cycle.machine_busy = (busy1 - busy0) / max(1, total1 - total0)
        if hosts:
            cycle.host_cpu = hosts.cpu() - hosts_cpu
        # what the cycle did, before the SIGTERM: a stopping daemon may still start the cycles
        # it had queued (they fail at once: "stopped before the pull finished")
        runs = db.runs()
        if hosts and before_hosts:
            after = hosts.stats()
            cycle.requests = after["requests"] - before_hosts["requests"]
            cycle.rate_limited = after["rate_limited"] - before_hosts["rate_limited"]
        for proc in procs:
            if proc.poll() is None:
                proc.send_signal(signal.SIGCONT)  # a stopped worker cannot act on SIGTERM
                proc.send_signal(signal.SIGTERM)
        for proc in procs:
            try:
                cycle.exits.append(proc.wait(120))
            except subprocess.TimeoutExpired:
                proc.kill()
                cycle.exits.append(proc.wait(10))
        if hosts and before_hosts:
            cycle.rate_limited = hosts.stats()["rate_limited"] - before_hosts["rate_limited"]
    cycle.after_stop = len(db.runs()) - len(runs)
    cycle.runs = sum(1 for r in runs if r[1] != "interrupted")
    cycle.failed = [f"{t}: {o}: {e}" for t, o, e, _s, _e in runs if o != "ok"]
    cycle.longest_run = max(
        (_seconds(ended) - _seconds(started) for _t, _o, _e, started, ended in runs if ended),
        default=0.0,
    )
    return cycle


def _reap(procs: list[subprocess.Popen[bytes]]) -> None:
    for proc in procs:
        if proc.poll() is None:
            proc.send_signal(signal.SIGCONT)
            proc.kill()
            proc.wait(10)


def _seconds(stamp: str) -> float:
    from datetime import datetime

    return datetime.fromisoformat(stamp).timestamp()


def migrate(config: Path, env: dict[str, str]) -> None:
    out = subprocess.run(
        kravsync(config, "migrate"), env=env, capture_output=True, text=True, timeout=300
    )
    if out.returncode != 0:
        raise RuntimeError(f"kravsync migrate exited {out.returncode}: {out.stderr[-500:]}")


# -- throughput ----------------------------------------------------------------------------------


def throughput(args: argparse.Namespace, folder: Path) -> int:
    clock = Clock.starting_at(TODAY)
    env = {**os.environ, **clock.environment()}
    write_secrets(folder, args.tenants)
    flag = args.concurrency if daemon_has_concurrency() else None
    print(
        f"{args.tenants} tenants ({CUSTOMERS} customers, {INVOICES} invoices each) on "
        f"{min(args.hosts, args.tenants)} sandbox hosts; workers {args.workers}, concurrency "
        f"{args.concurrency} per worker "
        f"({'--concurrency' if flag else '[daemon] workers: no --concurrency in this daemon'}); "
        f"each answer {args.latency * 1000:.0f} ms (--latency)",
        flush=True,
    )
    results: list[Cycle] = []
    began = time.monotonic()
    hosts = Hosts.start(args.tenants, min(args.hosts, args.tenants), folder, env, args.latency)
    print(f"sandboxes up in {time.monotonic() - began:.1f} s", flush=True)
    try:
        for workers in args.workers:
            db = Database(args.pg)
            try:
                config = write_config(folder, hosts.urls, db.url, concurrency=args.concurrency)
                migrate(config, {**env, **clock.environment()})
                logs = folder / f"w{workers}"
                logs.mkdir()
                cycle = cycle_all(
                    config,
                    db,
                    args.tenants,
                    workers,
                    env=env,
                    clock=clock,
                    concurrency_flag=flag,
                    timeout=args.timeout,
                    logs=logs,
                    hosts=hosts,
                )
            finally:
                db.drop()
            results.append(cycle)
            print(
                f"{workers} worker(s): {cycle.finished}/{args.tenants} tenants in "
                f"{cycle.seconds:.1f} s{' (TIMED OUT)' if cycle.timed_out else ''}; "
                f"{cycle.runs} runs, {len(cycle.failed)} not ok; {cycle.requests} requests, "
                f"{cycle.rate_limited} 429s (all, shutdown included); exits {cycle.exits}; "
                f"{cycle.after_stop} runs begun after the SIGTERM (not counted)",
                flush=True,
            )
            for line in cycle.failed[:5]:
                print(f"  {line}")
    finally:
        hosts.stop()
    print_table(args, results)
    bad = any(
        c.timed_out or c.failed or c.rate_limited or c.finished < args.tenants for c in results
    )
    return 1 if bad else 0


def print_table(args: argparse.Namespace, results: list[Cycle]) -> None:
    if not results:
        return
    base = results[0]
    head = (
        f"{'workers':>7} {'seconds':>8} {'speed-up':>8} {'runs':>6} {'not ok':>6} "
        f"{'requests':>8} {'429s':>5} {'peak RSS MB per worker':>24} "
        f"{'CPU s per worker':>20} {'worker cores':>12} {'hosts CPU s':>11} "
        f"{'machine busy':>12}"
    )
    print()
    print(head)
    print("-" * len(head))
    for c in results:
        speed = base.seconds / c.seconds if c.seconds else 0.0
        rss = " ".join(f"{x:.0f}" for x in c.rss_mb)
        cpu = " ".join(f"{x:.0f}" for x in c.cpu)
        print(
            f"{c.workers:>7} {c.seconds:>8.1f} {speed:>7.2f}x {c.runs:>6} {len(c.failed):>6} "
            f"{c.requests:>8} {c.rate_limited:>5} {rss:>24} {cpu:>20} "
            f"{sum(c.cpu) / max(c.seconds, 1e-9):>12.2f} {c.host_cpu:>11.0f} "
            f"{c.machine_busy:>11.0%}"
        )
    print(
        f"\nspeed-up: against {base.workers} worker(s) (targets: >= 1.8x at 2, >= 3x at 4); "
        f"{os.cpu_count()} CPUs; 'machine busy' counts every process on the host "
        "(sandboxes, PostgreSQL, other work) over the cycle; 'worker cores': the workers' CPU "
        "seconds over the wall time; 'runs' more than the tenants: tenants cycled twice"
    )


# -- trials --------------------------------------------------------------------------------------


class _Sent:
    """What one sandbox received, in the shape ``crash.deliveries`` reads."""

    def __init__(self, data: dict[str, Any]) -> None:
        self.data = data
        self.messages: list[Any] = []

    def sent_invoices(self) -> list[dict[str, Any]]:
        return list(self.data.get("sent", []))

    def created_invoices(self) -> list[dict[str, Any]]:
        return list(self.data.get("created", []))

    def received(self, *_args: Any) -> list[Any]:
        return []


@dataclass
class TrialResult:
    planned: int = 0
    delivered: int = 0
    duplicates: int = 0
    duplicate_fees: int = 0
    lost: int = 0
    unplanned: int = 0
    event: str = ""
    recovered: float | None = None
    bound: float = 0.0
    problems: list[str] = field(default_factory=list)

    @property
    def ok(self) -> bool:
        return not (self.duplicates or self.duplicate_fees or self.lost or self.problems)


def plan_json(config: Path, env: dict[str, str]) -> list[dict[str, Any]]:
    out = subprocess.run(
        kravsync(config, "plan", "--format", "json", "--today", TODAY.isoformat()),
        env=env,
        check=True,
        capture_output=True,
        text=True,
        timeout=300,
    )
    return list(json.loads(out.stdout)["actions"])


def run_trial(
    args: argparse.Namespace, rng: random.Random, folder: Path, flag: int | None
) -> TrialResult:
    result = TrialResult()
    clock = Clock.starting_at(TODAY)
    env = dict(os.environ)
    write_secrets(folder, args.tenants)
    hosts = Hosts.start(
        args.tenants, min(args.hosts, args.tenants), folder, {**env, **clock.environment()}
    )
    try:
        # the plan: a non-pushing pass on a scratch database
        scratch = Database(args.pg)
        try:
            config = write_config(folder, hosts.urls, scratch.url, concurrency=args.concurrency)
            migrate(config, {**env, **clock.environment()})
            (folder / "plan").mkdir()
            warm = cycle_all(
                config,
                scratch,
                args.tenants,
                2,
                env=env,
                clock=clock,
                concurrency_flag=flag,
                timeout=args.timeout,
                logs=folder / "plan",
            )
            if warm.finished < args.tenants:
                result.problems.append(f"planning pass: {warm.finished}/{args.tenants} tenants")
            plan = plan_json(config, {**env, **clock.environment()})
        finally:
            scratch.drop()
        result.planned = len(plan)
        db = Database(args.pg)
        try:
            config = write_config(
                folder,
                hosts.urls,
                db.url,
                concurrency=args.concurrency,
                push=True,
                interval_minutes=1,
                lease_seconds=args.lease_seconds,
            )
            migrate(config, {**env, **clock.environment()})
            (folder / "push").mkdir()
            target = rng.randint(max(1, args.tenants // 5), max(1, args.tenants // 2))
            victim = rng.randrange(2)
            state: dict[str, float] = {}

            def hook(finished: int, elapsed: float, procs: list[subprocess.Popen[bytes]]) -> None:
                if "at" in state or finished < target:
                    return
                proc = procs[victim]
                if args.trial == "kill":
                    proc.send_signal(signal.SIGKILL)
                    state["at"] = time.monotonic()
                else:
                    proc.send_signal(signal.SIGSTOP)
                    time.sleep(args.lease_seconds * 1.5 + 1)
                    proc.send_signal(signal.SIGCONT)
                    state["at"] = time.monotonic()  # its leases are long gone: it wakes now
                result.event = (
                    f"worker {victim} {args.trial} at {finished} finished, {elapsed:.1f} s"
                )

            give_up = args.lease_seconds + 60 + 30  # lease + interval + a generous cycle

            def complete() -> bool:
                # every planned action done in the journal (a run's "ok" is its pull only);
                # or, once the kill/stop happened, the time for a retry has run out
                if db.actions_done() >= len(plan):
                    return True
                return "at" in state and time.monotonic() - state["at"] > give_up

            def linger() -> bool:
                # a woken worker gets a few seconds to show it pushes nothing more
                return "at" not in state or time.monotonic() - state["at"] < 3.0

            cycle = cycle_all(
                config,
                db,
                args.tenants,
                2,
                env=env,
                clock=clock,
                concurrency_flag=flag,
                timeout=args.timeout,
                logs=folder / "push",
                hook=hook,
                ok_only=True,
                complete=complete,
                linger=linger,
            )
            result.bound = args.lease_seconds + 60 + cycle.longest_run
            if "at" in state and cycle.done_at:
                result.recovered = max(0.0, cycle.done_at - state["at"])
                if result.recovered > result.bound:
                    result.problems.append(
                        f"planned actions all done only {result.recovered:.1f} s after the {args.trial}, "
                        f"past lease + interval + longest cycle ({result.bound:.1f} s)"
                    )
            if cycle.finished < args.tenants:
                result.problems.append(
                    f"{cycle.finished}/{args.tenants} tenants with an ok run "
                    f"({'timed out' if cycle.timed_out else 'workers gone'})"
                )
            if not result.event:
                result.event = f"none: all done before {target} finished"
            store = open_store(db.url, clock)
            try:
                journal = {
                    e.action.legacy_key: e.state.value
                    for i in range(1, args.tenants + 1)
                    for e in store.journal(tenant_name(i))
                }
            finally:
                store.close()
        finally:
            db.drop()
        received = hosts.stats(final=True)
    finally:
        hosts.stop()
    for i in range(1, args.tenants + 1):
        name = tenant_name(i)
        ours = [a for a in plan if a["tenant"] == name]
        keys = {str(a["invoice_id"]): f"{name}:{a['invoice_id']}:{a['stage']}:1" for a in ours}
        sent = _Sent(received["tenants"].get(i, {}))
        nothing = cast(Any, _Sent({}))
        counts = crash.deliveries(cast(Any, sent), nothing, nothing, keys)
        result.delivered += sum(counts.values())
        result.duplicates += sum(n - 1 for n in counts.values() if n > 1)
        result.unplanned += sum(n for k, n in counts.items() if k.endswith(":unplanned"))
        result.duplicate_fees += concurrency.fee_duplicates(cast(Any, sent))
        for action in ours:
            key = keys[str(action["invoice_id"])]
            if action["stage"] != "handover" and counts[key] < 1:
                result.lost += 1
                result.problems.append(
                    f"{key}: not delivered ({journal.get(key, 'not journalled')})"
                )
    return result


def trials(args: argparse.Namespace, folder: Path) -> int:
    rng = random.Random(args.seed)
    flag = args.concurrency if daemon_has_concurrency() else None
    print(
        f"--trial {args.trial}: {args.trials} trials, {args.tenants} pushing tenants, 2 workers, "
        f"lease {args.lease_seconds:g} s, interval 1 min",
        flush=True,
    )
    totals = TrialResult()
    clean = 0
    for n in range(1, args.trials + 1):
        sub = folder / f"trial{n}"
        sub.mkdir()
        began = time.monotonic()
        r = run_trial(args, rng, sub, flag)
        clean += r.ok
        for name in ("planned", "delivered", "duplicates", "duplicate_fees", "lost", "unplanned"):
            setattr(totals, name, getattr(totals, name) + getattr(r, name))
        status = "ok" if r.ok else "FAILED: " + "; ".join(r.problems[:4])
        recovered = (
            f"every tenant pulled and every planned action done {r.recovered:.1f} s after "
            f"(bound {r.bound:.0f} s)"
            if r.recovered is not None
            else "no recovery measured"
        )
        print(
            f"trial {n:2d} ({time.monotonic() - began:.0f} s): {r.event}; {recovered}; "
            f"{r.planned} planned, {r.delivered} sends, "
            f"{r.duplicates} duplicate, {r.lost} lost, {r.unplanned} unplanned sends; {status}",
            flush=True,
        )
    print(
        f"--trial {args.trial}: {clean} of {args.trials} trials clean; {totals.planned} planned "
        f"actions, {totals.delivered} sends, {totals.duplicates} duplicates, {totals.duplicate_fees} duplicate fee "
        f"invoices, {totals.lost} lost, {totals.unplanned} unplanned sends"
    )
    return 0 if clean == args.trials else 1


# -- main ----------------------------------------------------------------------------------------


def _counts(value: str) -> list[int]:
    return [int(v) for v in value.split(",") if v.strip()]


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--tenants", type=int)
    parser.add_argument("--workers", type=_counts, default=[1, 2, 4])
    parser.add_argument("--concurrency", type=int, default=4, help="tenants at a time per worker")
    parser.add_argument("--pg", default=DEFAULT_PG, help="a PostgreSQL server (admin URL)")
    parser.add_argument("--hosts", type=int, default=4, help="sandbox host processes")
    parser.add_argument("--timeout", type=float, default=3600.0, help="seconds per cycle")
    parser.add_argument(
        "--latency",
        type=float,
        default=0.0,
        help="seconds each sandbox answer takes (a real API's round trip; default 0)",
    )
    parser.add_argument("--trial", choices=("kill", "stop"))
    parser.add_argument("--trials", type=int, default=10)
    parser.add_argument("--lease-seconds", type=float, default=5.0)
    parser.add_argument("--seed", type=int, default=1)
    parser.add_argument("--keep", type=Path, help="work in this folder and keep it (worker logs)")
    parser.add_argument("--serve", help=argparse.SUPPRESS)
    args = parser.parse_args(argv)
    if args.serve:
        first, count, urls, stats, latency = args.serve.split(",", 4)
        return serve(int(first), int(count), Path(urls), Path(stats), float(latency))
    if args.tenants is None:
        args.tenants = 40 if args.trial else 1000
    if args.keep:
        args.keep.mkdir(parents=True)
        return trials(args, args.keep) if args.trial else throughput(args, args.keep)
    with tempfile.TemporaryDirectory(prefix="kravsync-many-") as folder:
        if args.trial:
            return trials(args, Path(folder))
        return throughput(args, Path(folder))


if __name__ == "__main__":
    sys.exit(main())
