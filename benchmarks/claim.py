"""Claiming due tenants (``store.claim_due_tenants``): cost per claim and exclusivity.

    python benchmarks/claim.py [--tenants 1000] [--claimers 4] [--batch 4] [--pg URL]

SQLite: the time to claim every tenant in batches, an idle tick (nothing due), and
``--claimers`` stores claiming at once from threads (every tenant claimed exactly once).
``--pg postgresql://postgres@127.0.0.1:5432/postgres``: the same SQL on PostgreSQL through a
minimal ``?``-translating connection (a scratch database, dropped afterwards), with a claim
that must skip rows another transaction holds locked (``FOR UPDATE SKIP LOCKED``) instead of
waiting for them. Until the PostgreSQL store is merged this adapter stands in for it.
"""

from __future__ import annotations

import argparse
import os
import socket
import sys
import tempfile
import threading
import time
import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import date
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from connector.clock import Clock  # noqa: E402
from connector.store import SqliteStore  # noqa: E402
from connector.store.leases import LeasesMixin  # noqa: E402
from connector.store.migrations import MIGRATIONS  # noqa: E402
from connector.store.workers import WorkersMixin  # noqa: E402


def parallel(stores: list[Any], names: list[str], batch: int) -> tuple[list[list[str]], float]:
    taken: list[list[str]] = [[] for _ in stores]

    def claim(i: int) -> None:
        while True:
            got = stores[i].claim_due_tenants(names, batch, 60)
            if not got:
                return
            taken[i].extend(n for n, _ in got)

    start = time.perf_counter()
    threads = [threading.Thread(target=claim, args=(i,)) for i in range(len(stores))]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    return taken, time.perf_counter() - start


def report(label: str, taken: list[list[str]], names: list[str], seconds: float) -> bool:
    flat = [n for t in taken for n in t]
    ok = sorted(flat) == sorted(names)
    print(
        f"{label}: {len(flat)} claimed, {len(set(flat))} distinct of {len(names)} in "
        f"{seconds:.2f} s; per claimer {[len(t) for t in taken]}: {'ok' if ok else 'WRONG'}"
    )
    return ok


def sqlite(names: list[str], claimers: int, batch: int) -> bool:
    clock = Clock.starting_at(date(2026, 11, 23))
    path = os.path.join(tempfile.mkdtemp(), "claim.db")
    store = SqliteStore(path, clock)
    start = time.perf_counter()
    claims = 0
    while store.claim_due_tenants(names, batch, 60):
        claims += 1
    seconds = time.perf_counter() - start
    print(f"sqlite: {claims} claims of {batch}: {seconds:.2f} s, {seconds / claims * 1000:.2f} ms each")
    start = time.perf_counter()
    for _ in range(100):
        store.claim_due_tenants(names, batch, 60)
    print(f"sqlite: idle tick (nothing due): {(time.perf_counter() - start) * 10:.2f} ms")
    for name in names:
        store.release_claimed(name, 0.0)
    stores = [SqliteStore(path, clock) for _ in range(claimers)]
    taken, seconds = parallel(stores, names, batch)
    return report(f"sqlite: {claimers} claimers", taken, names, seconds)


class _Row:
    def __init__(self, names: list[str], values: tuple[Any, ...]) -> None:
        self._index = {n: i for i, n in enumerate(names)}
        self._values = values

    def __getitem__(self, key: int | str) -> Any:
        return self._values[key if isinstance(key, int) else self._index[key]]


class _Cursor:
    def __init__(self, cur: Any) -> None:
        self.cur = cur

    @property
    def rowcount(self) -> int:
        return int(self.cur.rowcount)

    def fetchall(self) -> list[_Row]:
        names = [d.name for d in self.cur.description]
        return [_Row(names, r) for r in self.cur.fetchall()]

    def fetchone(self) -> _Row | None:
        rows = self.fetchall()
        return rows[0] if rows else None

    def __iter__(self) -> Iterator[_Row]:
        return iter(self.fetchall())


class _Conn:
    def __init__(self, conn: Any) -> None:
        self.conn = conn

    def execute(self, sql: str, params: tuple[Any, ...] = ()) -> _Cursor:
        cur = self.conn.cursor()
        cur.execute(sql.replace("?", "%s"), params)
        return _Cursor(cur)


def pg(url: str, names: list[str], claimers: int, batch: int) -> bool:
    import psycopg

    base, _, _ = url.rpartition("/")
    scratch = "kravsync_claim_" + uuid.uuid4().hex[:8]
    admin = psycopg.connect(url, autocommit=True)
    admin.execute(f"CREATE DATABASE {scratch}")
    target = f"{base}/{scratch}"

    class PgStore(WorkersMixin, LeasesMixin):
        dialect = "postgresql"

        def __init__(self) -> None:
            self._local = threading.local()
            self._holder = f"{socket.gethostname()}:{os.getpid()}:{uuid.uuid4().hex[:8]}"
            self._held_generations: dict[str, int] = {}

        def _raw(self) -> Any:
            conn = getattr(self._local, "conn", None)
            if conn is None:
                conn = self._local.conn = psycopg.connect(target, autocommit=True)
            return conn

        def _conn(self) -> Any:
            return _Conn(self._raw())

        @contextmanager
        def transaction(self, immediate: bool = True) -> Iterator[Any]:
            with self._raw().transaction():
                yield _Conn(self._raw())

        def _stamp(self) -> str:
            return "2026-11-23T12:00:00+01:00"

    opened: list[Any] = []
    try:
        setup = psycopg.connect(target, autocommit=True)
        opened.append(setup)
        setup.execute(  # migration 7's leases, with host times as DOUBLE PRECISION
            "CREATE TABLE leases (tenant TEXT PRIMARY KEY, holder TEXT NOT NULL, host TEXT NOT "
            "NULL, pid INTEGER NOT NULL, since DOUBLE PRECISION NOT NULL, expires_at DOUBLE "
            "PRECISION NOT NULL, generation INTEGER NOT NULL)"
        )
        setup.execute("CREATE TABLE runs (id BIGSERIAL PRIMARY KEY, tenant TEXT, ended_at TEXT, "
                      "outcome TEXT, error TEXT)")
        [sql] = [m[2] for m in MIGRATIONS if m[0] == 13]
        for statement in filter(None, (s.strip() for s in sql.split(";"))):
            setup.execute(statement)
        stores = [PgStore() for _ in range(claimers)]
        taken, seconds = parallel(stores, names, batch)
        ok = report(f"postgresql: {claimers} claimers", taken, names, seconds)
        free = names[:10]
        setup.execute("UPDATE leases SET expires_at = 0 WHERE tenant = ANY(%s)", (free,))
        setup.execute("UPDATE tenant_schedule SET next_due = 0 WHERE tenant = ANY(%s)", (free,))
        locker = psycopg.connect(target)
        opened.append(locker)
        locker.execute("SELECT 1 FROM leases WHERE tenant = ANY(%s) FOR UPDATE", (free[:5],))
        start = time.perf_counter()
        got = [n for n, _ in PgStore().claim_due_tenants(free, 10, 60)]
        skipped = got == free[5:]
        print(
            f"postgresql: 5 of 10 due rows locked by another transaction: claimed {got} in "
            f"{(time.perf_counter() - start) * 1000:.1f} ms: {'skipped, ok' if skipped else 'WRONG'}"
        )
        locker.rollback()
        return ok and skipped
    finally:
        for conn in opened:
            conn.close()
        admin.execute(
            "SELECT pg_terminate_backend(pid) FROM pg_stat_activity "
            f"WHERE datname = '{scratch}' AND pid <> pg_backend_pid()"
        )
        admin.execute(f"DROP DATABASE {scratch}")
        admin.close()


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--tenants", type=int, default=1000)
    parser.add_argument("--claimers", type=int, default=4)
    parser.add_argument("--batch", type=int, default=4)
    parser.add_argument("--pg", metavar="URL")
    args = parser.parse_args()
    names = [f"t{n:05d}" for n in range(args.tenants)]
    ok = sqlite(names, args.claimers, args.batch)
    if args.pg:
        ok = pg(args.pg, names, args.claimers, args.batch) and ok
    return 0 if ok else 1


if __name__ == "__main__":
    sys.exit(main())
