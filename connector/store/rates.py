"""The ``rates`` table: figures fetched from their publishers by `kravsync rates update`.

A mixin over :class:`connector.store.sqlite.SqliteStore`. Rows are plain dicts here; the policy
(``connector.policy.rates``) gives them meaning.
"""

from __future__ import annotations

import sqlite3
from collections.abc import Iterable
from contextlib import AbstractContextManager
from typing import TYPE_CHECKING, Any


class RatesMixin:
    if TYPE_CHECKING:

        def transaction(
            self, immediate: bool = True
        ) -> AbstractContextManager[sqlite3.Connection]: ...

        def _conn(self) -> sqlite3.Connection: ...

    def stored_rates(self, country: str | None = None) -> list[dict[str, Any]]:
        """Every fetched figure (of ``country``), by country, figure and date."""
        sql = "SELECT country, figure, valid_from, value, source, fetched_at FROM rates"
        params: tuple[Any, ...] = ()
        if country is not None:
            sql += " WHERE country = ?"
            params = (country,)
        rows = self._conn().execute(sql + " ORDER BY country, figure, valid_from", params)
        return [dict(r) for r in rows]

    def put_rates(self, rows: Iterable[dict[str, Any]]) -> int:
        """Insert or replace fetched figures (keyed by country, figure and valid_from)."""
        count = 0
        with self.transaction(immediate=True) as conn:
            for r in rows:
                conn.execute(
                    "INSERT INTO rates (country, figure, valid_from, value, source, fetched_at) "
                    "VALUES (?, ?, ?, ?, ?, ?) ON CONFLICT (country, figure, valid_from) DO "
                    "UPDATE SET value = excluded.value, source = excluded.source, "
                    "fetched_at = excluded.fetched_at",
                    (
                        r["country"],
                        r["figure"],
                        r["valid_from"],
                        r["value"],
                        r["source"],
                        r["fetched_at"],
                    ),
                )
                count += 1
        return count
