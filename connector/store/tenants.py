"""Tenants kept in the store (migration 12): one row per tenant, its validated configuration as
JSON text beside its name, provider and country. Credentials are never in it, only the reference
to where they live (``keyring``, ``env:VAR``, ``file:/path``); connector/config.py validates
every row before it is written and again when it is read."""

from __future__ import annotations

import sqlite3
from collections.abc import Sequence
from contextlib import AbstractContextManager
from dataclasses import dataclass
from typing import TYPE_CHECKING


@dataclass(frozen=True)
class StoredTenant:
    name: str
    provider: str
    country: str
    config: str  # JSON object: the tenant's [[tenants]] table as validated
    created_at: str
    updated_at: str


class TenantExists(Exception):
    """Names already in the store (a write without ``replace``); nothing was written."""

    def __init__(self, names: list[str]) -> None:
        super().__init__(", ".join(names))
        self.names = names


class TenantsMixin:
    if TYPE_CHECKING:

        def transaction(
            self, immediate: bool = False
        ) -> AbstractContextManager[sqlite3.Connection]: ...

        def _conn(self) -> sqlite3.Connection: ...

        def _stamp(self) -> str: ...

    def stored_tenants(self) -> list[StoredTenant]:
        """Every tenant kept in the store, by name."""
        cur = self._conn().execute(
            "SELECT name, provider, country, config, created_at, updated_at FROM tenant_configs "
            "ORDER BY name"
        )
        return [StoredTenant(*row) for row in cur]

    def put_tenants(
        self, rows: Sequence[tuple[str, str, str, str]], *, replace: bool = False
    ) -> list[str]:
        """Write (name, provider, country, config JSON) rows in one transaction: all or none.
        Without ``replace`` a name already stored raises :class:`TenantExists` and nothing is
        written (also when another process stores it at the same moment: the insert itself
        decides, not an earlier look). Returns the names that were new."""
        now = self._stamp()
        new: list[str] = []
        taken: list[str] = []
        with self.transaction(immediate=True) as tx:
            for name, provider, country, config in rows:
                inserted = tx.execute(
                    "INSERT INTO tenant_configs "
                    "(name, provider, country, config, created_at, updated_at) "
                    "VALUES (?, ?, ?, ?, ?, ?) ON CONFLICT(name) DO NOTHING RETURNING name",
                    (name, provider, country, config, now, now),
                ).fetchone()
                if inserted is not None:
                    new.append(name)
                elif not replace:
                    taken.append(name)
                else:
                    tx.execute(
                        "UPDATE tenant_configs SET provider=?, country=?, config=?, updated_at=? "
                        "WHERE name=?",
                        (provider, country, config, now, name),
                    )
            if taken:
                raise TenantExists(taken)  # rolls the whole transaction back
        return new

    def remove_tenant_config(self, name: str) -> bool:
        """Forget a stored tenant's configuration (its history stays); True when it was there."""
        with self.transaction(immediate=True) as tx:
            cur = tx.execute("DELETE FROM tenant_configs WHERE name=?", (name,))
            return bool(cur.rowcount)


__all__ = ["StoredTenant", "TenantExists", "TenantsMixin"]
