"""The state store: tenants, cursors, customers, invoices, runs, findings, journal, locks.

SQLite is the embedded default (one host). The PostgreSQL back-end for several hosts is not
built yet (see README, "Known gaps"); a ``postgresql://`` URL is refused with a clear error.
"""

from __future__ import annotations

import sqlite3

from connector.clock import Clock
from connector.files import FileError
from connector.store.leases import LeaseHolder, LeaseLost
from connector.store.sqlite import LockTimeout, RunRecord, SqliteStore, StoreBusy, TenantStatus

Store = SqliteStore


class StoreError(Exception):
    pass


def open_store(url: str, clock: Clock) -> Store:
    """The store at ``url``; any path that cannot be one is a StoreError of one line."""
    if url.startswith("sqlite:///"):
        return _open_sqlite(url[len("sqlite:///") :], clock)
    if url.startswith("postgresql://"):
        raise StoreError(
            "store.url: PostgreSQL is not supported yet in this version; use sqlite:///PATH"
        )
    raise StoreError(f"store.url: unsupported store URL {url.split(':', 1)[0]!r}")


def _open_sqlite(path: str, clock: Clock) -> Store:
    if not path:
        raise StoreError("store.url: no path after sqlite:/// (e.g. sqlite:///kravsync.db)")
    try:
        return SqliteStore(path, clock)
    except FileError as exc:
        raise StoreError(str(exc)) from None
    except sqlite3.OperationalError as exc:
        raise StoreError(f"store.url: cannot open {path}: {exc}") from None
    except sqlite3.DatabaseError as exc:
        raise StoreError(
            f"store.url: {path} is not a kravsync state store (SQLite: {exc})"
        ) from None
    except (sqlite3.Error, OSError, ValueError) as exc:
        raise StoreError(f"store.url: cannot open {path}: {exc}") from None


__all__ = [
    "LeaseHolder",
    "LeaseLost",
    "LockTimeout",
    "RunRecord",
    "Store",
    "StoreBusy",
    "StoreError",
    "TenantStatus",
    "open_store",
]
