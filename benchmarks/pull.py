"""Full pull of a benchmark-sized sandbox with its rate limits on.

    python benchmarks/pull.py [--provider fiken|fortnox] [--customers 20000] [--invoices 100000]

The sandbox runs in its own process (so its memory is not counted against the client's), the
real provider client pulls every customer and every open invoice into a temporary SQLite store,
and the script prints requests/s against the provider's ceiling, 429s received, rows/s and the
client process's peak RSS. Exit status 1 when a target is missed (≥ 90 % of the ceiling, no
429s, peak RSS ≤ 150 MB).
"""

from __future__ import annotations

import argparse
import multiprocessing
import resource
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

from connector.clock import Clock
from connector.demo import demo_secret, demo_tenant
from connector.secrets import MemoryCredentials
from connector.store import open_store
from connector.sync import pull
from providers.base import registry

# The documented ceilings the client-side limiters are set to (requests per second).
CEILINGS = {"fiken": 4.0, "fortnox": 25 / 5}


def _serve(provider: str, customers: int, invoices: int, queue: Any, stop: Any) -> None:
    sandbox = registry()[provider].sandbox(customers=customers, invoices=invoices).start()
    queue.put((sandbox.tenant_settings(), demo_secret(sandbox), sandbox.base_url))
    stop.wait()
    sandbox.stop()


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--provider", default="fiken", choices=sorted(registry()))
    parser.add_argument("--customers", type=int, default=20_000)
    parser.add_argument("--invoices", type=int, default=100_000)
    parser.add_argument(
        "--lists-only", action="store_true",
        help="Fortnox: page the lists without the per-record detail reads (paging throughput)",
    )
    parser.add_argument(
        "--all", action="store_true",
        help="pull every invoice (as a sync with an old cursor does), not only the open ones",
    )
    args = parser.parse_args(argv)

    ctx = multiprocessing.get_context("spawn")
    queue, stop = ctx.Queue(), ctx.Event()
    server = ctx.Process(target=_serve, args=(args.provider, args.customers, args.invoices, queue, stop))
    server.start()
    try:
        settings, secret, base_url = queue.get(timeout=120)

        class Sandbox:
            def tenant_settings(self) -> dict[str, Any]:
                return settings

        tenant = demo_tenant(args.provider, Sandbox())
        credentials = MemoryCredentials({tenant.name: secret})
        with tempfile.TemporaryDirectory() as folder:
            clock = Clock.system()
            store = open_store(f"sqlite:///{Path(folder) / 'bench.db'}", clock)
            factory = registry()[args.provider]
            provider: Any = factory.create(
                tenant, credentials, lock=store.advisory_lock, clock=clock
            )
            if args.lists_only:
                provider.customer_details = provider.invoice_details = False
            if args.all:
                store.ensure_tenant(tenant.name, tenant.provider, tenant.country)
                store.set_cursor(tenant.name, "invoices", "1970-01-02T00:00:00+00:00")
            started = time.monotonic()
            result = pull(tenant, provider, store, clock=clock)
            elapsed = time.monotonic() - started
            http = getattr(getattr(provider, "client", None), "http", None)
            sent = getattr(http, "requests_sent", result.requests)
            limited = getattr(http, "rate_limited", 0)
            provider.close()
    finally:
        stop.set()
        server.join(30)

    peak_mb = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    rate = sent / elapsed if elapsed else 0.0
    ceiling = CEILINGS.get(args.provider, rate)
    rows = result.customers + result.invoices
    print(f"provider          {args.provider} ({base_url})")
    print(f"outcome           {'ok' if result.ok else 'FAILED: ' + str(result.error)}")
    kind = "invoices" if args.all else "open invoices"
    print(f"rows              {result.customers} customers + {result.invoices} {kind}")
    print(f"requests          {sent} in {elapsed:.1f} s")
    print(f"requests/s        {rate:.2f} of {ceiling:.2f} ceiling ({100 * rate / ceiling:.1f} %)")
    print(f"429s received     {limited}")
    print(f"rows/s            {rows / elapsed:.0f}")
    print(f"peak RSS (client) {peak_mb:.1f} MB")
    ok = result.ok and rate >= 0.9 * ceiling and limited == 0 and peak_mb <= 150
    print("targets           " + ("met" if ok else "MISSED"))
    return 0 if ok else 1


if __name__ == "__main__":
    sys.exit(main())
