"""Planning speed: the policy engine over N open invoices generated in memory (no network).

    python benchmarks/plan.py [--invoices 100000] [--country NO] [--repeat 3]

Prints invoices/s (wall clock) for the best run and for the first (cold caches) run, and the
best by CPU time (process_time), which is steadier on a shared machine. The mix: due dates spread over the last ~200 days and the
next 30, a quarter of customers persons, some invoices with history (a reminder or a notice),
a few with holds and blocking findings, a few in another currency.
"""

from __future__ import annotations

import argparse
import random
import sys
import time
from datetime import UTC, date, datetime, timedelta
from decimal import Decimal
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from connector.models import (  # noqa: E402
    ActionStage,
    Customer,
    CustomerKind,
    Invoice,
    InvoiceStatus,
    Note,
    NoteKind,
)
from connector.policy import Decision, PolicySettings, TakenAction, plan  # noqa: E402


def build(n: int, country: str, today: date, seed: int = 1):
    rnd = random.Random(seed)
    currency = "NOK" if country == "NO" else "SEK"
    customers = {
        f"c{i}": Customer(
            provider="bench",
            provider_id=f"c{i}",
            number=str(10000 + i),
            name=f"Kunde {i} Blåbær Åsen",
            kind=CustomerKind.PERSON if i % 4 == 0 else CustomerKind.COMPANY,
        )
        for i in range(max(1, n // 5))
    }
    ids = list(customers)
    invoices, history, notes, blocking = [], {}, [], {}
    for i in range(n):
        due = today - timedelta(days=rnd.randint(-30, 200))
        cid = rnd.choice(ids)
        inv = Invoice(
            provider="bench",
            provider_id=f"i{i}",
            number=str(100000 + i),
            customer_id=cid,
            customer_number=customers[cid].number,
            issue_date=due - timedelta(days=14),
            due_date=due,
            currency=currency if i % 50 else "EUR",
            gross=Decimal(rnd.randint(100, 500000)) / 100,
            outstanding=Decimal(rnd.randint(100, 500000)) / 100,
            status=InvoiceStatus.OPEN,
        )
        invoices.append(inv)
        r = rnd.random()
        if r < 0.3 and (today - due).days > 30:
            sent = due + timedelta(days=14)
            hist = [TakenAction(ActionStage.REMINDER, sent, sent + timedelta(days=14), Decimal(35))]
            if r < 0.1 and (today - due).days > 60:
                s2 = sent + timedelta(days=20)
                hist.append(TakenAction(ActionStage.COLLECTION_NOTICE, s2, s2 + timedelta(days=14)))
            history[inv.provider_id] = hist
        if i % 200 == 0:
            notes.append(
                Note(
                    tenant="bench",
                    invoice_id=inv.provider_id,
                    kind=NoteKind.PROMISE,
                    text="ringer fredag",
                    author="bench",
                    created_at=datetime(today.year, today.month, 1, tzinfo=UTC),
                    until=today + timedelta(days=5),
                )
            )
    for cid in ids[::97]:
        blocking[cid] = ["org_number.missing"]
    return invoices, customers, history, notes, blocking


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__)
    ap.add_argument("--invoices", type=int, default=100_000)
    ap.add_argument("--country", default="NO", choices=("NO", "SE"))
    ap.add_argument("--repeat", type=int, default=3)
    ap.add_argument("--today", type=date.fromisoformat, default=date(2026, 3, 16))
    args = ap.parse_args()
    invoices, customers, history, notes, blocking = build(args.invoices, args.country, args.today)
    settings = PolicySettings.for_country(args.country, {}, on=args.today)
    runs: list[float] = []
    cpu: list[float] = []
    decisions: list[Decision] = []
    for _ in range(args.repeat):
        decisions = []
        t0, c0 = time.perf_counter(), time.process_time()
        decisions = plan(
            invoices,
            tenant="bench",
            country=args.country,
            settings=settings,
            today=args.today,
            customers=customers,
            history=history,
            notes=notes,
            blocking=blocking,
        )
        runs.append(time.perf_counter() - t0)
        cpu.append(time.process_time() - c0)
    actions = sum(1 for d in decisions if d.action)
    best, first = min(runs), runs[0]
    print(
        f"{args.country}: planned {len(invoices)} invoices ({actions} actions): "
        f"best {len(invoices) / best:,.0f} invoices/s ({best:.3f} s), "
        f"first (cold caches) {len(invoices) / first:,.0f} invoices/s; "
        f"CPU time: best {len(invoices) / min(cpu):,.0f} invoices/s"
    )


if __name__ == "__main__":
    main()
