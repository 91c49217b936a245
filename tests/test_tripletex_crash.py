"""`kravsync sync` killed (SIGKILL) right as Tripletex makes a reminder: nothing is made twice.

Real processes against the sandbox over HTTP: the kill can land after Tripletex made the
reminder but before kravsync journalled it; the next run must find it on the invoice (its
evidence) instead of making a second one.
"""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from collections import Counter
from datetime import date
from pathlib import Path

import pytest

from connector.clock import Clock
from connector.config import load_config
from connector.models import ActionState
from connector.store import open_configured_store
from providers.tripletex.sandbox import TripletexSandbox
from providers.tripletex.sandbox import seed as s

pytestmark = [pytest.mark.e2e, pytest.mark.backends]
TODAY = date(2026, 11, 23)
CREATE = "InvoiceCreateReminder_createReminder"


def config(folder: Path, sb: TripletexSandbox, store_url: str) -> Path:
    path = folder / "kravsync.toml"
    path.write_text(
        f"""
[store]
url = "{store_url}"

[[tenants]]
name = "fjell"
provider = "tripletex"
country = "NO"
company = "{sb.company}"
base_url = "{sb.base_url}"
credentials = "env:CRASH_TRIPLETEX"
push = true
[tenants.policy]
b2b_compensation = false
[tenants.validation]
postcode_register_source = "fixture"
""",
        encoding="utf-8",
    )
    return path


def sync(cfg: Path, clock: Clock, secret: str) -> subprocess.Popen[bytes]:
    env = {**os.environ, **clock.environment(), "CRASH_TRIPLETEX": secret}
    return subprocess.Popen(
        [sys.executable, "-m", "connector.cli", "--config", str(cfg), "sync"],
        env=env,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )


@pytest.mark.parametrize("kill_at", [[1], [2, 5]])
def test_sigkill_mid_push_then_a_full_run_makes_every_reminder_once(
    tmp_path: Path, kill_at: list[int], store_url: str
) -> None:
    clock = Clock.starting_at(TODAY)
    with TripletexSandbox(clock=clock, rate_limit=False) as sb:
        seeded = {r.id for rs in sb.book().reminders.values() for r in rs}
        cfg = config(tmp_path, sb, store_url)
        for target in kill_at:
            proc = sync(cfg, clock, sb.demo_secret())
            deadline = time.monotonic() + 60
            while len(sb.received(CREATE)) < target and proc.poll() is None:
                assert time.monotonic() < deadline, "no reminder was pushed"
                time.sleep(0.002)
            proc.send_signal(signal.SIGKILL)
            proc.wait(10)
        last = sync(cfg, clock, sb.demo_secret())
        assert last.wait(120) == 0
        made = Counter(
            (r.invoice_id, r.kind)
            for rs in sb.book().reminders.values()
            for r in rs
            if r.id not in seeded
        )
        assert made and max(made.values()) == 1  # nothing twice
        store = open_configured_store(load_config(cfg), clock)
        journal = list(store.journal("fjell"))
        done = {(int(e.action.invoice_id)) for e in journal if e.state is ActionState.DONE}
        assert done == {invoice for invoice, _kind in made}  # none lost, none unjournalled
        assert all(e.state in (ActionState.DONE, ActionState.FAILED) for e in journal)
        assert len(sb.received(CREATE)) >= len(made)
        assert s.DEMO_COMPANY_ID == sb.company
