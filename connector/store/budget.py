"""Request budgets shared by every process on a provider credential (``rate_budget``).

A mixin over :class:`connector.store.sqlite.SqliteStore`. One row per request start: a sliding
window of starts per key, and the ones not yet ended (in flight). Each check-and-take is one
``BEGIN IMMEDIATE`` transaction, so two processes never both take the last place. Times are host
time (seconds since the epoch), shared by the processes on this host.
"""

from __future__ import annotations

import sqlite3
from contextlib import AbstractContextManager
from typing import TYPE_CHECKING

from connector.clock import host_time

# A start never ended after this long is a crashed process's (a request's deadline is 60 s).
STALE_SECONDS = 120.0


class BudgetMixin:
    if TYPE_CHECKING:
        _holder: str

        def transaction(
            self, immediate: bool = True
        ) -> AbstractContextManager[sqlite3.Connection]: ...

    def budget_take(
        self, key: str, max_calls: int, period: float, max_concurrent: int | None
    ) -> tuple[int | None, float]:
        """Take a place for one request start: ``(id, 0)``, or ``(None, seconds to wait)``."""
        now = host_time()
        with self.transaction(immediate=True) as tx:
            tx.execute(
                "DELETE FROM rate_budget WHERE key=? AND started_at < ? "
                "AND (ended_at IS NOT NULL OR started_at < ?)",
                (key, now - period, now - STALE_SECONDS),
            )
            starts = [
                r[0]
                for r in tx.execute(
                    "SELECT started_at FROM rate_budget WHERE key=? AND started_at >= ? "
                    "ORDER BY started_at",
                    (key, now - period),
                )
            ]
            if len(starts) >= max_calls:
                return None, max(starts[len(starts) - max_calls] + period - now, 0.001)
            if max_concurrent:
                busy = tx.execute(
                    "SELECT COUNT(*) FROM rate_budget WHERE key=? AND ended_at IS NULL "
                    "AND started_at >= ?",
                    (key, now - STALE_SECONDS),
                ).fetchone()[0]
                if busy >= max_concurrent:
                    return None, 0.01
            cur = tx.execute(
                "INSERT INTO rate_budget (key, started_at, holder) VALUES (?, ?, ?)",
                (key, now, self._holder),
            )
            return int(cur.lastrowid or 0), 0.0

    def budget_give_back(self, place: int) -> None:
        """The request that took ``place`` is over (its start still counts in the window)."""
        with self.transaction(immediate=True) as tx:
            tx.execute("UPDATE rate_budget SET ended_at=? WHERE id=?", (host_time(), place))
