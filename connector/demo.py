"""`kravsync demo`: every installed provider's sandbox, synced into a temporary store.

Needs no account and no network: the sandboxes are local HTTP servers on 127.0.0.1 and the real
provider clients talk to them exactly as they would to the real APIs. Norwegian postcodes are
checked against the extract of Bring's register that ships with kravsync.
"""

from __future__ import annotations

import sys
import tempfile
from contextlib import ExitStack
from datetime import date, timedelta
from pathlib import Path
from typing import Any, TextIO

from connector.channels.outbox import OutboxChannel
from connector.clock import Clock
from connector.config import TenantConfig
from connector.policy.calendar import is_business_day, next_business_day
from connector.render.progress import LogProgress, progress_for
from connector.render.report import render as render_report
from connector.render.status import collect, status_table
from connector.render.views import plan_table, report_data
from connector.runtime import run_tenant
from connector.secrets import MemoryCredentials
from connector.store import open_store
from connector.validation import fixture_register
from providers.base import registry


def demo_tenant(provider: str, sandbox: Any, **extra: Any) -> TenantConfig:
    factory = registry()[provider]
    return TenantConfig.model_validate(
        {
            "name": f"demo-{provider}",
            "provider": provider,
            "country": factory.countries[0],
            **sandbox.tenant_settings(),
            **extra,
        }
    )


# The demo pushes (into the sandboxes and a local outbox): Fortnox hands SEK invoices to
# Fortnox Finans, the rest goes through kravsync's own e-mail channel.
DEMO_SETTINGS: dict[str, dict[str, Any]] = {
    "fiken": {"creditor_name": "Nordlys Regnskap AS", "creditor_account": "1503.50.12348"},
    "fortnox": {
        "fortnox_finans": True,
        "creditor_name": "Skogsgläntan Konsult AB",
        "creditor_account": "Bankgiro 5050-1055",
    },
}


def demo_secret(sandbox: Any) -> str:
    return str(sandbox.demo_secret())


def _heading(text: str, out: TextIO) -> None:
    print(f"\n== {text} " + "=" * max(0, 74 - len(text)), file=out)


def sending_day(day: date, countries: tuple[str, ...] = ("NO", "SE")) -> date:
    """The first day from ``day`` on that is a business day in every one of ``countries``:
    nothing is planned for sending on a weekend or a public holiday."""
    while any(not is_business_day(c, day) for c in countries):
        day = next_business_day(countries[0], day + timedelta(days=1))
    return day


def run_demo(
    clock: Clock,
    out: TextIO = sys.stdout,
    workdir: Path | None = None,
    *,
    to_sending_day: bool = False,
) -> int:
    """The demo; ``to_sending_day``: when today is a weekend or public holiday in Norway or
    Sweden (no letter is planned then), run it as of the next day that is not, and say so."""
    today = clock.today()
    if to_sending_day and (moved := sending_day(today)) != today:
        print(
            f"today ({today:%A} {today}) is not a sending day in Norway and Sweden, so nothing "
            f"would be planned: the demo runs as of {moved:%A} {moved} "
            "(`kravsync demo --today YYYY-MM-DD` to choose the day)",
            file=out,
        )
        clock, today = clock.on(moved), moved
    failed = 0
    with ExitStack() as stack:
        folder = workdir or Path(
            stack.enter_context(tempfile.TemporaryDirectory(prefix="kravsync-demo-"))
        )
        store = open_store(f"sqlite:///{folder / 'demo.db'}", clock)
        stack.callback(store.close)
        credentials = MemoryCredentials()
        tenants: list[TenantConfig] = []
        sandboxes: list[Any] = []
        for name, factory in sorted(registry().items()):
            sandbox = factory.sandbox(clock=clock).start()
            sandboxes.append(sandbox)
            stack.callback(sandbox.stop)
            tenant = demo_tenant(name, sandbox, push=True, **DEMO_SETTINGS.get(name, {}))
            credentials.set(tenant.name, demo_secret(sandbox))
            tenants.append(tenant)
            print(f"{name} sandbox on {sandbox.base_url}", file=out)
        print(f"store: {folder / 'demo.db'} (temporary); today: {today}", file=out)

        outbox = OutboxChannel(
            folder / "outbox", clock=clock, from_address="reskontro@demo.kravsync"
        )
        _heading("sync (plan only)", out)
        plans = []
        for tenant in tenants:
            progress = progress_for(tenant.name) if out is sys.stdout else LogProgress(tenant.name)
            result = run_tenant(
                tenant,
                store,
                clock=clock,
                credentials=credentials,
                progress=progress,
                postcodes=lambda _t: fixture_register(),
                dry_run=True,
            )
            progress.finish()
            print(result.summary(), file=out)
            for item in result.sync.skipped:
                print(f"  skipped {item}", file=out)
            failed += not result.ok
            plans.append((tenant, result.decisions))

        _heading("status", out)
        print(status_table(collect(store, [t.name for t in tenants], today)), file=out)

        _heading("data quality", out)
        rows, summary = report_data(tenants, store, today)
        print(render_report("table", rows, summary, clock.now()), file=out)

        _heading("reminder plan", out)
        print(plan_table(plans, verbose=False), file=out)

        _heading("push", out)
        for tenant, sandbox in zip(tenants, sandboxes, strict=True):
            result = run_tenant(
                tenant,
                store,
                clock=clock,
                credentials=credentials,
                channel=outbox,
                postcodes=lambda _t: fixture_register(),
            )
            failed += not result.ok
            print(result.summary(), file=out)
            received = sandbox.received_summary()
            print(f"  the {tenant.provider} sandbox received {len(received)} request(s):", file=out)
            for line in received[:12]:
                print(f"    {line}", file=out)
            if len(received) > 12:
                print(f"    ... and {len(received) - 12} more", file=out)
        print(
            f"kravsync's own e-mail channel sent {len(outbox.sent)} message(s) (saved in the outbox):",
            file=out,
        )
        for message in outbox.sent:
            files = [p.get_filename() for p in message.iter_attachments()]
            print(
                f"    to {message['To']}: {message['Subject']} [{', '.join(f or '?' for f in files)}]",
                file=out,
            )
    return 1 if failed else 0
