"""Daemon workers sharing the tenants: their heartbeats, and claiming due tenants.

A mixin over :class:`connector.store.sqlite.SqliteStore` (plain SQL, shared with the PostgreSQL
store, which branches on ``self.dialect`` only for ``FOR UPDATE SKIP LOCKED``).

- ``workers``: one row per running ``kravsync daemon`` (its id is the store's ``_holder``,
  ``host:pid:uuid``): host, pid, start, last heartbeat (host time), heartbeat interval,
  concurrency and the tenants it held at its last beat. A worker whose beat is older than
  ``STALE_BEATS`` intervals, or that is a dead process on this host, is shown stale; one silent
  for ``GC_BEATS`` intervals is deleted by the next live worker's beat.
- :meth:`WorkersMixin.claim_due_tenants`: in one write transaction, up to ``limit`` tenants that
  are due (``tenant_schedule.next_due``, host time, set at release to "now + the tenant's
  interval"; 0 for a tenant never run) and not leased by a live holder, each taken with its
  generation + 1.
  The lease taken is the one the cycle then renews and that fences its writes.
"""

from __future__ import annotations

import json
import os
import socket
import sqlite3
from contextlib import AbstractContextManager
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from connector.store.leases import LeaseLost, holder_is_dead
from connector.store.shared_time import SharedTime

STALE_BEATS = 3  # a worker silent for this many heartbeat intervals is shown stale
GC_BEATS = 20  # ... and deleted after this many (by another worker's heartbeat),
GC_MIN_SECONDS = 60.0  # and never sooner than this
_CHUNK = 500  # tenant names per IN (...) list


@dataclass(frozen=True)
class WorkerRecord:
    """A daemon worker as its row says (times: host time, seconds since the epoch)."""

    id: str
    host: str
    pid: int
    started_at: float
    heartbeat_at: float
    heartbeat_seconds: float
    concurrency: int
    tenants: tuple[str, ...]
    stale: bool

    def heartbeat_age(self, now: float) -> float:
        return max(0.0, now - self.heartbeat_at)

    def as_json(self, now: float) -> dict[str, Any]:
        return {
            "id": self.id,
            "host": self.host,
            "pid": self.pid,
            "concurrency": self.concurrency,
            "tenants": list(self.tenants),
            "heartbeat_age_seconds": round(self.heartbeat_age(now), 1),
            "up_seconds": round(max(0.0, now - self.started_at), 1),
            "stale": self.stale,
        }


def _is_stale(row: Any, now: float) -> bool:
    silent = now - float(row["heartbeat_at"])
    return silent > STALE_BEATS * float(row["heartbeat_seconds"]) or holder_is_dead(row["id"])


def _chunks(names: list[str]) -> list[list[str]]:
    return [names[i : i + _CHUNK] for i in range(0, len(names), _CHUNK)]


def _marks(names: list[str]) -> str:
    return ", ".join("?" for _ in names)


class WorkersMixin(SharedTime):
    if TYPE_CHECKING:
        _holder: str
        _held_generations: dict[str, int]
        dialect: str

        def transaction(
            self, immediate: bool = True
        ) -> AbstractContextManager[sqlite3.Connection]: ...

        def _conn(self) -> sqlite3.Connection: ...

        def _stamp(self) -> str: ...

        def _fence(self, conn: sqlite3.Connection, tenant: str) -> None: ...

    # -- the workers table ----------------------------------------------------------------------
    def register_worker(self, concurrency: int, heartbeat_seconds: float) -> str:
        """This process as a worker (its id: the store's holder); returns the id."""
        self.heartbeat_worker([], concurrency, heartbeat_seconds)
        return self._holder

    def heartbeat_worker(
        self, tenants: list[str], concurrency: int, heartbeat_seconds: float
    ) -> int:
        """Beat: now, and the tenants held (the row is made again if another worker took this
        one for dead and deleted it); deletes workers silent for ``GC_BEATS`` intervals.
        Returns how many were deleted."""
        now = self.shared_time()
        with self.transaction(immediate=True) as tx:
            tx.execute(
                "INSERT INTO workers (id, host, pid, started_at, heartbeat_at, heartbeat_seconds, "
                "concurrency, tenants) VALUES (?, ?, ?, ?, ?, ?, ?, ?) ON CONFLICT(id) DO UPDATE "
                "SET heartbeat_at=excluded.heartbeat_at, tenants=excluded.tenants, "
                "heartbeat_seconds=excluded.heartbeat_seconds, concurrency=excluded.concurrency",
                (
                    self._holder,
                    socket.gethostname(),
                    os.getpid(),
                    now,
                    now,
                    float(heartbeat_seconds),
                    int(concurrency),
                    json.dumps(sorted(tenants)),
                ),
            )
            gone = tx.execute(
                "DELETE FROM workers WHERE id <> ? AND heartbeat_at < ? - heartbeat_seconds * ? "
                "AND heartbeat_at < ?",
                (self._holder, now, float(GC_BEATS), now - GC_MIN_SECONDS),
            )
            return max(0, gone.rowcount)

    def remove_worker(self) -> None:
        """A clean stop: this worker's row goes."""
        with self.transaction(immediate=True) as tx:
            tx.execute("DELETE FROM workers WHERE id=?", (self._holder,))

    def workers(self) -> list[WorkerRecord]:
        """Every worker the table knows, live and stale, by host and pid."""
        now = self.shared_time()
        rows = self._conn().execute("SELECT * FROM workers ORDER BY host, pid, id").fetchall()
        return [
            WorkerRecord(
                id=row["id"],
                host=row["host"],
                pid=int(row["pid"]),
                started_at=float(row["started_at"]),
                heartbeat_at=float(row["heartbeat_at"]),
                heartbeat_seconds=float(row["heartbeat_seconds"]),
                concurrency=int(row["concurrency"]),
                tenants=tuple(json.loads(row["tenants"] or "[]")),
                stale=_is_stale(row, now),
            )
            for row in rows
        ]

    # -- claiming due tenants -------------------------------------------------------------------
    def _ensure_lease_rows(self, names: list[str]) -> None:
        """A lease row (free) and a schedule row (due at once) for every tenant, so claimers
        can lock rows. Inserted in name order, so two workers inserting at once never
        deadlock."""
        known: set[str] = self.__dict__.setdefault("_lease_rows_known", set())
        missing = sorted(set(names) - known)
        if not missing:
            return
        conn = self._conn()
        present: set[str] = set()
        for chunk in _chunks(missing):
            cur = conn.execute(
                "SELECT l.tenant FROM leases l JOIN tenant_schedule s ON s.tenant = l.tenant "
                f"WHERE l.tenant IN ({_marks(chunk)})",
                tuple(chunk),
            )
            present.update(row[0] for row in cur)
        absent = [n for n in missing if n not in present]
        if absent:
            with self.transaction(immediate=True) as tx:
                for name in absent:
                    tx.execute(
                        "INSERT INTO leases (tenant, holder, host, pid, since, expires_at, "
                        "generation) VALUES (?, ?, ?, ?, ?, ?, ?) ON CONFLICT(tenant) DO NOTHING",
                        (name, "", "", 0, 0.0, 0.0, 0),
                    )
                    tx.execute(
                        "INSERT INTO tenant_schedule (tenant, next_due) VALUES (?, ?) "
                        "ON CONFLICT(tenant) DO NOTHING",
                        (name, 0.0),
                    )
        known.update(missing)

    def _in_names(self, names: list[str]) -> list[tuple[str, tuple[Any, ...]]]:
        """``names`` as ``l.tenant`` filters: ``(sql, params)`` per query. PostgreSQL takes
        them as one array parameter; SQLite as ``IN (...)`` lists of ``_CHUNK`` names."""
        if self.dialect == "postgresql":
            return [("l.tenant = ANY(?)", (names,))]
        return [(f"l.tenant IN ({_marks(chunk)})", tuple(chunk)) for chunk in _chunks(names)]

    def _any_claimable(self, names: list[str], now: float, host: str) -> bool:
        """A cheap look before the write transaction: is one of ``names`` due and free (its
        lease expired), or due and held by a dead process on this host?"""
        conn = self._conn()
        for where, params in self._in_names(names):
            free = conn.execute(
                "SELECT 1 FROM leases l JOIN tenant_schedule s ON s.tenant = l.tenant "
                f"WHERE {where} AND s.next_due <= ? AND l.expires_at < ? LIMIT 1",
                (*params, now, now),
            ).fetchone()
            if free is not None:
                return True
            held_here = conn.execute(
                "SELECT l.holder FROM leases l JOIN tenant_schedule s ON s.tenant = l.tenant "
                f"WHERE {where} AND s.next_due <= ? AND l.expires_at >= ? AND l.host = ? "
                "AND l.holder <> ?",
                (*params, now, now, host, self._holder),
            ).fetchall()
            if any(holder_is_dead(row[0]) for row in held_here):
                return True
        return False

    def claim_due_tenants(self, names: list[str], limit: int, ttl: float) -> list[tuple[str, int]]:
        """Take the leases of up to ``limit`` of ``names`` that are due and not held by a live
        process, in one transaction: ``[(tenant, generation)]``, most overdue first.

        Due: ``tenant_schedule.next_due`` (host time) has passed; it is 0 until a claimed
        cycle releases the tenant. Free: the lease expired, or its holder is a dead process on this host. On
        PostgreSQL the free rows are locked ``FOR UPDATE SKIP LOCKED``, so workers claiming at
        once each get other tenants without waiting; SQLite's write lock serialises claimers.
        Taking a lease closes the runs a dead holder left ``running`` as ``interrupted``."""
        names = sorted(set(names))
        if limit <= 0 or not names:
            return []
        self._ensure_lease_rows(names)
        now = self.shared_time()
        host, pid = socket.gethostname(), os.getpid()
        if not self._any_claimable(names, now, host):
            return []  # the usual tick: a read, no write lock taken
        # PostgreSQL: lock the free lease rows picked; rows another claimer has locked are
        # skipped, not waited for (SQLite: BEGIN IMMEDIATE already serialises claimers)
        lock = " FOR UPDATE OF l SKIP LOCKED" if self.dialect == "postgresql" else ""
        picked: list[tuple[str, int]] = []
        with self.transaction(immediate=True) as tx:
            for where, params in self._in_names(names):
                if len(picked) >= limit:
                    break
                rows = tx.execute(
                    "SELECT l.tenant, l.generation FROM leases l "
                    "JOIN tenant_schedule s ON s.tenant = l.tenant "
                    f"WHERE {where} AND s.next_due <= ? "
                    f"AND l.expires_at < ? ORDER BY s.next_due, l.tenant LIMIT ?{lock}",
                    (*params, now, now, limit - len(picked)),
                ).fetchall()
                picked.extend((row[0], int(row[1])) for row in rows)
            if len(picked) < limit:  # leases of dead processes on this host: free at once
                for where, params in self._in_names(names):
                    rows = tx.execute(
                        "SELECT l.tenant, l.holder, l.generation FROM leases l "
                        "JOIN tenant_schedule s ON s.tenant = l.tenant "
                        f"WHERE {where} AND s.next_due <= ? "
                        "AND l.expires_at >= ? AND l.host = ? AND l.holder <> ? "
                        "ORDER BY s.next_due, l.tenant",
                        (*params, now, now, host, self._holder),
                    ).fetchall()
                    for row in rows:
                        if len(picked) < limit and holder_is_dead(row[1]):
                            picked.append((row[0], int(row[2])))
            taken: list[tuple[str, int]] = []
            for tenant, generation in picked:
                # The generation check makes the take safe on any back-end: a row another
                # worker took meanwhile (not locked: the dead-holder rows) updates nothing.
                cur = tx.execute(
                    "UPDATE leases SET holder=?, host=?, pid=?, since=?, expires_at=?, "
                    "generation=? WHERE tenant=? AND generation=?",
                    (self._holder, host, pid, now, now + ttl, generation + 1, tenant, generation),
                )
                if cur.rowcount != 1:
                    continue
                tx.execute(
                    "UPDATE runs SET outcome='interrupted', ended_at=?, error=? "
                    "WHERE tenant=? AND outcome='running'",
                    (
                        self._stamp(),
                        "interrupted: its process stopped before the run ended",
                        tenant,
                    ),
                )
                taken.append((tenant, generation + 1))
        for tenant, generation in taken:
            self._held_generations[tenant] = generation
        return taken

    def check_lease(self, tenant: str) -> None:
        """Raise :class:`LeaseLost` unless this store still holds ``tenant``'s lease and it has
        not expired: asked right before a letter goes out, so a holder paused past its lease
        (SIGSTOP, a long GC pause) sends nothing when it wakes, even before its next journal
        write would be refused. A store holding no lease passes when no live process holds it."""
        conn = self._conn()
        self._fence(conn, tenant)
        generation = self._held_generations.get(tenant)
        if generation is None:
            return
        row = conn.execute("SELECT expires_at FROM leases WHERE tenant=?", (tenant,)).fetchone()
        if row is not None and float(row[0]) < self.shared_time():
            raise LeaseLost(
                f"tenant {tenant}: lease expired (generation {generation}; this process was "
                "paused past it): nothing sent"
            )

    def release_claimed(self, tenant: str, next_due_in: float) -> bool:
        """Give up a claimed lease and set when the tenant is next due (``next_due_in`` seconds
        from now). False, and nothing changed, when another holder took it over meanwhile."""
        generation = self._held_generations.pop(tenant, None)
        if generation is None:
            return False
        with self.transaction(immediate=True) as tx:
            cur = tx.execute(
                "UPDATE leases SET expires_at=0 WHERE tenant=? AND holder=? AND generation=?",
                (tenant, self._holder, generation),
            )
            if cur.rowcount != 1:
                return False
            tx.execute(
                "UPDATE tenant_schedule SET next_due=? WHERE tenant=?",
                (self.shared_time() + next_due_in, tenant),
            )
            return True
