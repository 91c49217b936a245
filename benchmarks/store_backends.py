"""The same store operations on SQLite and on PostgreSQL, side by side (issue 14).

    python benchmarks/store_backends.py [--invoices 100000] [--backend sqlite --backend postgresql]
        [--pg postgresql://postgres@127.0.0.1:5432/postgres]

For each back-end, in a fresh store (a temporary SQLite file; a new PostgreSQL database, dropped
afterwards): upsert N/5 customers and N open invoices (insert), upsert the same invoices again
(update), read them back, and plan over them (`plan_tenant`: the store reads the plan makes,
policy included), with notes. Wall-clock seconds per step, best of --repeat for the reads and the
plan. The book is benchmarks/plan.py's (due dates over ~200 days, a fifth as many customers).
"""

from __future__ import annotations

import argparse
import sys
import tempfile
import time
import uuid
from datetime import date
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

import psycopg  # noqa: E402
from plan import build  # noqa: E402

from connector.clock import Clock  # noqa: E402
from connector.config import TenantConfig  # noqa: E402
from connector.cycle.plan import plan_tenant  # noqa: E402
from connector.store import open_store  # noqa: E402

TODAY = date(2026, 3, 16)


def timed(step):  # type: ignore[no-untyped-def]
    began = time.perf_counter()
    result = step()
    return time.perf_counter() - began, result


def run(url: str, n: int, repeat: int) -> dict[str, float]:
    clock = Clock.starting_at(TODAY)
    store = open_store(url, clock)
    invoices, customers, _history, notes, _blocking = build(n, "NO", TODAY)
    invoices = [i.model_copy(update={"provider": "fiken"}) for i in invoices]
    tenant = TenantConfig(name="bench", provider="fiken", country="NO", company="bench")
    store.ensure_tenant("bench", "fiken", "NO")
    out: dict[str, float] = {}
    out["upsert customers"], _ = timed(lambda: store.upsert_customers("bench", customers.values()))
    out["upsert invoices (insert)"], _ = timed(lambda: store.upsert_invoices("bench", invoices))
    out["upsert invoices (update)"], _ = timed(lambda: store.upsert_invoices("bench", invoices))
    for note in notes:
        store.add_note(note)
    out["read open invoices"] = min(
        timed(lambda: sum(1 for _ in store.invoices("bench", open_only=True)))[0]
        for _ in range(repeat)
    )
    out["plan"] = min(timed(lambda: plan_tenant(tenant, store, TODAY))[0] for _ in range(repeat))
    store.close()
    return out


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__)
    ap.add_argument("--invoices", type=int, default=100_000)
    ap.add_argument("--backend", action="append", choices=("sqlite", "postgresql"))
    ap.add_argument("--pg", default="postgresql://postgres@127.0.0.1:5432/postgres")
    ap.add_argument("--repeat", type=int, default=3)
    args = ap.parse_args()
    results: dict[str, dict[str, float]] = {}
    for backend in args.backend or ["sqlite", "postgresql"]:
        if backend == "sqlite":
            with tempfile.TemporaryDirectory() as folder:
                results[backend] = run(f"sqlite:///{folder}/bench.db", args.invoices, args.repeat)
        else:
            name = f"kravsync_bench_{uuid.uuid4().hex[:8]}"
            with psycopg.connect(args.pg, autocommit=True) as admin:
                admin.execute(f'CREATE DATABASE "{name}"')
                try:
                    url = args.pg.rsplit("/", 1)[0] + "/" + name
                    results[backend] = run(url, args.invoices, args.repeat)
                finally:
                    admin.execute(f'DROP DATABASE "{name}" WITH (FORCE)')
    steps = list(next(iter(results.values())))
    print(f"{args.invoices} invoices, {args.invoices // 5} customers; seconds (wall clock)")
    print(f"{'step':<26}" + "".join(f"{b:>12}" for b in results))
    for step in steps:
        print(f"{step:<26}" + "".join(f"{results[b][step]:>12.2f}" for b in results))
    return 0


if __name__ == "__main__":
    sys.exit(main())
