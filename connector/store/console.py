"""What the web console keeps and reads: users, review decisions, paged customer and journal
queries (migrations 10 and 11)."""

from __future__ import annotations

import sqlite3
from collections.abc import Iterator
from contextlib import AbstractContextManager
from dataclasses import dataclass
from datetime import date, datetime, timedelta
from typing import TYPE_CHECKING, Any

from connector.store.locking import KeyLocks

ROLES = ("viewer", "approver", "admin")
SCALE = 10_000  # sums of money in SQL are exact integers of 1/10 000 of the currency unit
_UNITS = f"CAST(ROUND(CAST(outstanding AS REAL) * {SCALE}) AS INTEGER)"
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


def _customer_filter(tenant: str, search: str) -> tuple[str, list[Any]]:
    where, params = "c.tenant=?", [tenant]
    if search:
        like = "%" + search.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_") + "%"
        where += " AND (c.name LIKE ? ESCAPE '\\' OR c.number LIKE ? ESCAPE '\\')"
        params += [like, like]
    return where, params


class ConsoleMixin(KeyLocks):
    if TYPE_CHECKING:

        def transaction(
            self, immediate: bool = False
        ) -> AbstractContextManager[sqlite3.Connection]: ...

        def _conn(self) -> sqlite3.Connection: ...

        def _stamp(self) -> str: ...

        def _fence(self, conn: sqlite3.Connection, tenant: str) -> None: ...

    # -- users ----------------------------------------------------------------------------------
    def put_user(self, name: str, role: str, password_hash: str, language: str = "en") -> bool:
        """Add or update a console user; True when added."""
        if role not in ROLES:
            raise ValueError(f"role must be one of {', '.join(ROLES)}")
        now = self._stamp()
        with self.transaction(immediate=True) as tx:
            self._lock(tx, f"user:{name}")
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

    def set_language(self, name: str, language: str) -> None:
        with self.transaction() as tx:
            tx.execute(
                "UPDATE console_users SET language=?, updated_at=? WHERE name=?",
                (language, self._stamp(), name),
            )

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

    def customer_actions(self, tenant: str, customer_id: str) -> list[sqlite3.Row]:
        return list(
            self._conn().execute(
                "SELECT * FROM actions WHERE tenant=? AND customer_id=? ORDER BY created_at DESC",
                (tenant, customer_id),
            )
        )

    def customer_balances(self, tenant: str, today: str) -> Iterator[sqlite3.Row]:
        """Per customer with open invoices and currency: open and overdue amounts in units of
        1/SCALE (exact integers for amounts of up to four decimals), the oldest due date."""
        return self._conn().execute(
            f"SELECT customer_id, currency, SUM({_UNITS}) AS amount, "
            f"SUM(CASE WHEN due_date < ? THEN {_UNITS} ELSE 0 END) AS overdue, "
            "MIN(due_date) AS oldest_due, COUNT(*) AS n FROM invoices "
            "WHERE tenant=? AND status='open' AND CAST(outstanding AS REAL) > 0 "
            "GROUP BY customer_id, currency",
            (today, tenant),
        )

    def aging_units(self, tenant: str, today: date) -> Iterator[sqlite3.Row]:
        """Open amounts per currency and days-overdue bucket (report.BUCKETS), in 1/SCALE."""
        bounds = [(today - timedelta(days=d)).isoformat() for d in (0, 14, 30, 60, 90)]
        bucket = (
            "CASE WHEN due_date >= ? THEN '0' WHEN due_date >= ? THEN '1-14' "
            "WHEN due_date >= ? THEN '15-30' WHEN due_date >= ? THEN '31-60' "
            "WHEN due_date >= ? THEN '61-90' ELSE '90+' END"
        )
        return self._conn().execute(
            f"SELECT currency, {bucket} AS bucket, SUM({_UNITS}) AS amount, COUNT(*) AS n "
            "FROM invoices WHERE tenant=? AND status='open' AND CAST(outstanding AS REAL) > 0 "
            "GROUP BY currency, bucket",
            (*bounds, tenant),
        )

    def issued_by_month(self, tenant: str, since: date) -> list[sqlite3.Row]:
        """Per month of issue (YYYY-MM) and currency since ``since``: the amount invoiced and
        what of it is still open, in 1/SCALE (booked invoices, open or paid)."""
        return list(
            self._conn().execute(
                "SELECT substr(json_extract(data, '$.issue_date'), 1, 7) AS month, currency, "
                "SUM(CAST(ROUND(CAST(json_extract(data, '$.gross') AS REAL) * "
                f"{SCALE}) AS INTEGER)) AS gross, SUM({_UNITS}) AS open, COUNT(*) AS n "
                "FROM invoices WHERE tenant=? AND status IN ('open', 'paid') "
                "AND json_extract(data, '$.issue_date') >= ? GROUP BY month, currency "
                "ORDER BY month, currency",
                (tenant, since.isoformat()),
            )
        )

    def snapshot_receivables(self, tenant: str, day: date) -> int:
        """Record what is open on ``day`` and what was invoiced in the 90 days before it, per
        currency (the day's last cycle wins): the history DSO per month is read from, since
        invoices carry no payment date to work it out afterwards. Returns the rows written."""
        issued = {
            r["currency"]: int(r["gross"] or 0)
            for r in self._conn().execute(
                "SELECT currency, SUM(CAST(ROUND(CAST(json_extract(data, '$.gross') AS REAL) * "
                f"{SCALE}) AS INTEGER)) AS gross FROM invoices WHERE tenant=? "
                "AND status IN ('open', 'paid') AND json_extract(data, '$.issue_date') > ? "
                "AND json_extract(data, '$.issue_date') <= ? GROUP BY currency",
                (tenant, (day - timedelta(days=90)).isoformat(), day.isoformat()),
            )
        }
        open_ = {
            r["currency"]: int(r["amount"] or 0)
            for r in self._conn().execute(
                f"SELECT currency, SUM({_UNITS}) AS amount FROM invoices WHERE tenant=? "
                "AND status='open' AND CAST(outstanding AS REAL) > 0 GROUP BY currency",
                (tenant,),
            )
        }
        rows = [
            (tenant, day.isoformat(), cur, open_.get(cur, 0), issued.get(cur, 0))
            for cur in sorted(set(issued) | set(open_))
        ]
        with self.transaction() as tx:
            self._fence(tx, tenant)
            tx.executemany(
                "INSERT INTO receivable_snapshots VALUES (?, ?, ?, ?, ?) "
                "ON CONFLICT(tenant, day, currency) DO UPDATE SET "
                "open_units=excluded.open_units, invoiced_90d_units=excluded.invoiced_90d_units",
                rows,
            )
        return len(rows)

    def month_end_receivables(self, tenant: str, since: date) -> list[sqlite3.Row]:
        """Per month (YYYY-MM) and currency since ``since``: the month's last snapshot (day,
        open and invoiced-in-90-days units)."""
        return list(
            self._conn().execute(
                "SELECT substr(s.day, 1, 7) AS month, s.currency, s.day, s.open_units, "
                "s.invoiced_90d_units FROM receivable_snapshots s JOIN ("
                "SELECT substr(day, 1, 7) AS month, currency, MAX(day) AS day "
                "FROM receivable_snapshots WHERE tenant=? AND day >= ? "
                "GROUP BY substr(day, 1, 7), currency) m "
                "ON s.day = m.day AND s.currency = m.currency WHERE s.tenant=? "
                "ORDER BY s.day, s.currency",
                (tenant, since.isoformat(), tenant),
            )
        )

    def plan_generation(self, tenant: str) -> tuple[Any, ...]:
        """Changes whenever what the plan depends on may have changed: a run started or ended
        (invoices and customers change only in a cycle), notes, the journal (a push re-reads
        its invoices and journals each), findings, fetched rates."""
        row = (
            self._conn()
            .execute(
                "SELECT (SELECT id || '/' || COALESCE(ended_at, '') FROM runs WHERE tenant=:t "
                "ORDER BY id DESC LIMIT 1), "
                "(SELECT MAX(id) || '/' || COUNT(resolved_at) FROM notes WHERE tenant=:t), "
                "(SELECT MAX(updated_at) || COUNT(*) FROM actions WHERE tenant=:t), "
                "(SELECT MAX(last_seen) || COUNT(resolved_at) FROM findings WHERE tenant=:t), "
                "(SELECT MAX(fetched_at) FROM rates)",
                {"t": tenant},
            )
            .fetchone()
        )
        return tuple(row)

    def customer_names(self, tenant: str, ids: list[str]) -> dict[str, tuple[str | None, str]]:
        """Customer id → (number, name), for the ids given."""
        out: dict[str, tuple[str | None, str]] = {}
        for start in range(0, len(ids), 500):
            chunk = ids[start : start + 500]
            rows = self._conn().execute(
                "SELECT provider_id, number, name FROM customers WHERE tenant=? AND provider_id "
                f"IN ({','.join('?' * len(chunk))})",
                (tenant, *chunk),
            )
            out.update({r[0]: (r[1], r[2]) for r in rows})
        return out

    def collection_history(self, tenant: str, today: date) -> list[sqlite3.Row]:
        """Per customer, from the actions done on invoices still open: the invoices handed
        over to collection and the payment deadlines missed (only customers with either)."""
        missed = "CASE WHEN stage != 'handover' AND deadline < ? THEN 1 ELSE 0 END"
        return list(
            self._conn().execute(
                "SELECT customer_id, "
                "GROUP_CONCAT(CASE WHEN stage='handover' THEN invoice_number END, ', ') AS handed, "
                f"SUM({missed}) AS missed FROM actions "
                "WHERE tenant=? AND state='done' AND customer_id IS NOT NULL AND invoice_id IN "
                "(SELECT provider_id FROM invoices WHERE tenant=? AND status='open') "
                "GROUP BY customer_id HAVING COUNT(CASE WHEN stage='handover' THEN 1 END) > 0 "
                f"OR SUM({missed}) >= 2",
                (today.isoformat(), tenant, tenant, today.isoformat()),
            )
        )

    def open_disputes(self, tenant: str) -> list[str]:
        """Customers with an open dispute (on the customer or one of its invoices)."""
        rows = self._conn().execute(
            "SELECT DISTINCT COALESCE(n.customer_id, i.customer_id) FROM notes n "
            "LEFT JOIN invoices i ON i.tenant = n.tenant AND i.provider_id = n.invoice_id "
            "WHERE n.tenant=? AND n.kind='dispute' AND n.resolved_at IS NULL",
            (tenant,),
        )
        return [r[0] for r in rows if r[0]]

    def customer_page_rows(
        self, tenant: str, search: str, offset: int, limit: int
    ) -> tuple[int, list[sqlite3.Row]]:
        """One page of customers matching ``search``, the largest open balance first (all
        currencies added up, for the order only): (total matching, rows)."""
        where, params = _customer_filter(tenant, search)
        conn = self._conn()
        total = conn.execute(f"SELECT COUNT(*) FROM customers c WHERE {where}", params).fetchone()
        rows = conn.execute(
            f"WITH b AS (SELECT customer_id, SUM({_UNITS}) AS units FROM invoices "
            "WHERE tenant=? AND status='open' AND CAST(outstanding AS REAL) > 0 "
            "GROUP BY customer_id) "
            "SELECT c.provider_id, c.number, c.name, c.org_number FROM customers c "
            f"LEFT JOIN b ON b.customer_id = c.provider_id WHERE {where} "
            "ORDER BY COALESCE(b.units, 0) DESC, c.name, c.provider_id LIMIT ? OFFSET ?",
            (tenant, *params, limit, offset),
        )
        return int(total[0]), list(rows)

    def customer_balances_of(self, tenant: str, today: str, ids: list[str]) -> list[sqlite3.Row]:
        """``customer_balances`` for the customers ``ids`` only."""
        marks = ",".join("?" * len(ids))
        return list(
            self._conn().execute(
                f"SELECT customer_id, currency, SUM({_UNITS}) AS amount, "
                f"SUM(CASE WHEN due_date < ? THEN {_UNITS} ELSE 0 END) AS overdue, "
                "MIN(due_date) AS oldest_due, COUNT(*) AS n FROM invoices "
                f"WHERE tenant=? AND status='open' AND customer_id IN ({marks}) "
                "AND CAST(outstanding AS REAL) > 0 GROUP BY customer_id, currency",
                (today, tenant, *ids),
            )
        )

    def finding_counts(self, tenant: str, ids: list[str]) -> dict[str, int]:
        marks = ",".join("?" * len(ids))
        rows = self._conn().execute(
            "SELECT customer_id, COUNT(*) FROM findings WHERE tenant=? AND resolved_at IS NULL "
            f"AND customer_id IN ({marks}) GROUP BY customer_id",
            (tenant, *ids),
        )
        return {r[0]: int(r[1]) for r in rows}

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
