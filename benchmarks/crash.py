"""Crash safety, proven: SIGKILL `kravsync sync` at random points of a push cycle, then finish.

    python benchmarks/crash.py [--trials 50] [--seed 1] [--kills 2]

Each trial starts fresh sandboxes (Fiken; Fortnox with Fortnox Finans and a local SMTP server for
the invoices Finans does not take) and a fresh store, asks `kravsync plan` what should be sent,
then runs `kravsync sync` with pushing on and kills it with SIGKILL, up to ``--kills`` times (at
a random moment, or right as the sandboxes receive a random push request), before a last run
that is left to finish. It then counts what the sandboxes
received: every planned action must have been delivered exactly once (no duplicates, none lost)
and be ``done`` in the journal. Exit status 1 when any trial fails.
"""

from __future__ import annotations

import argparse
import email
import json
import os
import random
import signal
import socket
import subprocess
import sys
import tempfile
import time
from collections import Counter
from contextlib import ExitStack
from dataclasses import dataclass, field
from datetime import date
from pathlib import Path
from typing import Any

from connector.clock import Clock
from connector.store import open_store
from providers.fiken.sandbox import FikenSandbox
from providers.fortnox.sandbox import FortnoxSandbox

TODAY = date(2026, 11, 23)


@dataclass
class Trial:
    kills: list[str] = field(default_factory=list)
    planned: int = 0
    problems: list[str] = field(default_factory=list)
    runs: int = 0
    outcomes: dict[str, str] = field(default_factory=dict)
    last_run_seconds: float = 0.0
    push_requests: int = 0

    @property
    def ok(self) -> bool:
        return not self.problems


class SmtpSink:
    """A local SMTP server that keeps every message (aiosmtpd, from the test extra)."""

    def __init__(self) -> None:
        from aiosmtpd.controller import Controller

        self.messages: list[Any] = []
        sink = self

        class Handler:
            async def handle_DATA(self, server: Any, session: Any, envelope: Any) -> str:  # noqa: N802
                sink.messages.append(envelope)
                return "250 OK"

        with socket.socket() as probe:
            probe.bind(("127.0.0.1", 0))
            self.port = int(probe.getsockname()[1])
        self.controller = Controller(Handler(), hostname="127.0.0.1", port=self.port)

    def start(self) -> int:
        self.controller.start()
        return self.port

    def stop(self) -> None:
        self.controller.stop()

    def message_ids(self) -> list[str]:
        ids = []
        for envelope in self.messages:
            for line in envelope.content.decode("utf-8", "replace").splitlines():
                if line.lower().startswith("message-id:"):
                    ids.append(line.split(":", 1)[1].strip())
        return ids


def fortnox_tenant_toml(name: str, settings: dict[str, str], credentials: str) -> str:
    """A Fortnox sandbox tenant's lines of a ``[[tenants]]`` table (shared with concurrency.py)."""
    return "\n".join(
        (
            f'name = "{name}"',
            'provider = "fortnox"',
            'country = "SE"',
            *(
                f'{key} = "{settings[key]}"'
                for key in ("base_url", "token_url", "tenant_id", "client_id")
            ),
            f'credentials = "{credentials}"',
        )
    )


def write_config(
    folder: Path,
    fiken: FikenSandbox,
    fortnox: FortnoxSandbox,
    smtp_port: int,
    store_url: str = "sqlite:///state.db",
) -> Path:
    settings = fortnox.tenant_settings()
    path = folder / "kravsync.toml"
    path.write_text(
        f"""
[store]
url = "{store_url}"

[[tenants]]
name = "fjord"
provider = "fiken"
country = "NO"
company = "{fiken.company}"
base_url = "{fiken.base_url}"
credentials = "env:CRASH_FIKEN"
push = true
requests_per_window = 200   # the sandboxes run without rate limits here: trials stay short
[tenants.validation]
postcode_register_source = "fixture"

[[tenants]]
{fortnox_tenant_toml("skog", settings, "env:CRASH_FORTNOX")}
fortnox_finans = true
push = true
requests_per_window = 1000
[tenants.email]
host = "127.0.0.1"
port = {smtp_port}
security = "none"
from_address = "reskontra@skog.example"
""",
        encoding="utf-8",
    )
    return path


def _cli(config: Path, env: dict[str, str], *args: str) -> list[str]:
    return [sys.executable, "-m", "connector.cli", "--config", str(config), *args]


def planned_actions(config: Path, env: dict[str, str], clock: Clock) -> list[dict[str, Any]]:
    """Sync without pushing, then ask for the plan."""
    subprocess.run(
        _cli(config, env, "sync", "--dry-run", "--today", TODAY.isoformat()),
        env={**env, **clock.environment()},
        check=True,
        capture_output=True,
        timeout=120,
    )
    out = subprocess.run(
        _cli(config, env, "plan", "--format", "json", "--today", TODAY.isoformat()),
        env={**env, **clock.environment()},
        check=True,
        capture_output=True,
        timeout=120,
        text=True,
    )
    return list(json.loads(out.stdout)["actions"])


def deliveries(
    fiken: FikenSandbox, fortnox: FortnoxSandbox, smtp: SmtpSink, fiken_keys: dict[str, str]
) -> Counter[str]:
    """How often each action reached its customer, by any route, keyed like the journal.

    Fiken re-sends per invoice (one planned action per invoice in a trial: ``fiken_keys``);
    Fortnox Finans records per invoice; e-mails name their actions in X-Kravsync-Letter (keys on
    the provider account, counted here as ``skog:<invoice>:<stage>:<n>``)."""
    seen: Counter[str] = Counter()
    for body in fiken.sent_invoices():
        invoice_id = str(body.get("invoiceId"))
        seen[fiken_keys.get(invoice_id, f"fjord:{invoice_id}:unplanned")] += 1
    for r in fortnox.received("POST", "/3/noxfinansinvoices"):
        if r.status < 300 and isinstance(r.body, dict):
            number = r.body.get("NoxFinansInvoice", {}).get("InvoiceNumber")
            seen[f"skog:{number}:reminder:1"] += 1
    for envelope in smtp.messages:
        message = email.message_from_bytes(envelope.content)
        for key in str(message.get("X-Kravsync-Letter", "")).split("+"):
            if key:
                seen["skog:" + ":".join(key.split(":")[-3:])] += 1
    return seen


def push_requests(fiken: FikenSandbox, fortnox: FortnoxSandbox, smtp: SmtpSink) -> int:
    """Push requests the sandboxes received so far (writes, Finans, PDFs, e-mails)."""
    return len(fiken.received) + len(fortnox.received()) + len(smtp.messages)


def run_trial(
    rng: random.Random,
    kills: int,
    workdir: Path,
    refused: frozenset[str] = frozenset(),
    span: float = 4.0,
    writes: int = 40,
    store_url: str = "sqlite:///state.db",
) -> Trial:
    """One trial; ``refused``: actions the providers refuse even without a crash (their data
    is wrong), which must end ``failed`` and undelivered."""
    trial = Trial()
    with ExitStack() as stack:
        clock = Clock.starting_at(TODAY)  # the sandboxes' and every kravsync process's clock
        fiken = stack.enter_context(
            FikenSandbox(clock=clock, token="crash-fiken", rate_limit=False)
        )
        fortnox = stack.enter_context(FortnoxSandbox(clock=clock, rate_limit=False))
        smtp = SmtpSink()
        port = smtp.start()
        stack.callback(smtp.stop)
        config = write_config(workdir, fiken, fortnox, port, store_url)
        env = {**os.environ, "CRASH_FIKEN": "crash-fiken", "CRASH_FORTNOX": fortnox.demo_secret()}
        plan = planned_actions(config, env, clock)
        trial.planned = len(plan)
        # Half the kills land at a random moment of the run (imports, pull, checks, pushes), half
        # right when the sandboxes have received the k-th push request (k at random), which puts
        # them between a provider call and the journal's record of it.
        for _ in range(kills):
            proc = subprocess.Popen(
                _cli(config, env, "sync", "--today", TODAY.isoformat()),
                env={**env, **clock.environment()},
                stdout=subprocess.DEVNULL,
                stderr=subprocess.DEVNULL,
            )
            trial.runs += 1
            if rng.random() < 0.5:
                delay = rng.uniform(0.2, span)
                point = f"{delay:.2f}s"
                deadline = time.monotonic() + delay
                target = None
            else:
                target = push_requests(fiken, fortnox, smtp) + rng.randint(1, max(1, writes))
                point = f"request #{target}"
                deadline = time.monotonic() + 120
            while proc.poll() is None and time.monotonic() < deadline:
                if target is not None and push_requests(fiken, fortnox, smtp) >= target:
                    break
                time.sleep(0.0005)
            if proc.poll() is None:
                proc.send_signal(signal.SIGKILL)
                trial.kills.append(point)
            proc.wait(30)
        began = time.monotonic()
        final = subprocess.run(
            _cli(config, env, "sync", "--today", TODAY.isoformat()),
            env={**env, **clock.environment()},
            capture_output=True,
            text=True,
            timeout=300,
        )
        trial.runs += 1
        trial.last_run_seconds = time.monotonic() - began
        trial.push_requests = push_requests(fiken, fortnox, smtp)
        # exit 3: failed actions, which the ones refused in every run (``refused``) are
        if final.returncode not in ((0, 3) if refused else (0,)):
            trial.problems.append(
                f"final sync exited {final.returncode}: {final.stdout[-400:]} {final.stderr[-400:]}"
            )
        store = open_store(
            store_url.replace("sqlite:///state.db", f"sqlite:///{workdir / 'state.db'}"), clock
        )
        # by tenant name, invoice, stage and sequence (the journal's keys are on the account)
        journal = {e.action.legacy_key: e for t in ("fjord", "skog") for e in store.journal(t)}
        fiken_keys = {
            a["invoice_id"]: f"fjord:{a['invoice_id']}:{a['stage']}:1"
            for a in plan
            if a["tenant"] == "fjord"
        }
        counts = deliveries(fiken, fortnox, smtp, fiken_keys)
        for action in plan:
            key = f"{action['tenant']}:{action['invoice_id']}:{action['stage']}:1"
            entry = journal.get(key)
            trial.outcomes[key] = entry.state.value if entry else "not journalled"
            expected_state, expected_count = ("failed", 0) if key in refused else ("done", 1)
            if trial.outcomes[key] != expected_state:
                trial.problems.append(f"{key}: {trial.outcomes[key]}")
            if action["stage"] != "handover" and counts[key] != expected_count:
                trial.problems.append(f"{key}: delivered {counts[key]} times")
        extra = [k for k, n in counts.items() if n > 1]
        if extra:
            trial.problems.append(f"duplicates: {extra}")
    return trial


def baseline() -> tuple[frozenset[str], float, int]:
    """What an uninterrupted run refuses (e.g. Fortnox Finans: an invoice without an address),
    how long its pushing sync takes and how many push requests it makes (the kill ranges)."""
    with tempfile.TemporaryDirectory(prefix="kravsync-crash-") as folder:
        trial = run_trial(random.Random(0), 0, Path(folder))
    refused = frozenset(k for k, state in trial.outcomes.items() if state == "failed")
    return refused, trial.last_run_seconds, trial.push_requests


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--trials", type=int, default=50)
    parser.add_argument("--seed", type=int, default=1)
    parser.add_argument(
        "--kills", type=int, default=2, help="SIGKILLs per trial before the last run"
    )
    args = parser.parse_args(argv)
    rng = random.Random(args.seed)
    failed = 0
    started = time.monotonic()
    refused, span, writes = baseline()
    print(
        f"baseline (no crash): a pushing sync takes {span:.1f} s and makes {writes} push requests; "
        f"{len(refused)} action(s) refused by the provider: {sorted(refused)}"
    )
    for n in range(1, args.trials + 1):
        with tempfile.TemporaryDirectory(prefix="kravsync-crash-") as folder:
            trial = run_trial(rng, args.kills, Path(folder), refused, span, writes)
        failed += not trial.ok
        status = "ok" if trial.ok else "FAILED: " + "; ".join(trial.problems[:5])
        print(
            f"trial {n:3d}: {trial.planned} planned, killed at {trial.kills}, {trial.runs} runs: {status}",
            flush=True,
        )
    elapsed = time.monotonic() - started
    print(
        f"{args.trials - failed} of {args.trials} trials delivered every planned action exactly once ({elapsed:.0f} s)"
    )
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
