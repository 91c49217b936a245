"""Which write transactions must wait for which: locks per key, not one lock for the store.

SQLite has one writer at a time (``BEGIN IMMEDIATE``), so on SQLite every read-then-write is
atomic already and these are no-ops. PostgreSQL lets writers run side by side (many workers, many
tenants); there a read-then-write names what it must be alone on:

- :meth:`KeyLocks._lock` takes a transaction-level advisory lock on a text key (``lease:T``,
  ``budget:K``, ``lock:NAME``), released at commit or rollback;
- ``FOR_UPDATE`` / ``FOR_SHARE`` end a ``SELECT`` that must lock the rows it read: a lease
  take-over locks the lease row for update, and a fenced write (journal, notes, steps) locks it
  for share, so no take-over commits between the fence check and the write's commit.
"""

from __future__ import annotations

import sqlite3


class KeyLocks:
    FOR_UPDATE = ""  # PostgreSQL: " FOR UPDATE"
    FOR_SHARE = ""  # PostgreSQL: " FOR SHARE"

    def _lock(self, conn: sqlite3.Connection, key: str) -> None:
        """Be alone on ``key`` until this write transaction ends (SQLite: already alone)."""


__all__ = ["KeyLocks"]
