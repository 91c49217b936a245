"""Full pull of a benchmark-sized sandbox with its rate limits on.

    python benchmarks/pull.py [--provider fiken|fortnox|tripletex] [--customers 20000] [--invoices 100000]
    python benchmarks/pull.py --provider tripletex --peer-python /path/to/venv/bin/python

The sandbox runs in its own process (so its memory is not counted against the client's), the
real provider client pulls every customer and every open invoice into a temporary SQLite store
(the list pulls only: Fortnox's detail reads are measured by ``benchmarks/first_sync.py``),
and the script prints requests/s against the provider's ceiling, 429s received, rows/s and the
client process's peak RSS. Exit status 1 when a target is missed (≥ 90 % of the ceiling, no
429s, peak RSS ≤ 150 MB). A provider without a published ceiling is measured against the limit
its sandbox announces (Tripletex: the ``X-Rate-Limit-*`` headers).

``--peer-python PY`` (Tripletex) then runs the same pull with the ``tripletex`` package from PyPI
against the same sandbox, in a fresh rate-limit period, with that interpreter (which must have
the package: ``pip install tripletex==0.1.8``), once as its README shows and once with the
package's own ``FileBasedRateLimiter``; see ``benchmarks/peers/tripletex_pypi.py``.
"""

from __future__ import annotations

import argparse
import json
import multiprocessing
import resource
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

from connector.clock import Clock
from connector.cycle.pull import pull
from connector.demo import demo_secret, demo_tenant
from connector.secrets import MemoryCredentials
from connector.store import open_store
from providers.base import registry

# The documented ceilings the client-side limiters are set to (requests per second).
CEILINGS = {"fiken": 4.0, "fortnox": 25 / 5}


PEER = Path(__file__).resolve().parent / "peers" / "tripletex_pypi.py"


def _serve(
    provider: str, customers: int, invoices: int, queue: Any, stop: Any, extra: dict[str, Any]
) -> None:
    sandbox = registry()[provider].sandbox(customers=customers, invoices=invoices, **extra).start()
    period = getattr(getattr(sandbox, "gate", None), "period", None)
    queue.put(
        (
            sandbox.tenant_settings(),
            demo_secret(sandbox),
            sandbox.base_url,
            getattr(sandbox, "announced_rate", None),
            period,
        )
    )
    stop.wait()
    sandbox.stop()


def _peer(
    python: str, base_url: str, settings: dict[str, Any], secret: str, limiter: bool
) -> dict[str, Any]:
    tokens = json.loads(secret)
    root = base_url.rsplit("/v2", 1)[0]
    args = [python, str(PEER), root, str(settings.get("company", "0")),
            tokens["consumer_token"], tokens["employee_token"]]  # fmt: skip
    if limiter:
        args.append("--limiter")
    done = subprocess.run(args, capture_output=True, text=True, timeout=3600)
    lines = [ln for ln in done.stdout.splitlines() if ln.startswith("{")]
    if not lines:
        return {
            "outcome": f"did not run: {done.stderr.strip().splitlines()[-1:] or done.returncode}"
        }
    return dict(json.loads(lines[-1]))


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--provider", default="fiken", choices=sorted(registry()))
    parser.add_argument("--customers", type=int, default=20_000)
    parser.add_argument("--invoices", type=int, default=100_000)
    parser.add_argument(
        "--all", action="store_true",
        help="pull every invoice (as a sync with an old cursor does), not only the open ones",
    )
    parser.add_argument(
        "--peer-python",
        help="Tripletex: also pull with the tripletex package from PyPI (this python)",
    )
    parser.add_argument(
        "--announce",
        metavar="N/SECONDS",
        help="Tripletex: the limit the sandbox announces (default 60/10)",
    )
    args = parser.parse_args(argv)

    ctx = multiprocessing.get_context("spawn")
    queue, stop = ctx.Queue(), ctx.Event()
    extra: dict[str, Any] = {}
    if args.announce:
        limit, period = args.announce.split("/")
        extra = {"max_requests": int(limit), "period_seconds": float(period)}
    server = ctx.Process(
        target=_serve, args=(args.provider, args.customers, args.invoices, queue, stop, extra)
    )
    server.start()
    try:
        settings, secret, base_url, announced, period = queue.get(timeout=300)

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
        peers: list[tuple[str, dict[str, Any]]] = []
        if args.peer_python:
            for limiter in (False, True):
                time.sleep((period or 0) + 1)  # a fresh rate-limit period for each run
                label = "with its FileBasedRateLimiter" if limiter else "as its README shows"
                peers.append((label, _peer(args.peer_python, base_url, settings, secret, limiter)))
    finally:
        stop.set()
        server.join(30)

    peak_mb = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    rate = sent / elapsed if elapsed else 0.0
    ceiling = CEILINGS.get(args.provider) or announced or rate
    rows = result.customers + result.invoices
    print(f"provider          {args.provider} ({base_url})")
    print(f"outcome           {'ok' if result.ok else 'FAILED: ' + str(result.error)}")
    kind = "invoices" if args.all else "open invoices"
    print(f"rows              {result.customers} customers + {result.invoices} {kind}")
    print(f"requests          {sent} in {elapsed:.1f} s")
    source = (
        "announced by the sandbox" if args.provider not in CEILINGS and announced else "ceiling"
    )
    print(f"requests/s        {rate:.2f} of {ceiling:.2f} {source} ({100 * rate / ceiling:.1f} %)")
    print(f"429s received     {limited}")
    print(f"rows/s            {rows / elapsed:.0f}")
    print(f"peak RSS (client) {peak_mb:.1f} MB")
    ok = result.ok and rate >= 0.9 * ceiling and limited == 0 and peak_mb <= 150
    print("targets           " + ("met" if ok else "MISSED"))
    for label, peer in peers:
        print(
            f"PyPI tripletex 0.1.8, {label}: {peer.get('outcome')}; {peer.get('requests')} requests "
            f"in {peer.get('seconds')} s, {peer.get('rate_limited')} 429s, "
            f"{peer.get('customers')} customers + {peer.get('open_invoices')} open invoices"
        )
        if peer.get("readme_config"):
            print(
                f"  (its README's TripletexConfig(consumer_token=...) fails: {peer['readme_config']})"
            )
    return 0 if ok else 1


if __name__ == "__main__":
    sys.exit(main())
