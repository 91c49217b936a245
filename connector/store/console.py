"""What the web console keeps and reads: users, review decisions, paged customer and journal
queries (migrations 10 and 11)."""

from __future__ import annotations

import sqlite3
from collections.abc import Iterator
from contextlib import AbstractContextManager
from dataclasses import dataclass
from datetime import datetime
from typing import TYPE_CHECKING, Any

ROLES = ("viewer", "approver", "admin")
DECISIONS = ("approved", "skipped", "held")


@dataclass(frozen=True)
class ConsoleUser:
    name: str
    role: str
    password_hash: str
    language: str

    def may(self, role: str) -> bool:
        """Whether this user has at least ``role`` (viewer < approver < admin)."""
        return ROLES.index(self.role) >= ROLES.index(role)


@dataclass(frozen=True)
class ReviewDecision:
    action_key: str
    decision: str
    fingerprint: str
    author: str
    decided_at: datetime


class ConsoleMixin:
    if TYPE_CHECKING:

        def transaction(
            self, immediate: bool = False
        ) -> AbstractContextManager[sqlite3.Connection]: ...

        def _conn(self) -> sqlite3.Connection: ...

        def _stamp(self) -> str: ...

    # -- users ----------------------------------------------------------------------------------
    def put_user(self, name: str, role: str, password_hash: str, language: str = "en") -> bool:
        """Add or update a console user; True when added."""
        if role not in ROLES:
            raise ValueError(f"role must be one of {', '.join(ROLES)}")
        now = self._stamp()
        with self.transaction(immediate=True) as tx:
            cur = tx.execute(
                "UPDATE console_users SET role=?, password_hash=?, language=?, updated_at=? "
                "WHERE name=?",
                (role, password_hash, language, now, name),
            )
            if cur.rowcount:
                return False
            tx.execute(
                "INSERT INTO console_users VALUES (?, ?, ?, ?, ?, ?)",
                (name, role, password_hash, language, now, now),
            )
            return True

    def console_user(self, name: str) -> ConsoleUser | None:
        r = self._conn().execute("SELECT * FROM console_users WHERE name=?", (name,)).fetchone()
        if r is None:
            return None
        return ConsoleUser(r["name"], r["role"], r["password_hash"], r["language"])

    def console_users(self) -> list[ConsoleUser]:
        rows = self._conn().execute("SELECT * FROM console_users ORDER BY name")
        return [ConsoleUser(r["name"], r["role"], r["password_hash"], r["language"]) for r in rows]

    # -- review decisions -----------------------------------------------------------------------
    def add_decisions(
        self, tenant: str, rows: list[tuple[str, str, str | None, str]], decision: str, author: str
    ) -> None:
        """``rows``: (action key, invoice id, customer id, fingerprint) each decided alike."""
        if decision not in DECISIONS:
            raise ValueError(f"decision must be one of {', '.join(DECISIONS)}")
        now = self._stamp()
        with self.transaction(immediate=True) as tx:
            tx.executemany(
                "INSERT INTO approvals (tenant, action_key, invoice_id, customer_id, decision, "
                "fingerprint, author, decided_at) VALUES (?, ?, ?, ?, ?, ?, ?, ?)",
                [(tenant, k, inv, cust, decision, fp, author, now) for k, inv, cust, fp in rows],
            )

    def latest_decisions(self, tenant: str) -> dict[str, ReviewDecision]:
        """The last decision per action key."""
        rows = self._conn().execute(
            "SELECT a.* FROM approvals a JOIN (SELECT action_key, MAX(id) AS id FROM approvals "
            "WHERE tenant=? GROUP BY action_key) m ON a.id = m.id",
            (tenant,),
        )
        return {
            r["action_key"]: ReviewDecision(
                r["action_key"],
                r["decision"],
                r["fingerprint"],
                r["author"],
                datetime.fromisoformat(r["decided_at"]),
            )
            for r in rows
        }

    def decision_log(self, tenant: str, limit: int = 200) -> list[sqlite3.Row]:
        return list(
            self._conn().execute(
                "SELECT a.*, i.number AS invoice_number FROM approvals a LEFT JOIN invoices i "
                "ON i.tenant = a.tenant AND i.provider_id = a.invoice_id "
                "WHERE a.tenant=? ORDER BY a.id DESC LIMIT ?",
                (tenant, limit),
            )
        )

    # -- paged reads ----------------------------------------------------------------------------
    def action_rows(
        self, tenant: str, state: str | None, offset: int, limit: int
    ) -> tuple[int, list[sqlite3.Row]]:
        """The action journal, newest first: (total, one page)."""
        where, params = "tenant=?", [tenant]
        if state:
            where += " AND state=?"
            params.append(state)
        conn = self._conn()
        total = conn.execute(f"SELECT COUNT(*) FROM actions WHERE {where}", params).fetchone()[0]
        rows = conn.execute(
            f"SELECT key, invoice_number, customer_id, stage, sequence, state, planned_on, "
            f"deadline, sent_on, fee, interest, currency, outstanding, reference, message, "
            f"attempts, updated_at FROM actions WHERE {where} "
            "ORDER BY updated_at DESC, key LIMIT ? OFFSET ?",
            [*params, limit, offset],
        )
        return int(total), list(rows)

    def action_counts(self, tenant: str) -> dict[str, int]:
        rows = self._conn().execute(
            "SELECT state, COUNT(*) FROM actions WHERE tenant=? GROUP BY state", (tenant,)
        )
        return {r[0]: int(r[1]) for r in rows}

    def customer_actions(self, tenant: str, customer_id: str) -> list[sqlite3.Row]:
        return list(
            self._conn().execute(
                "SELECT * FROM actions WHERE tenant=? AND customer_id=? ORDER BY created_at DESC",
                (tenant, customer_id),
            )
        )

    def customer_balances(self, tenant: str, today: str) -> Iterator[sqlite3.Row]:
        """Per customer with open invoices and currency: the amounts open and overdue (as text:
        the caller adds them up in Decimal), the oldest due date, the count."""
        return self._conn().execute(
            "SELECT customer_id, currency, GROUP_CONCAT(outstanding, ' ') AS amounts, "
            "GROUP_CONCAT(CASE WHEN due_date < ? THEN outstanding END, ' ') AS overdue, "
            "MIN(due_date) AS oldest_due, COUNT(*) AS n FROM invoices "
            "WHERE tenant=? AND status='open' AND CAST(outstanding AS REAL) > 0 "
            "GROUP BY customer_id, currency",
            (today, tenant),
        )

    def customer_rows(self, tenant: str, search: str) -> list[sqlite3.Row]:
        """Customers (id, number, name, org number) matching ``search`` in number or name."""
        sql = "SELECT provider_id, number, name, org_number FROM customers WHERE tenant=?"
        params: list[Any] = [tenant]
        if search:
            sql += " AND (name LIKE ? ESCAPE '\\' OR number LIKE ? ESCAPE '\\')"
            like = "%" + search.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_") + "%"
            params += [like, like]
        return list(self._conn().execute(sql + " ORDER BY name, provider_id", params))

    def customer_invoices(self, tenant: str, customer_id: str) -> list[sqlite3.Row]:
        return list(
            self._conn().execute(
                "SELECT data FROM invoices WHERE tenant=? AND customer_id=? "
                "ORDER BY due_date, provider_id",
                (tenant, customer_id),
            )
        )

    def finding_rows(self, tenant: str, *, resolved: bool = False) -> list[sqlite3.Row]:
        sql = "SELECT * FROM findings WHERE tenant=?"
        sql += " AND resolved_at IS NOT NULL" if resolved else " AND resolved_at IS NULL"
        return list(
            self._conn().execute(sql + " ORDER BY severity, code, customer_name", (tenant,))
        )
