"""Versioned schema migrations. Append only: never edit a migration that has shipped."""

from __future__ import annotations

MIGRATIONS: list[tuple[int, str, str]] = [
    (
        1,
        "tenants, cursors, customers, invoices, runs, run errors, locks",
        """
        CREATE TABLE tenants (
            name TEXT PRIMARY KEY,
            provider TEXT NOT NULL,
            country TEXT NOT NULL,
            created_at TEXT NOT NULL
        );
        CREATE TABLE cursors (
            tenant TEXT NOT NULL REFERENCES tenants(name),
            stream TEXT NOT NULL,
            value TEXT NOT NULL,
            updated_at TEXT NOT NULL,
            PRIMARY KEY (tenant, stream)
        );
        CREATE TABLE customers (
            tenant TEXT NOT NULL REFERENCES tenants(name),
            provider_id TEXT NOT NULL,
            number TEXT,
            name TEXT NOT NULL,
            kind TEXT NOT NULL,
            org_number TEXT,
            active INTEGER NOT NULL,
            data TEXT NOT NULL,
            updated_at TEXT NOT NULL,
            PRIMARY KEY (tenant, provider_id)
        );
        CREATE TABLE invoices (
            tenant TEXT NOT NULL REFERENCES tenants(name),
            provider_id TEXT NOT NULL,
            number TEXT NOT NULL,
            customer_id TEXT,
            currency TEXT NOT NULL,
            due_date TEXT NOT NULL,
            outstanding TEXT NOT NULL,
            status TEXT NOT NULL,
            data TEXT NOT NULL,
            updated_at TEXT NOT NULL,
            PRIMARY KEY (tenant, provider_id)
        );
        CREATE INDEX invoices_open ON invoices (tenant, status);
        CREATE TABLE runs (
            id INTEGER PRIMARY KEY AUTOINCREMENT,
            tenant TEXT NOT NULL REFERENCES tenants(name),
            started_at TEXT NOT NULL,
            ended_at TEXT,
            outcome TEXT NOT NULL,
            customers INTEGER NOT NULL DEFAULT 0,
            invoices INTEGER NOT NULL DEFAULT 0,
            skipped INTEGER NOT NULL DEFAULT 0,
            requests INTEGER NOT NULL DEFAULT 0,
            error TEXT
        );
        CREATE INDEX runs_tenant ON runs (tenant, id);
        CREATE TABLE run_errors (
            run_id INTEGER NOT NULL REFERENCES runs(id),
            kind TEXT NOT NULL,
            record_id TEXT NOT NULL,
            message TEXT NOT NULL
        );
        CREATE TABLE locks (
            name TEXT PRIMARY KEY,
            holder TEXT NOT NULL,
            expires_at REAL NOT NULL
        );
        """,
    ),
]
