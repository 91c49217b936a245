"""The local step journal: each customer-visible step of a push route, recorded the moment the
provider confirmed it (see ``providers.base.StepRecorder``), and the re-keying of a tenant's
journal onto its provider account.

A mixin over :class:`connector.store.sqlite.SqliteStore`; every write is ``BEGIN IMMEDIATE``.
"""

from __future__ import annotations

import json
import sqlite3
from contextlib import AbstractContextManager
from dataclasses import dataclass
from datetime import date
from typing import TYPE_CHECKING, Any

from connector.models import ReminderAction
from providers.base import StepRecord


@dataclass(frozen=True)
class OwnReminder:
    """A reminder that a step of kravsync's own left in the provider's reminder record."""

    key: str
    invoice_id: str
    on: date


class StepsMixin:
    if TYPE_CHECKING:

        def transaction(
            self, immediate: bool = False
        ) -> AbstractContextManager[sqlite3.Connection]: ...

        def _conn(self) -> sqlite3.Connection: ...

        def _stamp(self) -> str: ...

        def _fence(self, conn: sqlite3.Connection, tenant: str) -> None: ...

    def step_get(self, key: str, step: str) -> StepRecord | None:
        row = (
            self._conn()
            .execute("SELECT * FROM action_steps WHERE key=? AND step=?", (key, step))
            .fetchone()
        )
        if row is None:
            return None
        return StepRecord(
            key=row["key"],
            step=row["step"],
            on=date.fromisoformat(row["done_on"]),
            detail=json.loads(row["detail"]),
            blob=row["blob"],
        )

    def step_record(
        self,
        tenant: str,
        key: str,
        step: str,
        *,
        invoice_id: str,
        on: date,
        detail: dict[str, Any] | None = None,
        blob: bytes | None = None,
        own_reminder: bool = False,
    ) -> None:
        """Record a confirmed step; a step already recorded keeps its first record."""
        with self.transaction(immediate=True) as tx:
            self._fence(tx, tenant)
            tx.execute(
                "INSERT INTO action_steps (key, step, tenant, invoice_id, done_on, own_reminder, "
                "detail, blob, recorded_at) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?) "
                "ON CONFLICT(key, step) DO NOTHING",
                (
                    key,
                    step,
                    tenant,
                    invoice_id,
                    on.isoformat(),
                    int(own_reminder),
                    json.dumps(detail or {}, ensure_ascii=False, default=str),
                    blob,
                    self._stamp(),
                ),
            )

    def steps_of(self, key: str) -> list[StepRecord]:
        rows = self._conn().execute(
            "SELECT * FROM action_steps WHERE key=? ORDER BY recorded_at, step", (key,)
        )
        return [
            StepRecord(
                r["key"], r["step"], date.fromisoformat(r["done_on"]), json.loads(r["detail"])
            )
            for r in rows
        ]

    def own_reminders(self, tenant: str) -> list[OwnReminder]:
        """Reminders kravsync's own steps registered at the provider (never a second sender)."""
        rows = self._conn().execute(
            "SELECT key, invoice_id, done_on FROM action_steps WHERE tenant=? AND own_reminder=1 "
            "ORDER BY done_on, key",
            (tenant,),
        )
        return [
            OwnReminder(r["key"], r["invoice_id"], date.fromisoformat(r["done_on"])) for r in rows
        ]

    def rekey_journal(self, tenant: str, account: str) -> int:
        """Move ``tenant``'s journal rows (and their steps) still keyed by the tenant's name onto
        ``account`` (``<provider>:<account id>``); remember the account. Returns rows moved.

        Migration 8 cannot do this in SQL: the provider account is known only once the tenant's
        provider is built. A row whose new key is already journalled is left as it was. Rows of
        this account journalled under another tenant name (the tenant was renamed) are taken
        over, so the history the plan reads carries the letters already sent."""
        moved = 0
        with self.transaction(immediate=True) as tx:
            self._fence(tx, tenant)
            tx.execute("UPDATE tenants SET account=? WHERE name=?", (account, tenant))
            adopted = tx.execute(
                "UPDATE actions SET tenant=?, data=json_set(data, '$.tenant', ?) "
                "WHERE tenant != ? AND json_extract(data, '$.account') = ?",
                (tenant, tenant, tenant, account),
            ).rowcount
            tx.execute(
                "UPDATE action_steps SET tenant=? WHERE tenant != ? AND key IN "
                "(SELECT key FROM actions WHERE tenant=?)",
                (tenant, tenant, tenant),
            )
            moved += adopted
            rows = tx.execute(
                "SELECT key, data FROM actions WHERE tenant=? "
                "AND json_extract(data, '$.account') IS NULL",
                (tenant,),
            ).fetchall()
            for row in rows:
                action = ReminderAction.model_validate_json(row["data"]).model_copy(
                    update={"account": account}
                )
                new = action.idempotency_key
                if tx.execute("SELECT 1 FROM actions WHERE key=?", (new,)).fetchone():
                    continue
                tx.execute(
                    "UPDATE actions SET key=?, data=? WHERE key=?",
                    (new, action.model_dump_json(), row["key"]),
                )
                tx.execute("UPDATE action_steps SET key=? WHERE key=?", (new, row["key"]))
                moved += 1
        return moved

    def tenant_account(self, tenant: str) -> str | None:
        row = self._conn().execute("SELECT account FROM tenants WHERE name=?", (tenant,)).fetchone()
        return row["account"] if row is not None else None


class StoreSteps:
    """The store as one tenant's :class:`providers.base.StepRecorder`."""

    def __init__(self, store: StepsMixin, tenant: str) -> None:
        self.store = store
        self.tenant = tenant

    def get(self, key: str, step: str) -> StepRecord | None:
        """The step as recorded; asked by every provider before it takes a step, so the lease
        is checked here too: a worker paused in the middle of a letter (past its lease) takes
        no further step when it wakes, not only no further letter."""
        check_lease = getattr(self.store, "check_lease", None)
        if check_lease is not None:
            check_lease(self.tenant)
        return self.store.step_get(key, step)

    def record(
        self,
        key: str,
        step: str,
        *,
        invoice_id: str,
        on: date,
        detail: dict[str, Any] | None = None,
        blob: bytes | None = None,
        own_reminder: bool = False,
    ) -> None:
        self.store.step_record(
            self.tenant,
            key,
            step,
            invoice_id=invoice_id,
            on=on,
            detail=detail,
            blob=blob,
            own_reminder=own_reminder,
        )
