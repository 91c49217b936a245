"""A new company's first sync, end to end, with the sandbox's rate limit on.

    python benchmarks/first_sync.py [--provider fortnox|fiken] [--customers 20000]
        [--invoices 100000] [--scale 1] [--out FILE]

The sandbox runs in its own process; the real client runs the real cycle (``run_tenant``) into
a temporary SQLite store, as ``kravsync sync --full --dry-run`` would, then a second cycle with
nothing changed. Printed (and appended as JSON lines to ``--out`` as each is known):

- ``first_plan``: seconds and requests until the plan stands for every overdue invoice whose
  next stage is due (Fortnox: lists + tier-1 detail reads; Fiken: the lists), and how many
  overdue invoices still wait for details at that moment;
- ``full``: seconds and requests until every detail record is read (the backfill);
- ``no_change``: requests of the next cycle when nothing changed;
- 429s received (client and sandbox count) and the client's peak RSS.

``--scale N`` multiplies the sandbox's and the client's rate limit by N (for a quick check;
the README's figures are at ``--scale 1``, the real ceiling).
"""

from __future__ import annotations

import argparse
import json
import logging
import multiprocessing
import resource
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

from connector.clock import Clock
from connector.cycle import CycleResult
from connector.cycle.backlog import Backlog
from connector.demo import demo_secret, demo_tenant
from connector.models import InvoiceStatus
from connector.policy import Outcome
from connector.render.progress import LogProgress
from connector.runtime import run_tenant
from connector.secrets import MemoryCredentials
from connector.store import open_store
from providers.base import registry


def _serve(
    provider: str, customers: int, invoices: int, scale: int, queue: Any, stop: Any, asks: Any
) -> None:
    kwargs: dict[str, Any] = {"customers": customers, "invoices": invoices}
    if provider == "fortnox" and scale != 1:
        kwargs["max_requests"] = 25 * scale
    sandbox = registry()[provider].sandbox(**kwargs).start()
    queue.put((sandbox.tenant_settings(), demo_secret(sandbox), sandbox.base_url))
    while not stop.is_set():
        if asks.poll(0.5):
            asks.recv()
            asks.send(sandbox.stats.rate_limited)
    sandbox.stop()


def _overdue_waiting(store: Any, tenant: str, today: Any) -> tuple[int, int]:
    """(overdue open invoices, those of them still waiting for details)."""
    backlog = Backlog.load(store, tenant)
    overdue = waiting = 0
    for inv in store.invoices(tenant, open_only=True):
        if inv.status is InvoiceStatus.OPEN and inv.due_date < today:
            overdue += 1
            waiting += backlog.waits(inv)
    return overdue, waiting


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--provider", default="fortnox", choices=sorted(registry()))
    parser.add_argument("--customers", type=int, default=20_000)
    parser.add_argument("--invoices", type=int, default=100_000)
    parser.add_argument("--scale", type=int, default=1, help="rate limits × N (quick checks)")
    parser.add_argument("--out", type=Path, help="append each figure as a JSON line here")
    args = parser.parse_args(argv)
    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(name)s: %(message)s")
    logging.getLogger("kravsync").setLevel(logging.INFO)

    figures: dict[str, Any] = {"provider": args.provider, "scale": args.scale}

    def record(key: str, value: Any) -> None:
        figures[key] = value
        print(f"{key:<12} {json.dumps(value)}", flush=True)
        if args.out:
            with args.out.open("a") as f:
                f.write(json.dumps({"provider": args.provider, key: value}) + "\n")

    ctx = multiprocessing.get_context("spawn")
    queue, stop = ctx.Queue(), ctx.Event()
    asks, answers = ctx.Pipe()
    server = ctx.Process(
        target=_serve,
        args=(args.provider, args.customers, args.invoices, args.scale, queue, stop, answers),
    )
    server.start()
    try:
        settings, secret, base_url = queue.get(timeout=300)

        class Sandbox:
            def tenant_settings(self) -> dict[str, Any]:
                return settings

        extra: dict[str, Any] = {}
        if args.provider == "fortnox" and args.scale != 1:
            extra["requests_per_window"] = 25 * args.scale
        tenant = demo_tenant(args.provider, Sandbox(), **extra)
        credentials = MemoryCredentials({tenant.name: secret})
        with tempfile.TemporaryDirectory() as folder:
            clock = Clock.system()
            store = open_store(f"sqlite:///{Path(folder) / 'bench.db'}", clock)
            started = time.monotonic()
            marks: dict[str, Any] = {}

            def planned(result: CycleResult) -> None:
                overdue, waiting = _overdue_waiting(store, tenant.name, clock.today())
                due = sum(
                    1 for d in result.decisions if d.outcome in (Outcome.ACTION, Outcome.BLOCKED)
                )
                marks["first_plan"] = {
                    "seconds": round(time.monotonic() - started, 1),
                    "requests": result.sync.requests,
                    "actions": len(result.actions),
                    "stage_due_planned": due,
                    "overdue_open": overdue,
                    "overdue_waiting_for_details": waiting,
                }
                record("first_plan", marks["first_plan"])

            first = run_tenant(
                tenant,
                store,
                clock=clock,
                credentials=credentials,
                progress=LogProgress(tenant.name),
                dry_run=True,
                full=True,
                planned=planned,
            )
            if "first_plan" not in marks:
                planned(first)
            record(
                "full",
                {
                    "ok": first.ok,
                    "error": first.sync.error,
                    "seconds": round(time.monotonic() - started, 1),
                    "requests": first.sync.requests,
                    "customers": first.sync.customers,
                    "open_invoices": first.sync.invoices,
                    "details_left": Backlog.load(store, tenant.name).total,
                    "checked": first.checks.coverage() if first.checks else None,
                    "skipped": len(first.sync.skipped),
                },
            )
            # The next cycle, with nothing changed in the book since the first one.
            second = run_tenant(
                tenant,
                store,
                clock=clock,
                credentials=credentials,
                progress=LogProgress(tenant.name),
                dry_run=True,
            )
            record(
                "no_change",
                {
                    "ok": second.ok,
                    "requests": second.sync.requests,
                    "records": second.sync.customers + second.sync.invoices,
                },
            )
        asks.send("stats")
        sandbox_429 = asks.recv() if asks.poll(30) else None
    finally:
        stop.set()
        server.join(60)

    peak_mb = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    record("rate_limited", {"sandbox_429s": sandbox_429})
    record("peak_rss_mb", round(peak_mb, 1))
    print(f"sandbox           {base_url}")
    return 0 if figures["full"]["ok"] and not sandbox_429 else 1


if __name__ == "__main__":
    sys.exit(main())
