"""Pull a 100k-invoice / 20k-customer Fortnox book from the sandbox at the real rate limit.

    python benchmarks/pull_fortnox.py [--customers 20000] [--invoices 100000] [--details 100]

Measures what the 25-requests-per-5-s ceiling allows: requests per second achieved against it,
429s, rows mapped per second and peak RSS (of this process, which also hosts the sandbox). The
list pull reads every customer and every invoice (the shape of a full resync); ``--details``
then reads that many customer details, the per-record cost of a first sync. It also prints what
a first full sync of this book costs in requests.
"""

from __future__ import annotations

import argparse
import json
import resource
import sys
import time
from datetime import UTC, date, datetime
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from connector.config import TenantConfig  # noqa: E402
from connector.secrets import MemoryCredentials  # noqa: E402
from providers.base import RecordError  # noqa: E402
from providers.fortnox import create  # noqa: E402
from providers.fortnox.client import MAX_PER_WINDOW, PAGE_SIZE, WINDOW_SECONDS  # noqa: E402
from providers.fortnox.sandbox import FortnoxSandbox  # noqa: E402


def peak_rss_mb() -> float:
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--customers", type=int, default=20_000)
    ap.add_argument("--invoices", type=int, default=100_000)
    ap.add_argument("--details", type=int, default=100)
    args = ap.parse_args()
    today = date(2026, 3, 2)
    sb = FortnoxSandbox(today=today, customers=args.customers, invoices=args.invoices).start()
    sb._invoice_arrays()  # build the sandbox's index before timing (a server-side cost)
    sb._customer_arrays()
    tenant = TenantConfig.model_construct(
        name="bench-se",
        provider="fortnox",
        country="SE",
        auth="client_credentials",
        **sb.tenant_settings(),
    )
    secret = json.dumps({"client_id": sb.client_id, "client_secret": sb.client_secret})
    provider = create(tenant, MemoryCredentials({"bench-se": secret}))
    provider.customer_details = provider.invoice_details = False
    provider._today = lambda: today
    since = datetime(2000, 1, 1, tzinfo=UTC)  # every record, through the lastmodified path
    ceiling = MAX_PER_WINDOW / WINDOW_SECONDS

    started = time.monotonic()
    rows = errors = 0
    for item in provider.iter_customers(since):
        errors += isinstance(item, RecordError)
        rows += 1
    for record in provider.iter_invoices(since, open_only=False):
        errors += isinstance(record, RecordError)
        rows += 1
    lists_s = time.monotonic() - started
    list_requests = provider.requests_sent
    out: dict[str, object] = {
        "customers": args.customers,
        "invoices": args.invoices,
        "list_rows": rows,
        "record_errors": errors,
        "list_requests": list_requests,
        "list_seconds": round(lists_s, 1),
        "list_req_per_s": round(list_requests / lists_s, 2),
        "ceiling_req_per_s": ceiling,
        "list_share_of_ceiling": round(list_requests / lists_s / ceiling, 3),
        "rows_per_s": round(rows / lists_s),
    }
    if args.details:
        t0 = time.monotonic()
        for n in range(1, args.details + 1):
            provider.client.customer(str(n))
        detail_s = time.monotonic() - t0
        out["detail_requests"] = args.details
        out["detail_req_per_s"] = round(args.details / detail_s, 2)
        out["detail_share_of_ceiling"] = round(args.details / detail_s / ceiling, 3)
    overdue_open = len(sb._invoice_numbers("unpaidoverdue", None))
    unpaid = len(sb._invoice_numbers("unpaid", None))
    first_sync = (
        -(-args.customers // PAGE_SIZE) + args.customers + -(-unpaid // PAGE_SIZE) + overdue_open
    )
    out["first_full_sync_requests"] = first_sync
    out["first_full_sync_minutes_at_ceiling"] = round(first_sync / ceiling / 60, 1)
    out["sandbox_429s"] = sb.stats.rate_limited
    out["client_429s"] = provider.client.http.rate_limited
    out["peak_rss_mb"] = round(peak_rss_mb(), 1)
    sb.stop()
    print(json.dumps(out, indent=2))


if __name__ == "__main__":
    main()
