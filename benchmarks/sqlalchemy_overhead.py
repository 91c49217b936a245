"""What SQLAlchemy Core would cost the store's hottest write: the invoice upsert (issue 14 asks
for SQLAlchemy Core + Alembic, or a measurement showing why not).

    pip install 'sqlalchemy>=2.0'     # not a kravsync dependency
    python benchmarks/sqlalchemy_overhead.py [--invoices 100000] [--pg postgresql://postgres@127.0.0.1:5432/postgres]

The same 100 000 invoice rows (the store's columns, the JSON body included) are upserted twice
(insert, then update) into an empty `invoices` table, two ways: kravsync's store
(the body of `upsert_invoices`: sqlite3 / psycopg `executemany` of its `INSERT ... ON CONFLICT`),
and SQLAlchemy Core 2.x (`insert(...).on_conflict_do_update(...)` with a list of parameter
dicts, the documented bulk form, on the same drivers). Best of --repeat, wall clock.

Then what a daemon mostly runs: small transactions. ``--small`` (default 5 000) times, one
transaction each: read a tenant's lease row, then renew it (``UPDATE leases ... WHERE tenant=?
AND holder=? AND generation=?``), on the store's own ``leases`` table, through the store
(``store.transaction()``) and through SQLAlchemy Core (``engine.begin()``, the table reflected,
``select``/``update`` constructs, the compiled-statement cache warm); microseconds per
transaction, best of --repeat. Last, the cost of importing it: ``python -c "import
connector.store"`` with and without SQLAlchemy's PostgreSQL dialect imported too, best of 5.
"""

from __future__ import annotations

import argparse
import subprocess
import sys
import tempfile
import time
import uuid
from datetime import date
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

import psycopg  # noqa: E402
from plan import build  # noqa: E402

from connector.clock import Clock  # noqa: E402
from connector.store import open_store  # noqa: E402
from connector.store.sqlite import UPSERT_INVOICES, invoice_row  # noqa: E402

TODAY = date(2026, 3, 16)


COLUMNS = (
    "tenant", "provider_id", "number", "customer_id", "currency", "due_date", "outstanding",
    "status", "data", "updated_at",
)


def rows_of(n: int) -> list[tuple[Any, ...]]:
    """The rows `upsert_invoices` writes (serialised once, outside the timings)."""
    invoices, *_ = build(n, "NO", TODAY)
    return [invoice_row("bench", i, "2026-03-16T12:00:00+00:00") for i in invoices]


def with_sqlalchemy(url: str, tuples: list[tuple[Any, ...]]) -> tuple[float, float]:
    import sqlalchemy as sa  # type: ignore[import-not-found, unused-ignore]

    dialect = "postgresql" if url.startswith("postgresql") else "sqlite"
    if dialect == "postgresql":
        from sqlalchemy.dialects.postgresql import insert  # type: ignore[import-not-found, unused-ignore]

        url = url.replace("postgresql://", "postgresql+psycopg://", 1)
    else:
        from sqlalchemy.dialects.sqlite import insert  # type: ignore[import-not-found, unused-ignore]
    rows = [dict(zip(COLUMNS, row, strict=True)) for row in tuples]
    engine = sa.create_engine(url)
    meta = sa.MetaData()
    table = sa.Table(
        "invoices",
        meta,
        sa.Column("tenant", sa.Text, primary_key=True),
        sa.Column("provider_id", sa.Text, primary_key=True),
        *(sa.Column(c, sa.Text) for c in list(rows[0])[2:]),
    )
    meta.create_all(engine)
    statement = insert(table)
    statement = statement.on_conflict_do_update(
        index_elements=["tenant", "provider_id"],
        set_={c: statement.excluded[c] for c in list(rows[0])[2:]},
    )
    times = []
    for _ in range(2):  # insert, then update
        began = time.perf_counter()
        with engine.begin() as conn:
            conn.execute(statement, rows)
        times.append(time.perf_counter() - began)
    engine.dispose()
    return times[0], times[1]


def with_store(url: str, rows: list[tuple[Any, ...]]) -> tuple[float, float]:
    """The body of `upsert_invoices` on rows already serialised."""
    store = open_store(url, Clock.starting_at(TODAY))
    store.ensure_tenant("bench", "fiken", "NO")
    times = []
    for _ in range(2):
        began = time.perf_counter()
        with store.transaction() as tx:
            tx.executemany(UPSERT_INVOICES, rows)
        times.append(time.perf_counter() - began)
    store.close()
    return times[0], times[1]


def small_store(url: str, n: int) -> float:
    """µs per small transaction (read the lease row, renew it) through the store."""
    store = open_store(url, Clock.starting_at(TODAY))
    store.take_lease("bench", 3600)
    holder, generation = store._holder, 1  # noqa: SLF001 - the store's own identity
    began = time.perf_counter()
    for i in range(n):
        with store.transaction() as tx:
            tx.execute("SELECT * FROM leases WHERE tenant=?", ("bench",)).fetchone()
            tx.execute(
                "UPDATE leases SET expires_at=? WHERE tenant=? AND holder=? AND generation=?",
                (1e10 + i, "bench", holder, generation),
            )
    spent = time.perf_counter() - began
    store.close()
    return spent / n * 1e6


def small_sqlalchemy(url: str, n: int) -> float:
    """The same transactions through SQLAlchemy Core on the store's table."""
    import sqlalchemy as sa  # type: ignore[import-not-found, unused-ignore]

    store = open_store(url, Clock.starting_at(TODAY))  # the schema, and the lease row
    store.take_lease("bench", 3600)
    holder = store._holder  # noqa: SLF001
    store.close()
    if url.startswith("postgresql"):
        url = url.replace("postgresql://", "postgresql+psycopg://", 1)
    engine = sa.create_engine(url)
    if url.startswith("sqlite"):  # the store's own connection settings (WAL is kept in the file)

        @sa.event.listens_for(engine, "connect")
        def _pragmas(conn: Any, _record: Any) -> None:
            conn.execute("PRAGMA synchronous=NORMAL")
            conn.execute("PRAGMA busy_timeout=30000")

    leases = sa.Table("leases", sa.MetaData(), autoload_with=engine)
    read = sa.select(leases).where(leases.c.tenant == sa.bindparam("t"))
    renew = (
        sa.update(leases)
        .where(leases.c.tenant == sa.bindparam("t"))
        .where(leases.c.holder == sa.bindparam("h"))
        .where(leases.c.generation == sa.bindparam("g"))
        .values(expires_at=sa.bindparam("e"))
    )
    began = time.perf_counter()
    for i in range(n):
        with engine.begin() as conn:
            conn.execute(read, {"t": "bench"}).first()
            conn.execute(renew, {"t": "bench", "h": holder, "g": 1, "e": 1e10 + i})
    spent = time.perf_counter() - began
    engine.dispose()
    return spent / n * 1e6


def import_seconds(code: str, repeat: int = 5) -> float:
    best = float("inf")
    for _ in range(repeat):
        began = time.perf_counter()
        subprocess.run([sys.executable, "-c", code], check=True, cwd=Path(__file__).parents[1])
        best = min(best, time.perf_counter() - began)
    return best


def fresh(backend: str, pg: str, work: Any) -> tuple[float, float]:  # type: ignore[no-untyped-def]
    if backend == "sqlite":
        with tempfile.TemporaryDirectory() as folder:
            return work(f"sqlite:///{folder}/b.db")  # type: ignore[no-any-return]
    name = f"kravsync_bench_{uuid.uuid4().hex[:8]}"
    with psycopg.connect(pg, autocommit=True) as admin:
        admin.execute(f'CREATE DATABASE "{name}"')
        try:
            return work(pg.rsplit("/", 1)[0] + "/" + name)  # type: ignore[no-any-return]
        finally:
            admin.execute(f'DROP DATABASE "{name}" WITH (FORCE)')


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__)
    ap.add_argument("--invoices", type=int, default=100_000)
    ap.add_argument("--pg", default="postgresql://postgres@127.0.0.1:5432/postgres")
    ap.add_argument("--repeat", type=int, default=3)
    ap.add_argument("--small", type=int, default=5000, help="small transactions to time")
    args = ap.parse_args()
    rows = rows_of(args.invoices)
    print(f"{args.invoices} invoice upserts, seconds (best of {args.repeat}): insert / update")
    for backend in ("sqlite", "postgresql"):
        ours = [fresh(backend, args.pg, lambda u: with_store(u, rows)) for _ in range(args.repeat)]
        alchemy = [fresh(backend, args.pg, lambda u: with_sqlalchemy(u, rows)) for _ in range(args.repeat)]
        for label, runs in (("kravsync store", ours), ("SQLAlchemy Core", alchemy)):
            insert = min(r[0] for r in runs)
            update = min(r[1] for r in runs)
            print(f"{backend:<11} {label:<16} {insert:7.2f} / {update:7.2f}")
    print(f"{args.small} small transactions (read a lease row, renew it), µs each (best of {args.repeat})")
    for backend in ("sqlite", "postgresql"):
        for label, small in (("kravsync store", small_store), ("SQLAlchemy Core", small_sqlalchemy)):
            best = min(
                fresh(backend, args.pg, lambda u, f=small: f(u, args.small))  # type: ignore[misc]
                for _ in range(args.repeat)
            )
            print(f"{backend:<11} {label:<16} {best:7.0f}")
    plain = import_seconds("import connector.store")
    with_sa = import_seconds(
        "import connector.store, sqlalchemy, sqlalchemy.dialects.postgresql.psycopg"
    )
    print(f"import connector.store: {plain * 1000:.0f} ms; with SQLAlchemy too: {with_sa * 1000:.0f} ms")
    return 0


if __name__ == "__main__":
    sys.exit(main())
