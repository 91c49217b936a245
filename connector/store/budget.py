"""Request budgets shared by every process on a provider credential (``rate_budget``).

A mixin over :class:`connector.store.sqlite.SqliteStore`. One row per request: in flight until
it ends, then counted in the sliding window for ``period`` more seconds. Each check-and-take is one
``BEGIN IMMEDIATE`` transaction, so two processes never both take the last place. Times are host
time (seconds since the epoch), shared by the processes on this host.
"""

from __future__ import annotations

import sqlite3
from contextlib import AbstractContextManager
from typing import TYPE_CHECKING

from connector.store.leases import holder_is_dead
from connector.store.locking import KeyLocks
from connector.store.shared_time import SharedTime
from connector.store.workers import STALE_BEATS

# A start never ended after this long is a crashed process's (a request's deadline is 60 s);
# one of a process on this host that no longer runs is ended at once.
STALE_SECONDS = 120.0


class BudgetMixin(KeyLocks, SharedTime):
    if TYPE_CHECKING:
        _holder: str

        def transaction(
            self, immediate: bool = True
        ) -> AbstractContextManager[sqlite3.Connection]: ...

    def budget_take(
        self, key: str, max_calls: int, period: float, max_concurrent: int | None
    ) -> tuple[int | None, float]:
        """Take a place for one request start: ``(id, 0)``, or ``(None, seconds to wait)``.

        A request holds its place from its start until ``period`` after it *ended*: the server
        saw it somewhere in between, so any ``max_calls + 1`` requests reach the server at least
        ``period`` apart however late each one was sent or handled (a process paused on a busy
        host included)."""
        now = self.shared_time()
        with self.transaction(immediate=True) as tx:
            self._lock(tx, f"budget:{key}")
            tx.execute(
                "DELETE FROM rate_budget WHERE key=? AND (ended_at < ? OR started_at < ?)",
                (key, now - period, now - STALE_SECONDS),
            )
            # A request of a process that died (SIGKILL) never ends by itself: end it now; so
            # does one of a daemon worker gone silent (paused, its host gone; see workers.py),
            # whose tenants another worker on this credential takes over meanwhile.
            silent = {
                r[0]
                for r in tx.execute(
                    "SELECT id FROM workers WHERE heartbeat_at < ? - heartbeat_seconds * ?",
                    (now, STALE_BEATS),
                )
            }
            for (holder,) in tx.execute(
                "SELECT DISTINCT holder FROM rate_budget WHERE key=? AND ended_at IS NULL",
                (key,),
            ).fetchall():
                if holder in silent or holder_is_dead(holder):
                    tx.execute(
                        "UPDATE rate_budget SET ended_at=? WHERE key=? AND holder=? "
                        "AND ended_at IS NULL",
                        (now, key, holder),
                    )
            ends = [
                r[0]
                for r in tx.execute(
                    "SELECT ended_at FROM rate_budget WHERE key=? "
                    "ORDER BY ended_at IS NULL, ended_at",
                    (key,),
                )
            ]
            in_flight = sum(end is None for end in ends)
            if len(ends) >= max_calls:
                frees = ends[len(ends) - max_calls]  # the place that must end first
                return None, 0.01 if frees is None else max(frees + period - now, 0.001)
            if max_concurrent and in_flight >= max_concurrent:
                return None, 0.01
            cur = tx.execute(
                "INSERT INTO rate_budget (key, started_at, holder) VALUES (?, ?, ?) RETURNING id",
                (key, now, self._holder),
            )
            return int(cur.fetchone()[0]), 0.0

    def budget_give_back(self, place: int) -> None:
        """The request that took ``place`` is over (its start still counts in the window)."""
        with self.transaction(immediate=True) as tx:
            tx.execute("UPDATE rate_budget SET ended_at=? WHERE id=?", (self.shared_time(), place))
