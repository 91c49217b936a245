"""Store tables beyond the synced records: findings, the registry cache, the action journal, notes.

A mixin over :class:`connector.store.sqlite.SqliteStore` (it uses its ``transaction`` and
``_conn``), kept apart so each file has one job.
"""

from __future__ import annotations

import json
import sqlite3
from collections.abc import Iterable, Iterator
from contextlib import AbstractContextManager
from dataclasses import dataclass, field
from datetime import date, datetime, timedelta
from typing import TYPE_CHECKING, Any, Protocol

from connector.models import ActionState, Note, NoteKind, ReminderAction
from connector.scrub import safe_message
from connector.store.locking import KeyLocks


class FindingLike(Protocol):
    customer_id: str | None
    customer_number: str | None
    customer_name: str | None
    code: str
    field: str
    severity: str
    message: str

    @property
    def blocks(self) -> tuple[Any, ...]: ...


@dataclass(frozen=True)
class FindingChange:
    new: int
    still_open: int
    resolved: int


@dataclass(frozen=True)
class JournalEntry:
    action: ReminderAction
    state: ActionState
    sent_on: date | None
    reference: str | None
    message: str | None
    attempts: int
    updated_at: datetime


@dataclass(frozen=True)
class ActionCounts:
    """A tenant's journal by state. ``stuck``: pending for longer than the threshold (not
    counted in ``pending``); ``oldest``: per state, when its oldest action last moved."""

    done: int = 0
    pending: int = 0
    failed: int = 0
    stuck: int = 0
    skipped: int = 0
    oldest: dict[str, datetime] = field(default_factory=dict)

    @property
    def alarming(self) -> bool:
        """Failed or stuck actions: someone has to look (exit code, /healthz)."""
        return bool(self.failed or self.stuck)

    def oldest_age(
        self, now: datetime, states: Iterable[str] = ("failed", "stuck", "pending")
    ) -> timedelta | None:
        found = [self.oldest[s] for s in states if s in self.oldest]
        return now - min(found) if found else None


REARMED = "re-armed by hand: decided again on fresh facts before any push"


def _entry(r: sqlite3.Row) -> JournalEntry:
    return JournalEntry(
        action=ReminderAction.model_validate_json(r["data"]),
        state=ActionState(r["state"]),
        sent_on=date.fromisoformat(r["sent_on"]) if r["sent_on"] else None,
        reference=r["reference"],
        message=r["message"],
        attempts=r["attempts"],
        updated_at=datetime.fromisoformat(r["updated_at"]),
    )


def _subject(f: FindingLike) -> str:
    # Findings without a customer (an invoice whose customer is unknown) are told apart by text.
    return f.customer_id if f.customer_id else f"-:{f.message}"


class RecordsMixin(KeyLocks):
    if TYPE_CHECKING:

        def transaction(
            self, immediate: bool = True
        ) -> AbstractContextManager[sqlite3.Connection]: ...

        def _conn(self) -> sqlite3.Connection: ...

        def _stamp(self) -> str: ...

        def _fence(self, conn: sqlite3.Connection, tenant: str) -> None: ...

    def _fence_key(self, conn: sqlite3.Connection, key: str) -> None:
        """The lease fence for the tenant of the journalled action ``key``."""
        row = conn.execute("SELECT tenant FROM actions WHERE key=?", (key,)).fetchone()
        if row is not None:
            self._fence(conn, row["tenant"])

    # -- findings -----------------------------------------------------------------------------
    def replace_findings(
        self, tenant: str, findings: Iterable[FindingLike], keep: set[str] | None = None
    ) -> FindingChange:
        """Store this sync's findings: new ones, ones still open, and resolve the rest, except
        those on the customers in ``keep`` (not checked this time)."""
        now = self._stamp()
        current = {(_subject(f), f.code, f.field): f for f in findings}
        with self.transaction(immediate=True) as tx:  # reads, then writes: take the lock first
            self._fence(tx, tenant)
            self._lock(tx, f"findings:{tenant}")
            open_keys = {
                (r["subject"], r["code"], r["field"])
                for r in tx.execute(
                    "SELECT subject, code, field FROM findings WHERE tenant=? AND resolved_at IS NULL",
                    (tenant,),
                )
            }
            new = 0
            for key, f in current.items():
                new += key not in open_keys
                tx.execute(
                    "INSERT INTO findings VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, NULL) "
                    "ON CONFLICT(tenant, subject, code, field) DO UPDATE SET "
                    "customer_id=excluded.customer_id, customer_number=excluded.customer_number, "
                    "customer_name=excluded.customer_name, severity=excluded.severity, "
                    "message=excluded.message, blocks=excluded.blocks, last_seen=excluded.last_seen, "
                    "first_seen=CASE WHEN findings.resolved_at IS NULL THEN findings.first_seen "
                    "ELSE excluded.first_seen END, resolved_at=NULL",
                    (
                        tenant,
                        key[0],
                        f.code,
                        f.field,
                        f.customer_id,
                        f.customer_number,
                        f.customer_name,
                        f.severity,
                        f.message,
                        json.dumps([str(getattr(b, "value", b)) for b in f.blocks]),
                        now,
                        now,
                    ),
                )
            gone = {k for k in open_keys - set(current) if not keep or k[0] not in keep}
            tx.executemany(
                "UPDATE findings SET resolved_at=? WHERE tenant=? AND subject=? AND code=? AND field=?",
                [(now, tenant, *key) for key in gone],
            )
        return FindingChange(new=new, still_open=len(current) - new, resolved=len(gone))

    def findings(self, tenant: str, include_resolved: bool = False) -> list[dict[str, Any]]:
        sql = "SELECT * FROM findings WHERE tenant=?"
        if not include_resolved:
            sql += " AND resolved_at IS NULL"
        rows = self._conn().execute(sql + " ORDER BY customer_name, code", (tenant,))
        out = []
        for r in rows:
            row = dict(r)
            row["blocks"] = json.loads(row["blocks"])
            row.pop("subject")
            out.append(row)
        return out

    # -- registry cache (connector.validation.brreg.RegistryCache) -----------------------------
    def registry_get(self, orgnr: str) -> tuple[datetime, dict[str, Any] | int] | None:
        row = (
            self._conn()
            .execute("SELECT fetched_at, value FROM registry_cache WHERE orgnr=?", (orgnr,))
            .fetchone()
        )
        if row is None:
            return None
        return datetime.fromisoformat(row["fetched_at"]), json.loads(row["value"])

    def registry_put(self, orgnr: str, fetched_at: datetime, value: dict[str, Any] | int) -> None:
        with self.transaction() as tx:
            tx.execute(
                "INSERT INTO registry_cache VALUES (?, ?, ?) ON CONFLICT(orgnr) DO UPDATE SET "
                "fetched_at=excluded.fetched_at, value=excluded.value",
                (orgnr, fetched_at.isoformat(), json.dumps(value, ensure_ascii=False)),
            )

    # -- the action journal ---------------------------------------------------------------------
    def journal_begin(self, action: ReminderAction) -> bool:
        """Write ``action`` as pending before any provider call. False when its key is already
        journalled (in any state): the caller must not push it."""
        now = self._stamp()
        with self.transaction(immediate=True) as tx:
            self._fence(tx, action.tenant)
            cur = tx.execute(
                "INSERT INTO actions (key, tenant, invoice_id, invoice_number, customer_id, "
                "stage, sequence, state, planned_on, deadline, fee, interest, compensation, "
                "currency, outstanding, attempts, created_at, updated_at, data) "
                "VALUES (?, ?, ?, ?, ?, ?, ?, 'pending', ?, ?, ?, ?, ?, ?, ?, 1, ?, ?, ?) "
                "ON CONFLICT(key) DO NOTHING",
                (
                    action.idempotency_key,
                    action.tenant,
                    action.invoice_id,
                    action.invoice_number,
                    action.customer_id,
                    action.stage.value,
                    action.sequence,
                    action.planned_on.isoformat(),
                    action.deadline.isoformat() if action.deadline else None,
                    str(action.fee),
                    str(action.interest),
                    str(action.compensation),
                    action.currency,
                    str(action.outstanding),
                    now,
                    now,
                    action.model_dump_json(),
                ),
            )
            return cur.rowcount == 1

    def journal_retry(self, key: str, max_attempts: int) -> bool:
        """Move a failed action back to pending for another try (bounded); True when moved."""
        with self.transaction(immediate=True) as tx:
            self._fence_key(tx, key)
            cur = tx.execute(
                "UPDATE actions SET state='pending', attempts=attempts+1, updated_at=? "
                "WHERE key=? AND state='failed' AND attempts < ?",
                (self._stamp(), key, max_attempts),
            )
            return cur.rowcount == 1

    def journal_entry(self, key: str) -> JournalEntry | None:
        row = self._conn().execute("SELECT * FROM actions WHERE key=?", (key,)).fetchone()
        return None if row is None else _entry(row)

    def journal_replace(self, action: ReminderAction) -> None:
        """A re-armed action's fresh terms (day, deadline, charges), decided again before its
        push; the key stays the same. From then on it is an ordinary pending action: a push cut
        short completes on these terms."""
        with self.transaction() as tx:
            tx.execute(
                "UPDATE actions SET planned_on=?, deadline=?, fee=?, interest=?, compensation=?, "
                "outstanding=?, data=?, updated_at=?, "
                "message='re-armed, decided again on fresh facts; pushing' WHERE key=?",
                (
                    action.planned_on.isoformat(),
                    action.deadline.isoformat() if action.deadline else None,
                    str(action.fee),
                    str(action.interest),
                    str(action.compensation),
                    str(action.outstanding),
                    action.model_dump_json(),
                    self._stamp(),
                    action.idempotency_key,
                ),
            )

    def journal_finish(
        self,
        key: str,
        state: ActionState,
        *,
        sent_on: date | None = None,
        reference: str | None = None,
        message: str | None = None,
    ) -> None:
        with self.transaction(immediate=True) as tx:
            self._fence_key(tx, key)
            tx.execute(
                "UPDATE actions SET state=?, sent_on=COALESCE(?, sent_on), reference=?, message=?, "
                "updated_at=? WHERE key=?",
                (
                    state.value,
                    sent_on.isoformat() if sent_on else None,
                    reference,
                    None if message is None else safe_message(message),
                    self._stamp(),
                    key,
                ),
            )

    def journal(
        self, tenant: str, states: Iterable[ActionState] | None = None
    ) -> Iterator[JournalEntry]:
        sql = "SELECT * FROM actions WHERE tenant=?"
        params: list[Any] = [tenant]
        wanted = [s.value for s in states] if states is not None else None
        if wanted is not None:
            sql += f" AND state IN ({','.join('?' * len(wanted))})"
            params += wanted
        # Read every row first: a caller that writes while it iterates (push's reconciliation)
        # must not hold a read snapshot open, or its BEGIN IMMEDIATE waits on it for ever once
        # another connection (the shared rate budget) has written.
        rows = self._conn().execute(sql + " ORDER BY created_at, key", params).fetchall()
        for r in rows:
            yield _entry(r)

    def action_counts(self, tenant: str, now: datetime, stuck_after: timedelta) -> ActionCounts:
        """The tenant's journal by state; a pending action unmoved for ``stuck_after`` is stuck."""
        limit = now - stuck_after
        counts = {"done": 0, "pending": 0, "failed": 0, "stuck": 0, "skipped": 0}
        oldest: dict[str, datetime] = {}
        rows = self._conn().execute(
            "SELECT state, updated_at FROM actions WHERE tenant=?", (tenant,)
        )
        for r in rows:
            state = r["state"]
            moved = datetime.fromisoformat(r["updated_at"])
            if state == ActionState.PENDING.value and moved <= limit:
                state = "stuck"
            if state not in counts:
                continue
            counts[state] += 1
            if state != "done" and (state not in oldest or moved < oldest[state]):
                oldest[state] = moved
        return ActionCounts(**counts, oldest=oldest)

    def journal_rearm(self, tenant: str, keys: Iterable[str] | None = None) -> list[str]:
        """Move failed actions back to pending with a fresh count of attempts (``kravsync
        actions retry``): the next sync reconciles them with the provider, re-reads the invoice
        and decides again on the fresh facts before anything is sent. ``keys`` None: every
        failed action of the tenant. Returns the keys moved."""
        with self.transaction(immediate=True) as tx:
            sql = "SELECT key FROM actions WHERE tenant=? AND state='failed'"
            params: list[Any] = [tenant]
            wanted = list(keys) if keys is not None else None
            if wanted is not None:
                sql += f" AND key IN ({','.join('?' * len(wanted))})"
                params += wanted
            moved = [r["key"] for r in tx.execute(sql + " ORDER BY key", params)]
            tx.executemany(
                "UPDATE actions SET state='pending', attempts=1, updated_at=?, message=? "
                "WHERE key=? AND state='failed'",
                [(self._stamp(), REARMED, key) for key in moved],
            )
        return moved

    # -- notes and holds ------------------------------------------------------------------------
    def add_note(self, note: Note) -> int:
        with self.transaction(immediate=True) as tx:
            self._fence(tx, note.tenant)
            cur = tx.execute(
                "INSERT INTO notes (tenant, invoice_id, customer_id, kind, text, author, created_at, "
                "until, resolved_at) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?) RETURNING id",
                (
                    note.tenant,
                    note.invoice_id,
                    note.customer_id,
                    note.kind.value,
                    note.text,
                    note.author,
                    note.created_at.isoformat(),
                    note.until.isoformat() if note.until else None,
                    note.resolved_at.isoformat() if note.resolved_at else None,
                ),
            )
            return int(cur.fetchone()[0])

    def resolve_notes(
        self, tenant: str, *, invoice_id: str | None, customer_id: str | None, at: datetime
    ) -> int:
        """Resolve every open hold (dispute, plan, do-not-remind, promise) on the invoice or
        customer; contacts stay as they are."""
        with self.transaction(immediate=True) as tx:
            self._fence(tx, tenant)
            cur = tx.execute(
                "UPDATE notes SET resolved_at=? WHERE tenant=? AND resolved_at IS NULL AND kind != ? "
                "AND ((? IS NOT NULL AND invoice_id=?) OR (? IS NOT NULL AND customer_id=? AND invoice_id IS NULL))",
                (
                    at.isoformat(),
                    tenant,
                    NoteKind.CONTACT.value,
                    invoice_id,
                    invoice_id,
                    customer_id,
                    customer_id,
                ),
            )
            return cur.rowcount

    def notes(self, tenant: str) -> list[Note]:
        rows = self._conn().execute("SELECT * FROM notes WHERE tenant=? ORDER BY id", (tenant,))
        return [
            Note(
                tenant=r["tenant"],
                invoice_id=r["invoice_id"],
                customer_id=r["customer_id"],
                kind=NoteKind(r["kind"]),
                text=r["text"],
                author=r["author"],
                created_at=datetime.fromisoformat(r["created_at"]),
                until=date.fromisoformat(r["until"]) if r["until"] else None,
                resolved_at=datetime.fromisoformat(r["resolved_at"]) if r["resolved_at"] else None,
            )
            for r in rows
        ]
