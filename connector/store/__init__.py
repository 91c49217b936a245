"""The state store: tenants, cursors, customers, invoices, runs, findings, journal, locks.

SQLite is the embedded default (one host); PostgreSQL (``postgresql://`` or ``postgres://``)
is the store several workers on several hosts share (``connector/store/postgres.py``).
"""

from __future__ import annotations

import sqlite3

from connector.clock import Clock
from connector.config import Config
from connector.files import FileError
from connector.store.leases import LeaseHolder, LeaseLost
from connector.store.sqlite import LockTimeout, RunRecord, SqliteStore, StoreBusy, TenantStatus

Store = SqliteStore


class StoreError(Exception):
    pass


def open_store(url: str, clock: Clock, password: str | None = None) -> Store:
    """The store at ``url``; any path that cannot be one is a StoreError of one line.

    ``password`` (PostgreSQL) is where the password comes from when the URL holds none:
    ``env:VAR``, ``keyring`` (the keyring entry ``store``) or ``keyring:ENTRY``."""
    if url.startswith("sqlite:///"):
        return _open_sqlite(url[len("sqlite:///") :], clock)
    if url.startswith(("postgresql://", "postgres://")):
        return _open_postgres(url, clock, password)
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


def _open_postgres(url: str, clock: Clock, password: str | None) -> Store:
    from connector.store.postgres import open_postgres

    return open_postgres(url, clock, password, StoreError)


def open_configured_store(config: Config, clock: Clock) -> Store:
    """The store ``config`` names (``[store] url`` and ``password``); a StoreError names the
    config file too."""
    try:
        return open_store(config.store_url(), clock, config.store.password)
    except StoreError as exc:
        if config.source is None:
            raise
        raise StoreError(f"{config.source}: {exc}") from None


__all__ = [
    "LeaseHolder",
    "LeaseLost",
    "LockTimeout",
    "RunRecord",
    "Store",
    "StoreBusy",
    "StoreError",
    "TenantStatus",
    "open_configured_store",
    "open_store",
]
