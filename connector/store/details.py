"""The detail backlog: records whose list rows lack facts, until a detail read completes them.

A mixin over :class:`connector.store.sqlite.SqliteStore` (see ``connector.cycle.backlog`` for who
reads what when). A row is written when a list pull stores a record the provider flags and
deleted when the record is read in full (or listed again complete), so a restarted sync carries
on with exactly what is left.
"""

from __future__ import annotations

import sqlite3
from collections.abc import Iterable
from contextlib import AbstractContextManager
from typing import TYPE_CHECKING


class DetailsMixin:
    if TYPE_CHECKING:

        def transaction(
            self, immediate: bool = True
        ) -> AbstractContextManager[sqlite3.Connection]: ...

        def _conn(self) -> sqlite3.Connection: ...

        def _stamp(self) -> str: ...

        def _fence(self, conn: sqlite3.Connection, tenant: str) -> None: ...

    def queue_details(self, tenant: str, kind: str, ids: Iterable[str]) -> None:
        """Add records to the backlog (a record already waiting keeps its place and attempts)."""
        now = self._stamp()
        with self.transaction() as tx:
            self._fence(tx, tenant)
            tx.executemany(
                "INSERT INTO detail_backlog (tenant, kind, provider_id, queued_at) "
                "VALUES (?, ?, ?, ?) ON CONFLICT(tenant, kind, provider_id) DO NOTHING",
                [(tenant, kind, i, now) for i in ids],
            )

    def clear_details(self, tenant: str, kind: str, ids: Iterable[str]) -> None:
        with self.transaction() as tx:
            self._fence(tx, tenant)
            tx.executemany(
                "DELETE FROM detail_backlog WHERE tenant=? AND kind=? AND provider_id=?",
                [(tenant, kind, i) for i in ids],
            )

    def detail_failed(self, tenant: str, kind: str, provider_id: str, message: str) -> None:
        with self.transaction() as tx:
            self._fence(tx, tenant)
            tx.execute(
                "UPDATE detail_backlog SET attempts=attempts+1, last_error=? "
                "WHERE tenant=? AND kind=? AND provider_id=?",
                (message, tenant, kind, provider_id),
            )

    def detail_backlog(self, tenant: str) -> dict[str, dict[str, int]]:
        """Per kind, the waiting provider ids with their failed attempts so far."""
        out: dict[str, dict[str, int]] = {}
        cur = self._conn().execute(
            "SELECT kind, provider_id, attempts FROM detail_backlog WHERE tenant=?", (tenant,)
        )
        for kind, provider_id, attempts in cur:
            out.setdefault(kind, {})[provider_id] = attempts
        return out

    def detail_counts(self, tenant: str) -> dict[str, int]:
        cur = self._conn().execute(
            "SELECT kind, COUNT(*) FROM detail_backlog WHERE tenant=? GROUP BY kind", (tenant,)
        )
        return {kind: int(n) for kind, n in cur}
