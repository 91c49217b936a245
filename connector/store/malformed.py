"""Provider records skipped because they did not map, kept until the provider sends them fit.

Each becomes a ``record.malformed`` finding (connector/cycle/validate.py) for as long as it stays
malformed: a record that maps on a later pull is cleared; a full pull of a stream starts its
list afresh. Messages are stored through :func:`connector.scrub.safe_message` (no secret, no
person number, one line).
"""

from __future__ import annotations

import hashlib
import sqlite3
from collections.abc import Iterable
from contextlib import AbstractContextManager
from dataclasses import dataclass
from typing import TYPE_CHECKING

from connector.scrub import safe_message


@dataclass(frozen=True)
class MalformedRecord:
    kind: str  # "customer" | "invoice"
    record_id: str
    message: str
    first_seen: str
    last_seen: str


def _key(record_id: str, message: str) -> str:
    # A record without a usable id is told apart by its message.
    if record_id in ("", "?"):
        return "?" + hashlib.sha256(message.encode("utf-8", "replace")).hexdigest()[:12]
    return record_id


class MalformedMixin:
    if TYPE_CHECKING:

        def transaction(
            self, immediate: bool = True
        ) -> AbstractContextManager[sqlite3.Connection]: ...

        def _conn(self) -> sqlite3.Connection: ...

        def _stamp(self) -> str: ...

        def _fence(self, conn: sqlite3.Connection, tenant: str) -> None: ...

    def note_malformed(self, tenant: str, kind: str, records: Iterable[tuple[str, str]]) -> None:
        """Remember ``(record_id, message)`` records of ``kind`` as skipped."""
        now = self._stamp()
        rows = []
        for record_id, message in records:
            text = safe_message(message, 300)
            rows.append((tenant, kind, _key(safe_message(record_id, 100), text), text, now, now))
        if not rows:
            return
        with self.transaction() as tx:
            self._fence(tx, tenant)
            tx.executemany(
                "INSERT INTO malformed_records VALUES (?, ?, ?, ?, ?, ?) "
                "ON CONFLICT(tenant, kind, record_id) DO UPDATE SET "
                "message=excluded.message, last_seen=excluded.last_seen",
                rows,
            )

    def clear_malformed(self, tenant: str, kind: str, record_ids: Iterable[str] | None) -> None:
        """Forget skipped records of ``kind`` that mapped after all (``None``: all of them)."""
        with self.transaction() as tx:
            self._fence(tx, tenant)
            if record_ids is None:
                tx.execute(
                    "DELETE FROM malformed_records WHERE tenant=? AND kind=?", (tenant, kind)
                )
                return
            tx.executemany(
                "DELETE FROM malformed_records WHERE tenant=? AND kind=? AND record_id=?",
                [(tenant, kind, record_id) for record_id in record_ids],
            )

    def malformed_records(self, tenant: str) -> list[MalformedRecord]:
        rows = self._conn().execute(
            "SELECT kind, record_id, message, first_seen, last_seen FROM malformed_records "
            "WHERE tenant=? ORDER BY kind, record_id",
            (tenant,),
        )
        return [MalformedRecord(*row) for row in rows]
