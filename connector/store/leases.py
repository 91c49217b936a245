"""Tenant leases with a generation number, and the fence every journal write passes.

A mixin over :class:`connector.store.sqlite.SqliteStore`. One row per tenant in ``leases``:
who holds it (host, pid, since), until when, and a generation that grows by one with every
acquisition. A writer remembers the generation it took; :meth:`LeasesMixin._fence`, called
inside the writer's own write transaction, refuses the write (:class:`LeaseLost`) once another
process has taken the lease since. Plain SQL, so a PostgreSQL store can reuse it (issue 14).
"""

from __future__ import annotations

import os
import socket
import sqlite3
from contextlib import AbstractContextManager
from dataclasses import dataclass
from datetime import datetime
from typing import TYPE_CHECKING

from connector.store.locking import KeyLocks
from connector.store.shared_time import SharedTime


class LeaseLost(Exception):
    """This process no longer holds the tenant's lease: another took it over."""


@dataclass(frozen=True)
class LeaseHolder:
    """Who holds a tenant's lease (the store's shared time: seconds since the epoch)."""

    tenant: str
    holder: str
    host: str
    pid: int
    since: float
    expires_at: float
    generation: int

    def describe(self) -> str:
        """``host H pid P since 2026-12-01 20:47:56 CET``: the holder in local time with zone."""
        since = datetime.fromtimestamp(self.since).astimezone()
        return f"host {self.host} pid {self.pid} since {since:%Y-%m-%d %H:%M:%S %Z}"


def holder_is_dead(holder: str) -> bool:
    """Whether a holder ("host:pid:...") is a process on this host that no longer runs.

    Lets a crashed process's locks and leases be taken over at once on the same host instead of
    after their expiry; holders on other hosts are only ever released by expiry."""
    host, _, rest = holder.partition(":")
    pid_text = rest.split(":", 1)[0]
    if host != socket.gethostname() or not pid_text.isdigit():
        return False
    try:
        os.kill(int(pid_text), 0)
    except ProcessLookupError:
        return True
    except PermissionError:
        return False
    return False


def _holder_of(tenant: str, row: sqlite3.Row) -> LeaseHolder:
    return LeaseHolder(
        tenant=tenant,
        holder=row["holder"],
        host=row["host"],
        pid=row["pid"],
        since=row["since"],
        expires_at=row["expires_at"],
        generation=row["generation"],
    )


class LeasesMixin(KeyLocks, SharedTime):
    if TYPE_CHECKING:
        _holder: str
        _held_generations: dict[str, int]

        def transaction(
            self, immediate: bool = True
        ) -> AbstractContextManager[sqlite3.Connection]: ...

        def _conn(self) -> sqlite3.Connection: ...

        def _stamp(self) -> str: ...

    def _generations(self) -> dict[str, int]:
        """The generation this store object holds, per tenant (shared by its threads)."""
        return self._held_generations

    def take_lease(self, tenant: str, ttl: float) -> tuple[int | None, LeaseHolder | None]:
        """Take ``tenant``'s lease: ``(generation, None)``, or ``(None, holder)`` when another
        live process holds it. Taking it closes the runs a dead holder left ``running``."""
        now = self.shared_time()
        host, pid = socket.gethostname(), os.getpid()
        with self.transaction(immediate=True) as tx:
            self._lock(tx, f"lease:{tenant}")  # the row may not exist yet: nothing to lock
            row = tx.execute(
                f"SELECT * FROM leases WHERE tenant=?{self.FOR_UPDATE}", (tenant,)
            ).fetchone()
            previous = _holder_of(tenant, row) if row is not None else None
            if (
                previous is not None
                and previous.expires_at >= now
                and not holder_is_dead(previous.holder)
            ):
                return None, previous
            generation = (previous.generation if previous is not None else 0) + 1
            tx.execute(
                "INSERT INTO leases VALUES (?, ?, ?, ?, ?, ?, ?) ON CONFLICT(tenant) DO UPDATE SET "
                "holder=excluded.holder, host=excluded.host, pid=excluded.pid, "
                "since=excluded.since, expires_at=excluded.expires_at, "
                "generation=excluded.generation",
                (tenant, self._holder, host, pid, now, now + ttl, generation),
            )
            tx.execute(
                "UPDATE runs SET outcome='interrupted', ended_at=?, error=? "
                "WHERE tenant=? AND outcome='running'",
                (self._stamp(), "interrupted: its process stopped before the run ended", tenant),
            )
        self._generations()[tenant] = generation
        return generation, None

    def renew_tenant_lease(self, tenant: str, ttl: float) -> bool:
        """Extend the lease this store holds; False when it was taken over meanwhile."""
        generation = self._generations().get(tenant)
        if generation is None:
            return False
        with self.transaction(immediate=True) as tx:
            cur = tx.execute(
                "UPDATE leases SET expires_at=? WHERE tenant=? AND holder=? AND generation=?",
                (self.shared_time() + ttl, tenant, self._holder, generation),
            )
            return cur.rowcount == 1

    def release_tenant_lease(self, tenant: str) -> None:
        """Give the lease up (its generation stays, so the next holder's is higher)."""
        generation = self._generations().pop(tenant, None)
        if generation is None:
            return
        with self.transaction(immediate=True) as tx:
            tx.execute(
                "UPDATE leases SET expires_at=0 WHERE tenant=? AND holder=? AND generation=?",
                (tenant, self._holder, generation),
            )

    def lease_holder(self, tenant: str) -> LeaseHolder | None:
        row = self._conn().execute("SELECT * FROM leases WHERE tenant=?", (tenant,)).fetchone()
        return _holder_of(tenant, row) if row is not None else None

    def _fence(self, conn: sqlite3.Connection, tenant: str) -> None:
        """Refuse a write about ``tenant`` (raise :class:`LeaseLost`) unless this store still
        holds the lease generation it took, or, holding none, no other live process holds it.
        Call it inside the write transaction before writing: on PostgreSQL the lease row stays
        locked for share until the write commits, so no take-over lands in between."""
        row = conn.execute(
            f"SELECT * FROM leases WHERE tenant=?{self.FOR_SHARE}", (tenant,)
        ).fetchone()
        generation = self._generations().get(tenant)
        if generation is not None:
            if row is None or row["generation"] != generation or row["holder"] != self._holder:
                now = _holder_of(tenant, row).describe() if row is not None else "nobody"
                raise LeaseLost(
                    f"tenant {tenant}: lease lost (generation {generation} is no longer "
                    f"current; now held by {now}): nothing written"
                )
            return
        if row is None or row["holder"] == self._holder:
            return
        current = _holder_of(tenant, row)
        if current.expires_at >= self.shared_time() and not holder_is_dead(current.holder):
            raise LeaseLost(
                f"tenant {tenant}: held by another kravsync process ({current.describe()}): "
                "nothing written"
            )
