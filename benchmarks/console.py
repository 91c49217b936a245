"""Console speed: every page rendered at the server with the 20 000-customer / 100 000-invoice
book (benchmarks/plan.py's generator) in a SQLite store; no network.

    python benchmarks/console.py [--invoices 100000] [--repeat 5] [--keep PATH]

Requests go through Starlette's TestClient, in process, so the time is the server's: routing,
store reads, building the page and rendering the template. Prints per page the first (cold)
time and the median of the repeats, after the console's warm-up (timed too: a page asked for
during it says its figures are being worked out). ``--keep PATH``: build the store once and
reuse it.

Then **after a change of the store** (a note on one invoice, as a person adds one; a cycle does
the same to the plan): the review queue and the tenant overview once more, served from the plan
before the change while the new one is worked out in the background (``console/refresh.py``),
then how long that background work took, then both pages again with the new plan.
"""

from __future__ import annotations

import argparse
import os
import re
import statistics
import sys
import tempfile
import time
from datetime import date, datetime, timedelta
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))
sys.path.insert(0, str(Path(__file__).resolve().parent))

from plan import build  # noqa: E402
from starlette.testclient import TestClient  # noqa: E402

from connector.clock import NORDIC, Clock  # noqa: E402
from connector.config import load_config  # noqa: E402
from connector.console.app import Console, build_app  # noqa: E402
from connector.console.auth import hash_password  # noqa: E402
from connector.models import ActionStage, ActionState, Note, NoteKind, ReminderAction  # noqa: E402
from connector.store import open_store  # noqa: E402
from connector.validation.findings import Finding  # noqa: E402

TODAY = date(2026, 3, 16)
PAGES = (
    "/",
    "/t/bench",
    "/queue",
    "/queue?page=20",
    "/customers",
    "/customers?q=Kunde+1999",
    "/customers?page=300",
    "/t/bench/customers/c4242",
    "/quality",
    "/holds",
    "/actions",
    "/actions?state=done&page=50",
)


def fill(store, n: int) -> None:  # type: ignore[no-untyped-def]
    invoices, customers, history, notes, blocking = build(n, "NO", TODAY)
    store.ensure_tenant("bench", "fiken", "NO")
    store.upsert_customers("bench", customers.values())
    store.upsert_invoices("bench", invoices)
    for note in notes:
        store.add_note(note)
    findings = [
        Finding(
            customer_id=cid,
            customer_number=customers[cid].number,
            customer_name=customers[cid].name,
            code=codes[0],
            field="org_number",
            severity="error",
            message="no org number",
            blocks=(ActionStage.COLLECTION_NOTICE, ActionStage.HANDOVER),
        )
        for cid, codes in blocking.items()
    ]
    store.replace_findings("bench", findings)
    by_id = {i.provider_id: i for i in invoices}
    for invoice_id, taken in history.items():
        inv = by_id[invoice_id]
        for seq, t in enumerate(taken, 1):
            action = ReminderAction(
                tenant="bench",
                invoice_id=invoice_id,
                invoice_number=inv.number,
                customer_id=inv.customer_id,
                stage=t.stage,
                sequence=1 if t.stage is not ActionStage.REMINDER else seq,
                planned_on=t.sent_on,
                deadline=t.deadline,
                currency=inv.currency,
                outstanding=inv.outstanding,
            )
            if store.journal_begin(action):
                store.journal_finish(action.idempotency_key, ActionState.DONE, sent_on=t.sent_on)


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__)
    ap.add_argument("--invoices", type=int, default=100_000)
    ap.add_argument("--repeat", type=int, default=5)
    ap.add_argument("--keep", type=Path, help="store file to build once and reuse")
    args = ap.parse_args()
    folder = Path(tempfile.mkdtemp(prefix="kravsync-console-bench-"))
    os.chmod(folder, 0o700)
    db = args.keep or folder / "state.db"
    config_path = folder / "kravsync.toml"
    config_path.write_text(
        f'[store]\nurl = "sqlite:///{db}"\n\n[[tenants]]\nname = "bench"\nprovider = "fiken"\n'
        'country = "NO"\ncompany = "bench"\ncredentials = "env:BENCH_TOKEN"\npush = "approve"\n',
        encoding="utf-8",
    )
    clock = Clock.starting_at(datetime(2026, 3, 16, 12, tzinfo=NORDIC))
    config = load_config(config_path)
    fresh = not Path(db).exists()
    store = open_store(config.store_url(), clock)
    if fresh:
        t0 = time.perf_counter()
        fill(store, args.invoices)
        print(f"built the store in {time.perf_counter() - t0:.1f} s", flush=True)
    store.put_user("bench", "admin", hash_password("bench password"))
    console = Console(config, store, clock)
    client = TestClient(build_app(console))
    token = re.search(r'name="csrf" value="([^"]+)"', client.get("/login").text)
    assert token, "no CSRF token on the login form"
    answer = client.post(
        "/login", data={"name": "bench", "password": "bench password", "csrf": token.group(1)}
    )
    assert "Log out" in answer.text, "the benchmark could not log in"
    began = time.perf_counter()
    console.warm()  # as `kravsync console` does when it starts
    assert console.review.wait_idle(600)
    print(
        f"warm-up (sums, review queue, trends worked out in the background): "
        f"{time.perf_counter() - began:.1f} s",
        flush=True,
    )
    customers = store.customer_count("bench")
    open_invoices = len(store.open_invoice_ids("bench"))
    print(f"{customers} customers, {open_invoices} open invoices; median of {args.repeat}")
    worst = 0.0
    for path in PAGES:
        times = []
        size = 0
        for _ in range(args.repeat + 1):
            t0 = time.perf_counter()
            response = client.get(path)
            times.append(time.perf_counter() - t0)
            assert response.status_code == 200, (path, response.status_code)
            assert "Log out" in response.text, f"{path}: not logged in (the login page was served)"
            size = len(response.content)
        median = statistics.median(times[1:])
        worst = max(worst, median)
        print(
            f"  {path:<32} first {times[0] * 1000:7.0f} ms   median {median * 1000:7.0f} ms"
            f"   {size / 1024:6.0f} KiB"
        )
    print(f"slowest page (median): {worst * 1000:.0f} ms (target 300 ms)")
    changed(client, console, store, clock)


def look_at_queue_and_overview(client: TestClient) -> None:
    """Time the review queue and the tenant overview once each, and say whether the figures
    shown predate the store's last change."""
    for path in ("/queue", "/t/bench"):
        t0 = time.perf_counter()
        response = client.get(path)
        stale = "The store has changed" in response.text
        print(
            f"  {path:<32} {(time.perf_counter() - t0) * 1000:7.0f} ms   stale plan shown: {stale}"
        )


def changed(client: TestClient, console: Console, store, clock: Clock) -> None:  # type: ignore[no-untyped-def]
    invoice = next(iter(sorted(store.open_invoice_ids("bench"))))
    store.add_note(
        Note(
            tenant="bench",
            invoice_id=invoice,
            kind=NoteKind.PROMISE,
            text="betaler fredag",
            author="bench",
            created_at=clock.now(),
            until=TODAY + timedelta(days=7),
        )
    )
    print("after a change of the store (a promise on one invoice):")
    began = time.perf_counter()
    look_at_queue_and_overview(client)
    assert console.review.wait_idle(600)
    print(
        f"  the new plan and trends worked out in the background: {time.perf_counter() - began:.1f} s"
    )
    look_at_queue_and_overview(client)


if __name__ == "__main__":
    main()
