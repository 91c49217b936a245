"""The state store: tenants, cursors, customers, invoices, runs, findings, journal, locks.

SQLite is the embedded default (one host). The PostgreSQL back-end for several hosts is not
built yet (see README, "Known gaps"); a ``postgresql://`` URL is refused with a clear error.
"""

from __future__ import annotations

from connector.clock import Clock
from connector.store.sqlite import LockTimeout, RunRecord, SqliteStore, TenantStatus

Store = SqliteStore


class StoreError(Exception):
    pass


def open_store(url: str, clock: Clock) -> Store:
    if url.startswith("sqlite:///"):
        return SqliteStore(url[len("sqlite:///") :], clock)
    if url.startswith("postgresql://"):
        raise StoreError(
            "store.url: PostgreSQL is not supported yet in this version; use sqlite:///PATH"
        )
    raise StoreError(f"store.url: unsupported store URL {url.split(':', 1)[0]!r}")


__all__ = ["LockTimeout", "RunRecord", "Store", "StoreError", "TenantStatus", "open_store"]
