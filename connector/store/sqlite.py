"""The SQLite state store (the embedded default for one host): WAL, one connection per thread."""

from __future__ import annotations

import json
import os
import socket
import sqlite3
import threading
import time
import uuid
from collections.abc import Iterable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import date, datetime
from decimal import Decimal
from typing import Any, TypeVar

from pydantic import BaseModel

from connector.clock import Clock
from connector.files import prepare_store_file
from connector.models import Customer, Invoice, InvoiceStatus
from connector.privacy import masked
from connector.scrub import safe_message
from connector.store.budget import BudgetMixin
from connector.store.console import ConsoleMixin
from connector.store.details import DetailsMixin
from connector.store.leases import LeasesMixin, holder_is_dead
from connector.store.malformed import MalformedMixin
from connector.store.migrations import MIGRATIONS
from connector.store.rates import RatesMixin
from connector.store.records import RecordsMixin
from connector.store.steps import StepsMixin
from connector.store.tenants import TenantsMixin
from connector.store.workers import WorkersMixin

M = TypeVar("M", bound=BaseModel)


BUSY_SECONDS = 120.0  # how long a write waits for another process's write, in all


class LockTimeout(Exception):
    """An advisory lock could not be taken in time."""


class StoreBusy(Exception):
    """Another process kept the store's write lock longer than ``BUSY_SECONDS``."""


@dataclass(frozen=True)
class RunRecord:
    id: int
    tenant: str
    started_at: datetime
    ended_at: datetime | None
    outcome: str
    customers: int
    invoices: int
    skipped: int
    requests: int
    error: str | None


@dataclass(frozen=True)
class TenantStatus:
    tenant: str
    customers: int
    open_invoices: int
    outstanding: dict[str, Decimal]
    overdue: int
    overdue_amount: dict[str, Decimal]
    last_run: RunRecord | None


UPSERT_INVOICES = (
    "INSERT INTO invoices VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?) "
    "ON CONFLICT(tenant, provider_id) DO UPDATE SET number=excluded.number, "
    "customer_id=excluded.customer_id, currency=excluded.currency, "
    "due_date=excluded.due_date, outstanding=excluded.outstanding, "
    "status=excluded.status, data=excluded.data, updated_at=excluded.updated_at"
)


def invoice_row(tenant: str, i: Invoice, stamp: str) -> tuple[Any, ...]:
    """An invoice as the ``invoices`` table's columns, in their order."""
    return (
        tenant,
        i.provider_id,
        i.number,
        i.customer_id,
        i.currency,
        i.due_date.isoformat(),
        str(i.outstanding),
        i.status.value,
        i.model_dump_json(),
        stamp,
    )


def _dt(value: str | None) -> datetime | None:
    return datetime.fromisoformat(value) if value else None


class SqliteStore(
    RecordsMixin,
    RatesMixin,
    MalformedMixin,
    DetailsMixin,
    StepsMixin,
    LeasesMixin,
    WorkersMixin,
    BudgetMixin,
    ConsoleMixin,
    TenantsMixin,
):
    dialect = "sqlite"  # or "postgresql" (connector/store/postgres.py): where SQL must differ

    def __init__(self, path: str, clock: Clock) -> None:
        self.path = path
        self.clock = clock
        if path != ":memory:":
            prepare_store_file(path)  # 0600 in 0700 folders; not a folder, device or pipe
        self._local = threading.local()
        self._holder = f"{socket.gethostname()}:{os.getpid()}:{uuid.uuid4().hex[:8]}"
        self._held_generations: dict[str, int] = {}  # tenant → lease generation held here
        self.migrate()

    def _stamp(self) -> str:
        """The time written into rows (business time: ``--today`` and tests move it)."""
        return self.clock.now().isoformat(timespec="seconds")

    # -- connections --------------------------------------------------------------------------
    def _conn(self) -> sqlite3.Connection:
        conn: sqlite3.Connection | None = getattr(self._local, "conn", None)
        if conn is None:
            conn = sqlite3.connect(self.path, timeout=30.0, isolation_level=None)
            conn.row_factory = sqlite3.Row
            conn.execute("PRAGMA journal_mode=WAL")
            conn.execute("PRAGMA synchronous=NORMAL")
            conn.execute("PRAGMA foreign_keys=ON")
            conn.execute("PRAGMA secure_delete=ON")  # personal data deleted or masked is zeroed
            conn.execute("PRAGMA busy_timeout=30000")
            self._local.conn = conn
        return conn

    @contextmanager
    def transaction(self, immediate: bool = True) -> Iterator[sqlite3.Connection]:
        """A write transaction: ``BEGIN IMMEDIATE`` takes the write lock up front (waiting up to
        the busy timeout), so a transaction that reads then writes never fails half-way with
        "database is locked" when another process writes at the same time."""
        conn = self._conn()
        self._begin(conn, "BEGIN IMMEDIATE" if immediate else "BEGIN")
        try:
            yield conn
        except BaseException:
            conn.execute("ROLLBACK")
            raise
        conn.execute("COMMIT")

    def _begin(self, conn: sqlite3.Connection, statement: str) -> None:
        """``statement``, retried while another writer holds the database beyond the busy
        timeout, up to ``BUSY_SECONDS`` in all; then a one-line :class:`StoreBusy`."""
        deadline = time.monotonic() + BUSY_SECONDS
        while True:
            try:
                conn.execute(statement)
                return
            except sqlite3.OperationalError as exc:
                if "locked" not in str(exc) and "busy" not in str(exc):
                    raise
                if time.monotonic() >= deadline:
                    raise StoreBusy(
                        f"state store {self.path}: another process kept it busy for "
                        f"{BUSY_SECONDS:.0f} s"
                    ) from None
                time.sleep(0.05)

    def close(self) -> None:
        conn = getattr(self._local, "conn", None)
        if conn is not None:
            conn.close()
            self._local.conn = None

    # -- schema -------------------------------------------------------------------------------
    def migrate(self) -> int:
        conn = self._conn()
        conn.execute(
            "CREATE TABLE IF NOT EXISTS schema_version (version INTEGER PRIMARY KEY, "
            "description TEXT NOT NULL, applied_at TEXT NOT NULL)"
        )
        with self.transaction(immediate=True) as tx:
            row = tx.execute("SELECT MAX(version) FROM schema_version").fetchone()
            current = row[0] or 0
            for version, description, sql in MIGRATIONS:
                if version <= current:
                    continue
                for statement in filter(None, (s.strip() for s in sql.split(";"))):
                    tx.execute(statement)
                tx.execute(
                    "INSERT INTO schema_version VALUES (?, ?, ?)",
                    (version, description, self._stamp()),
                )
                current = version
        return int(current)

    def schema_version(self) -> int:
        return int(self._conn().execute("SELECT MAX(version) FROM schema_version").fetchone()[0])

    # -- tenants and cursors ------------------------------------------------------------------
    def ensure_tenant(self, name: str, provider: str, country: str) -> None:
        with self.transaction() as tx:
            tx.execute(
                "INSERT INTO tenants (name, provider, country, created_at) VALUES (?, ?, ?, ?) "
                "ON CONFLICT(name) DO UPDATE SET provider=excluded.provider, country=excluded.country",
                (name, provider, country, self._stamp()),
            )

    def get_cursor(self, tenant: str, stream: str) -> str | None:
        row = (
            self._conn()
            .execute("SELECT value FROM cursors WHERE tenant=? AND stream=?", (tenant, stream))
            .fetchone()
        )
        return row["value"] if row else None

    def set_cursor(self, tenant: str, stream: str, value: str) -> None:
        with self.transaction() as tx:
            self._fence(tx, tenant)
            tx.execute(
                "INSERT INTO cursors VALUES (?, ?, ?, ?) ON CONFLICT(tenant, stream) "
                "DO UPDATE SET value=excluded.value, updated_at=excluded.updated_at",
                (tenant, stream, value, self._stamp()),
            )

    # -- records ------------------------------------------------------------------------------
    def upsert_customers(self, tenant: str, customers: Iterable[Customer]) -> int:
        """Store customers; person numbers are never kept in clear (connector/privacy.py)."""
        now = self._stamp()
        customers = [masked(c) for c in customers]
        rows = [
            (
                tenant,
                c.provider_id,
                c.number,
                c.name,
                c.kind.value,
                c.org_number,
                int(c.active),
                c.model_dump_json(),
                now,
            )
            for c in customers
        ]
        with self.transaction() as tx:
            self._fence(tx, tenant)
            tx.executemany(
                "INSERT INTO customers VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?) "
                "ON CONFLICT(tenant, provider_id) DO UPDATE SET number=excluded.number, "
                "name=excluded.name, kind=excluded.kind, org_number=excluded.org_number, "
                "active=excluded.active, data=excluded.data, updated_at=excluded.updated_at",
                rows,
            )
        return len(rows)

    def upsert_invoices(self, tenant: str, invoices: Iterable[Invoice]) -> int:
        now = self._stamp()
        rows = [invoice_row(tenant, i, now) for i in invoices]
        with self.transaction() as tx:
            self._fence(tx, tenant)
            tx.executemany(UPSERT_INVOICES, rows)
        return len(rows)

    def customers(self, tenant: str) -> Iterator[Customer]:
        cur = self._conn().execute(
            "SELECT data FROM customers WHERE tenant=? ORDER BY provider_id", (tenant,)
        )
        for row in cur:
            yield Customer.model_validate_json(row["data"])

    def _one(self, model: type[M], table: str, where: str, params: tuple[Any, ...]) -> M | None:
        row = self._conn().execute(f"SELECT data FROM {table} WHERE {where}", params).fetchone()
        return model.model_validate_json(row["data"]) if row else None

    def customer(self, tenant: str, provider_id: str) -> Customer | None:
        return self._one(Customer, "customers", "tenant=? AND provider_id=?", (tenant, provider_id))

    def invoices(self, tenant: str, *, open_only: bool = False) -> Iterator[Invoice]:
        sql = "SELECT data FROM invoices WHERE tenant=?"
        if open_only:
            sql += " AND status='open'"
        cur = self._conn().execute(sql + " ORDER BY due_date, provider_id", (tenant,))
        for row in cur:
            yield Invoice.model_validate_json(row["data"])

    def invoice(self, tenant: str, provider_id: str) -> Invoice | None:
        return self._one(Invoice, "invoices", "tenant=? AND provider_id=?", (tenant, provider_id))

    def find_invoice(self, tenant: str, ref: str) -> Invoice | None:
        """An invoice by provider id or by invoice number (what a user types)."""
        return self.invoice(tenant, ref) or self._one(
            Invoice, "invoices", "tenant=? AND number=?", (tenant, ref)
        )

    def open_invoice_ids(self, tenant: str) -> set[str]:
        cur = self._conn().execute(
            "SELECT provider_id FROM invoices WHERE tenant=? AND status=?",
            (tenant, InvoiceStatus.OPEN.value),
        )
        return {row[0] for row in cur}

    # -- runs ---------------------------------------------------------------------------------
    def begin_run(self, tenant: str) -> int:
        with self.transaction() as tx:
            cur = tx.execute(
                "INSERT INTO runs (tenant, started_at, outcome) VALUES (?, ?, 'running') RETURNING id",
                (tenant, self._stamp()),
            )
            return int(cur.fetchone()[0])

    def finish_run(
        self,
        run_id: int,
        outcome: str,
        *,
        customers: int = 0,
        invoices: int = 0,
        skipped: int = 0,
        requests: int = 0,
        error: str | None = None,
    ) -> None:
        with self.transaction() as tx:
            tx.execute(
                "UPDATE runs SET ended_at=?, outcome=?, customers=?, invoices=?, skipped=?, "
                "requests=?, error=? WHERE id=?",
                (
                    self._stamp(),
                    outcome,
                    customers,
                    invoices,
                    skipped,
                    requests,
                    None if error is None else safe_message(error),
                    run_id,
                ),
            )

    def fail_run(self, run_id: int, error: str) -> None:
        """Mark a run failed with a one-line ``error``, keeping what it counted so far."""
        with self.transaction() as tx:
            tx.execute(
                "UPDATE runs SET ended_at=?, outcome='failed', error=? WHERE id=?",
                (self._stamp(), safe_message(error), run_id),
            )

    def set_run_notes(self, run_id: int, notes: list[str]) -> None:
        with self.transaction() as tx:
            tx.execute(
                "UPDATE runs SET notes=? WHERE id=?",
                (json.dumps(notes, ensure_ascii=False), run_id),
            )

    def last_run_notes(self, tenant: str) -> list[str]:
        row = (
            self._conn()
            .execute(
                "SELECT notes FROM runs WHERE tenant=? AND notes IS NOT NULL ORDER BY id DESC LIMIT 1",
                (tenant,),
            )
            .fetchone()
        )
        return list(json.loads(row["notes"])) if row else []

    def customer_count(self, tenant: str) -> int:
        return int(
            self._conn()
            .execute("SELECT COUNT(*) FROM customers WHERE tenant=?", (tenant,))
            .fetchone()[0]
        )

    def find_customer(self, tenant: str, ref: str) -> Customer | None:
        """A customer by provider id or customer number (what a user types)."""
        return self.customer(tenant, ref) or self._one(
            Customer, "customers", "tenant=? AND number=?", (tenant, ref)
        )

    def record_error(self, run_id: int, kind: str, record_id: str, message: str) -> None:
        with self.transaction() as tx:
            tx.execute(
                "INSERT INTO run_errors VALUES (?, ?, ?, ?)",
                (run_id, kind, safe_message(record_id, 100), safe_message(message)),
            )

    def run_errors(self, run_id: int) -> list[tuple[str, str, str]]:
        cur = self._conn().execute(
            "SELECT kind, record_id, message FROM run_errors WHERE run_id=?", (run_id,)
        )
        return [(r[0], r[1], r[2]) for r in cur]

    def last_run(self, tenant: str) -> RunRecord | None:
        row = (
            self._conn()
            .execute("SELECT * FROM runs WHERE tenant=? ORDER BY id DESC LIMIT 1", (tenant,))
            .fetchone()
        )
        if row is None:
            return None
        return RunRecord(
            id=row["id"],
            tenant=row["tenant"],
            started_at=datetime.fromisoformat(row["started_at"]),
            ended_at=_dt(row["ended_at"]),
            outcome=row["outcome"],
            customers=row["customers"],
            invoices=row["invoices"],
            skipped=row["skipped"],
            requests=row["requests"],
            error=row["error"],
        )

    def tenant_status(self, tenant: str, today: date) -> TenantStatus:
        conn = self._conn()
        customers = conn.execute(
            "SELECT COUNT(*) FROM customers WHERE tenant=?", (tenant,)
        ).fetchone()[0]
        outstanding: dict[str, Decimal] = {}
        overdue_amount: dict[str, Decimal] = {}
        open_count = overdue = 0
        cur = conn.execute(
            "SELECT currency, outstanding, due_date FROM invoices WHERE tenant=? AND status=?",
            (tenant, InvoiceStatus.OPEN.value),
        )
        for currency, amount_text, due in cur:
            amount = Decimal(amount_text)
            open_count += 1
            outstanding[currency] = outstanding.get(currency, Decimal(0)) + amount
            if date.fromisoformat(due) < today:
                overdue += 1
                overdue_amount[currency] = overdue_amount.get(currency, Decimal(0)) + amount
        return TenantStatus(
            tenant=tenant,
            customers=customers,
            open_invoices=open_count,
            outstanding=dict(sorted(outstanding.items())),
            overdue=overdue,
            overdue_amount=dict(sorted(overdue_amount.items())),
            last_run=self.last_run(tenant),
        )

    # -- locks --------------------------------------------------------------------------------
    @contextmanager
    def advisory_lock(self, name: str, timeout: float = 60.0, ttl: float = 120.0) -> Iterator[None]:
        """A lock shared by every thread and process on this store; expires if a holder dies."""
        holder = f"{self._holder}:{threading.get_ident()}"
        deadline = time.monotonic() + timeout
        delay = 0.005
        while True:
            now = self.shared_time()
            with self.transaction(immediate=True) as tx:
                self._lock(tx, f"lock:{name}")
                row = tx.execute(
                    "SELECT holder, expires_at FROM locks WHERE name=?", (name,)
                ).fetchone()
                if (
                    row is None
                    or row["expires_at"] < now
                    or row["holder"] == holder
                    or holder_is_dead(row["holder"])
                ):
                    tx.execute(
                        "INSERT INTO locks VALUES (?, ?, ?) ON CONFLICT(name) DO UPDATE SET "
                        "holder=excluded.holder, expires_at=excluded.expires_at",
                        (name, holder, now + ttl),
                    )
                    break
            if time.monotonic() >= deadline:
                raise LockTimeout(f"lock {name!r} is held by another process")
            time.sleep(delay)
            delay = min(delay * 2, 0.2)
        try:
            yield
        finally:
            with self.transaction(immediate=True) as tx:
                tx.execute("DELETE FROM locks WHERE name=? AND holder=?", (name, holder))

    # -- generic key/value for small caches ---------------------------------------------------
    def execute(self, sql: str, params: tuple[Any, ...] = ()) -> list[sqlite3.Row]:
        with self.transaction() as tx:
            return list(tx.execute(sql, params))
