"""Several kravsync processes on one store, with random SIGKILLs: still exactly once.

    python benchmarks/concurrency.py [--trials 20] [--seed 1] [--scenario NAME]... [--rate-trials 20]

Scenarios (each trial: fresh sandboxes, store and SMTP server, as in ``benchmarks/crash.py``):

- ``daemon+sync``: ``kravsync daemon`` and ``kravsync sync --wait`` started together;
- ``two-syncs``: two ``kravsync sync --wait`` started together;
- ``two-daemons``: two daemons on one store.

In each trial one of the two processes, chosen at random, is SIGKILLed at a random moment (the
other is left to finish; daemons get SIGTERM once their first cycles are over), then a last
``kravsync sync`` finishes. Counted over all trials: actions delivered more than once, fee
invoices created more than once (Fiken), "database is locked" in any process's output, and
deliverable actions not delivered (lost). ``rate``: two processes on two Fortnox tenants that
share one credential, against a rate-limited sandbox, counting its 429s.
"""

from __future__ import annotations

import argparse
import json
import os
import random
import re
import signal
import subprocess
import sys
import tempfile
import time
from collections import Counter
from contextlib import ExitStack
from dataclasses import dataclass, field
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))

import crash  # noqa: E402

from connector.clock import Clock  # noqa: E402
from connector.store import SqliteStore  # noqa: E402
from providers.fiken.sandbox import FikenSandbox  # noqa: E402
from providers.fortnox.sandbox import FortnoxSandbox  # noqa: E402

SCENARIOS = ("daemon+sync", "two-syncs", "two-daemons")
TODAY = crash.TODAY
MARKER = re.compile(r"\[kravsync:[^\]]+\]")
LOCKED = "database is locked"


@dataclass
class Outcome:
    duplicate_sends: int = 0
    duplicate_fees: int = 0
    locked: int = 0
    lost: int = 0
    killed: str = ""
    problems: list[str] = field(default_factory=list)

    @property
    def ok(self) -> bool:
        return not (self.duplicate_sends or self.duplicate_fees or self.locked or self.lost)


def _command(config: Path, scenario_part: str) -> list[str]:
    base = [sys.executable, "-m", "connector.cli", "--config", str(config)]
    if scenario_part == "daemon":
        return [*base, "daemon"]
    return [*base, "sync", "--wait", "120", "--today", TODAY.isoformat()]


def _parts(scenario: str) -> tuple[str, str]:
    return {
        "daemon+sync": ("daemon", "sync"),
        "two-syncs": ("sync", "sync"),
        "two-daemons": ("daemon", "daemon"),
    }[scenario]


def _cycles_done(store_path: Path, clock: Clock, tenants: int, since: int) -> bool:
    """Whether ``tenants`` runs newer than ``since`` have ended (the daemons' first cycles)."""
    if not store_path.exists():
        return False
    store = SqliteStore(str(store_path), clock)
    try:
        rows = store.execute(
            "SELECT COUNT(*) FROM runs WHERE id > ? AND outcome != 'running'", (since,)
        )
        return int(rows[0][0]) >= tenants
    finally:
        store.close()


def fee_duplicates(fiken: FikenSandbox) -> int:
    markers: Counter[str] = Counter()
    for body in fiken.created_invoices():
        for marker in set(MARKER.findall(json.dumps(body, ensure_ascii=False))):
            markers[marker] += 1
    return sum(n - 1 for n in markers.values() if n > 1)


def run_trial(
    scenario: str, rng: random.Random, workdir: Path, refused: frozenset[str], span: float
) -> Outcome:
    outcome = Outcome()
    with ExitStack() as stack:
        clock = Clock.starting_at(TODAY)
        fiken = stack.enter_context(
            FikenSandbox(clock=clock, token="crash-fiken", rate_limit=False)
        )
        fortnox = stack.enter_context(FortnoxSandbox(clock=clock, rate_limit=False))
        smtp = crash.SmtpSink()
        port = smtp.start()
        stack.callback(smtp.stop)
        config = crash.write_config(workdir, fiken, fortnox, port)
        text = config.read_text(encoding="utf-8")
        config.write_text(
            text.replace(
                'url = "sqlite:///state.db"', 'url = "sqlite:///state.db"\nlease_seconds = 3'
            ),
            encoding="utf-8",
        )
        env = {
            **os.environ,
            "CRASH_FIKEN": "crash-fiken",
            "CRASH_FORTNOX": fortnox.demo_secret(),
            **clock.environment(),
        }
        plan = crash.planned_actions(config, env, clock)
        store_path = workdir / "state.db"
        logs: list[Path] = []
        procs: list[subprocess.Popen[bytes]] = []
        for n, part in enumerate(_parts(scenario)):
            log = workdir / f"proc{n}.log"
            logs.append(log)
            handle = stack.enter_context(log.open("wb"))
            procs.append(
                subprocess.Popen(
                    _command(config, part), env=env, stdout=handle, stderr=subprocess.STDOUT
                )
            )
        victim = rng.randrange(2)
        delay = rng.uniform(0.3, span * 1.5)
        deadline = time.monotonic() + delay
        while procs[victim].poll() is None and time.monotonic() < deadline:
            time.sleep(0.005)
        if procs[victim].poll() is None:
            procs[victim].send_signal(signal.SIGKILL)
            outcome.killed = f"{_parts(scenario)[victim]} #{victim} at {delay:.2f}s"
        # The survivor: a sync finishes by itself; a daemon is stopped after its first cycles.
        survivor = procs[1 - victim]
        give_up = time.monotonic() + 240
        while survivor.poll() is None and time.monotonic() < give_up:
            if _parts(scenario)[1 - victim] == "daemon" and _cycles_done(store_path, clock, 2, 0):
                survivor.send_signal(signal.SIGTERM)
                break
            time.sleep(0.2)
        for proc in procs:
            try:
                proc.wait(120)
            except subprocess.TimeoutExpired:
                proc.kill()
                proc.wait(10)
        final = subprocess.run(
            [*_command(config, "sync")],
            env=env,
            capture_output=True,
            text=True,
            timeout=300,
        )
        output = final.stdout + final.stderr
        output += "".join(log.read_text(encoding="utf-8", errors="replace") for log in logs)
        outcome.locked = output.count(LOCKED)
        # exit 3: failed actions, which the ones refused in every run (``refused``) are
        if final.returncode not in ((0, 3) if refused else (0,)):
            outcome.problems.append(f"final sync exited {final.returncode}: {final.stderr[-300:]}")
        store = SqliteStore(str(store_path), clock)
        # by tenant name, invoice, stage and sequence (the journal's keys are on the account)
        journal = {e.action.legacy_key: e for t in ("fjord", "skog") for e in store.journal(t)}
        fiken_keys = {
            a["invoice_id"]: f"fjord:{a['invoice_id']}:{a['stage']}:1"
            for a in plan
            if a["tenant"] == "fjord"
        }
        counts = crash.deliveries(fiken, fortnox, smtp, fiken_keys)
        outcome.duplicate_sends = sum(n - 1 for n in counts.values() if n > 1)
        outcome.duplicate_fees = fee_duplicates(fiken)
        for action in plan:
            key = f"{action['tenant']}:{action['invoice_id']}:{action['stage']}:1"
            if key in refused or action["stage"] == "handover":
                continue
            entry = journal.get(key)
            if counts[key] < 1 or entry is None or entry.state.value != "done":
                outcome.lost += 1
                outcome.problems.append(
                    f"{key}: delivered {counts[key]}x, {entry.state.value if entry else 'not journalled'}"
                )
    return outcome


# -- two processes, one rate-limited credential ------------------------------------------------


def rate_config(folder: Path, fortnox: FortnoxSandbox, per_window: int, window: float) -> Path:
    settings = fortnox.tenant_settings()
    tenants = "".join(
        f"""
[[tenants]]
{crash.fortnox_tenant_toml(name, settings, "env:RATE_FORTNOX")}
requests_per_window = {per_window}
window_seconds = {window}
"""
        for name in ("skog-a", "skog-b")
    )
    path = folder / "kravsync.toml"
    path.write_text(f'[store]\nurl = "sqlite:///state.db"\n{tenants}', encoding="utf-8")
    return path


def rate_trial(
    workdir: Path, per_window: int = 10, window: float = 2.0
) -> tuple[int, int, list[int]]:
    """Two ``sync --full --dry-run`` processes on two tenants of one Fortnox credential against a
    sandbox allowing ``per_window`` requests per ``window`` s: (429s, requests, exit codes)."""
    clock = Clock.starting_at(TODAY)
    with FortnoxSandbox(clock=clock, max_requests=per_window, window_seconds=window) as fortnox:
        config = rate_config(workdir, fortnox, per_window, window)
        env = {**os.environ, "RATE_FORTNOX": fortnox.demo_secret(), **clock.environment()}
        procs = [
            subprocess.Popen(
                [
                    sys.executable,
                    "-m",
                    "connector.cli",
                    "--config",
                    str(config),
                    "sync",
                    "--dry-run",
                    "--full",
                    "--tenant",
                    name,
                    "--today",
                    TODAY.isoformat(),
                ],
                env=env,
                stdout=subprocess.DEVNULL,
                stderr=subprocess.DEVNULL,
            )
            for name in ("skog-a", "skog-b")
        ]
        codes = [p.wait(600) for p in procs]
        return fortnox.stats.rate_limited, fortnox.stats.requests, codes


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--trials", type=int, default=20)
    parser.add_argument("--seed", type=int, default=1)
    parser.add_argument("--scenario", action="append", choices=SCENARIOS)
    parser.add_argument("--rate-trials", type=int, default=20)
    args = parser.parse_args(argv)
    rng = random.Random(args.seed)
    started = time.monotonic()
    refused, span, _ = crash.baseline()
    print(
        f"baseline: a pushing sync takes {span:.1f} s; refused by the provider: {sorted(refused)}"
    )
    bad = 0
    for scenario in args.scenario or SCENARIOS:
        totals = Outcome()
        failed = 0
        for n in range(1, args.trials + 1):
            with tempfile.TemporaryDirectory(prefix="kravsync-conc-") as folder:
                o = run_trial(scenario, rng, Path(folder), refused, span)
            for name in ("duplicate_sends", "duplicate_fees", "locked", "lost"):
                setattr(totals, name, getattr(totals, name) + getattr(o, name))
            failed += not o.ok
            status = "ok" if o.ok else "FAILED: " + "; ".join(o.problems[:4])
            print(
                f"{scenario} trial {n:2d}: killed {o.killed or 'none (done first)'}: {status}",
                flush=True,
            )
        bad += failed
        print(
            f"{scenario}: {args.trials - failed} of {args.trials} trials clean; "
            f"{totals.duplicate_sends} duplicate sends, {totals.duplicate_fees} duplicate fee "
            f"invoices, {totals.locked} 'database is locked', {totals.lost} lost deliverable actions",
            flush=True,
        )
    if args.rate_trials:
        limited = requests = 0
        for n in range(1, args.rate_trials + 1):
            with tempfile.TemporaryDirectory(prefix="kravsync-rate-") as folder:
                got, made, codes = rate_trial(Path(folder))
            limited += got
            requests += made
            print(f"rate trial {n:2d}: {made} requests, {got} 429s, exits {codes}", flush=True)
        bad += limited > 0
        print(f"rate: two processes on one credential: {requests} requests, {limited} 429s")
    print(f"done in {time.monotonic() - started:.0f} s")
    return 1 if bad else 0


if __name__ == "__main__":
    sys.exit(main())
