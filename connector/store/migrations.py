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
    (
        2,
        "findings, registry cache, action journal, notes and holds",
        """
        CREATE TABLE findings (
            tenant TEXT NOT NULL REFERENCES tenants(name),
            subject TEXT NOT NULL,
            code TEXT NOT NULL,
            field TEXT NOT NULL,
            customer_id TEXT,
            customer_number TEXT,
            customer_name TEXT,
            severity TEXT NOT NULL,
            message TEXT NOT NULL,
            blocks TEXT NOT NULL,
            first_seen TEXT NOT NULL,
            last_seen TEXT NOT NULL,
            resolved_at TEXT,
            PRIMARY KEY (tenant, subject, code, field)
        );
        CREATE INDEX findings_open ON findings (tenant, resolved_at);
        CREATE TABLE registry_cache (
            orgnr TEXT PRIMARY KEY,
            fetched_at TEXT NOT NULL,
            value TEXT NOT NULL
        );
        CREATE TABLE actions (
            key TEXT PRIMARY KEY,
            tenant TEXT NOT NULL REFERENCES tenants(name),
            invoice_id TEXT NOT NULL,
            invoice_number TEXT NOT NULL,
            customer_id TEXT,
            stage TEXT NOT NULL,
            sequence INTEGER NOT NULL,
            state TEXT NOT NULL,
            planned_on TEXT NOT NULL,
            deadline TEXT,
            sent_on TEXT,
            fee TEXT NOT NULL,
            interest TEXT NOT NULL,
            compensation TEXT NOT NULL,
            currency TEXT NOT NULL,
            outstanding TEXT NOT NULL,
            reference TEXT,
            message TEXT,
            attempts INTEGER NOT NULL DEFAULT 0,
            created_at TEXT NOT NULL,
            updated_at TEXT NOT NULL,
            data TEXT NOT NULL
        );
        CREATE INDEX actions_invoice ON actions (tenant, invoice_id);
        CREATE INDEX actions_state ON actions (tenant, state);
        CREATE TABLE notes (
            id INTEGER PRIMARY KEY AUTOINCREMENT,
            tenant TEXT NOT NULL REFERENCES tenants(name),
            invoice_id TEXT,
            customer_id TEXT,
            kind TEXT NOT NULL,
            text TEXT NOT NULL,
            author TEXT NOT NULL,
            created_at TEXT NOT NULL,
            until TEXT,
            resolved_at TEXT
        );
        CREATE INDEX notes_tenant ON notes (tenant);
        """,
    ),
    (
        3,
        "notes of a run's checks (register unavailable, ...)",
        "ALTER TABLE runs ADD COLUMN notes TEXT",
    ),
    (
        4,
        "figures fetched from their publishers (kravsync rates update)",
        """
        CREATE TABLE rates (
            country TEXT NOT NULL,
            figure TEXT NOT NULL,
            valid_from TEXT NOT NULL,
            value TEXT NOT NULL,
            source TEXT NOT NULL,
            fetched_at TEXT NOT NULL,
            PRIMARY KEY (country, figure, valid_from)
        );
        """,
    ),
    (
        5,
        "records skipped as malformed; person numbers no longer kept in clear",
        """
        CREATE TABLE malformed_records (
            tenant TEXT NOT NULL REFERENCES tenants(name),
            kind TEXT NOT NULL,
            record_id TEXT NOT NULL,
            message TEXT NOT NULL,
            first_seen TEXT NOT NULL,
            last_seen TEXT NOT NULL,
            PRIMARY KEY (tenant, kind, record_id)
        );
        UPDATE customers SET data = json_set(data, '$.national_id',
            CASE WHEN length(json_extract(data, '$.national_id')) = 12
                 THEN substr(json_extract(data, '$.national_id'), 1, 8) || '****'
                 WHEN length(json_extract(data, '$.national_id')) = 11
                 THEN substr(json_extract(data, '$.national_id'), 1, 6) || '*****'
                 WHEN length(json_extract(data, '$.national_id')) = 10
                 THEN substr(json_extract(data, '$.national_id'), 1, 6) || '****'
                 ELSE '****' END)
        WHERE json_extract(data, '$.national_id') IS NOT NULL
          AND instr(json_extract(data, '$.national_id'), '*') = 0;
        UPDATE customers SET org_number =
            CASE WHEN length(org_number) = 12 THEN substr(org_number, 1, 8) || '****'
                 WHEN length(org_number) = 11 THEN substr(org_number, 1, 6) || '*****'
                 ELSE substr(org_number, 1, 6) || '****' END
        WHERE org_number IS NOT NULL AND instr(org_number, '*') = 0
          AND (length(org_number) = 11
               OR (length(org_number) = 10 AND substr(org_number, 3, 2) < '20')
               OR (length(org_number) = 12 AND substr(org_number, 1, 2) IN ('19', '20')));
        UPDATE customers SET data = json_set(data, '$.org_number', org_number)
        WHERE instr(org_number, '*') > 0;
        DELETE FROM cursors WHERE stream = 'customers'
        """,
    ),
    (
        6,
        "detail reads still to do (kept so a restart carries on where it stood)",
        """
        CREATE TABLE detail_backlog (
            tenant TEXT NOT NULL REFERENCES tenants(name),
            kind TEXT NOT NULL,
            provider_id TEXT NOT NULL,
            queued_at TEXT NOT NULL,
            attempts INTEGER NOT NULL DEFAULT 0,
            last_error TEXT,
            PRIMARY KEY (tenant, kind, provider_id)
        );
        """,
    ),
    (
        7,
        "tenant leases with holder and generation; request budgets shared per credential",
        """
        CREATE TABLE leases (
            tenant TEXT PRIMARY KEY,
            holder TEXT NOT NULL,
            host TEXT NOT NULL,
            pid INTEGER NOT NULL,
            since REAL NOT NULL,
            expires_at REAL NOT NULL,
            generation INTEGER NOT NULL
        );
        CREATE TABLE rate_budget (
            id INTEGER PRIMARY KEY AUTOINCREMENT,
            key TEXT NOT NULL,
            started_at REAL NOT NULL,
            ended_at REAL,
            holder TEXT NOT NULL
        );
        CREATE INDEX rate_budget_key ON rate_budget (key, started_at);
        DELETE FROM locks WHERE name LIKE 'tenant:%'
        """,
    ),
    (
        8,
        "the step journal; keys on the provider account (re-keyed when the provider is built)",
        """
        CREATE TABLE action_steps (
            key TEXT NOT NULL,
            step TEXT NOT NULL,
            tenant TEXT NOT NULL REFERENCES tenants(name),
            invoice_id TEXT NOT NULL,
            done_on TEXT NOT NULL,
            own_reminder INTEGER NOT NULL DEFAULT 0,
            detail TEXT NOT NULL,
            blob BLOB,
            recorded_at TEXT NOT NULL,
            PRIMARY KEY (key, step)
        );
        CREATE INDEX action_steps_own ON action_steps (tenant, own_reminder);
        ALTER TABLE tenants ADD COLUMN account TEXT;
        """,
    ),
    (
        9,
        "re-list the open invoices once where kravsync charged a fee (it may have made fee "
        "invoices): their text and kravsync's fee-invoice marker are kept now",
        """
        DELETE FROM cursors WHERE stream = 'invoices' AND tenant IN (
            SELECT DISTINCT tenant FROM actions WHERE state = 'done'
            AND (CAST(fee AS REAL) > 0 OR CAST(compensation AS REAL) > 0))
        """,
    ),
    (
        10,
        "console users (argon2 password hashes, role)",
        """
        CREATE TABLE IF NOT EXISTS console_users (
            name TEXT PRIMARY KEY,
            role TEXT NOT NULL,
            password_hash TEXT NOT NULL,
            language TEXT NOT NULL DEFAULT 'en',
            created_at TEXT NOT NULL,
            updated_at TEXT NOT NULL
        );
        """,
    ),
    (
        11,
        "review decisions on planned actions (who approved, skipped or held what, and when); "
        "an index covering the console's balance and aging sums",
        """
        CREATE TABLE IF NOT EXISTS approvals (
            id INTEGER PRIMARY KEY AUTOINCREMENT,
            tenant TEXT NOT NULL REFERENCES tenants(name),
            action_key TEXT NOT NULL,
            invoice_id TEXT NOT NULL,
            customer_id TEXT,
            decision TEXT NOT NULL,
            fingerprint TEXT NOT NULL,
            author TEXT NOT NULL,
            decided_at TEXT NOT NULL
        );
        CREATE INDEX IF NOT EXISTS approvals_key ON approvals (tenant, action_key, id);
        CREATE INDEX IF NOT EXISTS invoices_balances
            ON invoices (tenant, status, customer_id, currency, due_date, outstanding, provider_id);
        """,
    ),
    (
        12,
        "tenants kept in the store (their validated configuration as JSON; never credentials, "
        "only where to find them), shared by every process on the store",
        """
        CREATE TABLE IF NOT EXISTS tenant_configs (
            name TEXT PRIMARY KEY,
            provider TEXT NOT NULL,
            country TEXT NOT NULL,
            config TEXT NOT NULL,
            created_at TEXT NOT NULL,
            updated_at TEXT NOT NULL
        );
        """,
    ),
    (
        13,
        "workers: every daemon's heartbeat, concurrency and tenants held; when each tenant is next "
        "due (host time), so daemons claim due tenants instead of each running all",
        """
        CREATE TABLE IF NOT EXISTS workers (
            id TEXT PRIMARY KEY,
            host TEXT NOT NULL,
            pid INTEGER NOT NULL,
            started_at DOUBLE PRECISION NOT NULL,
            heartbeat_at DOUBLE PRECISION NOT NULL,
            heartbeat_seconds DOUBLE PRECISION NOT NULL,
            concurrency INTEGER NOT NULL,
            tenants TEXT NOT NULL
        );
        CREATE TABLE IF NOT EXISTS tenant_schedule (
            tenant TEXT PRIMARY KEY,
            next_due DOUBLE PRECISION NOT NULL
        );
        CREATE INDEX IF NOT EXISTS tenant_schedule_due ON tenant_schedule (next_due, tenant)
        """,
    ),
    (
        14,
        "receivable snapshots: per tenant, day and currency, what was open and what had been "
        "invoiced in the 90 days before (1/10 000 of the unit), written by each cycle; DSO per "
        "month is read from them",
        """
        CREATE TABLE IF NOT EXISTS receivable_snapshots (
            tenant TEXT NOT NULL,
            day TEXT NOT NULL,
            currency TEXT NOT NULL,
            open_units INTEGER NOT NULL,
            invoiced_90d_units INTEGER NOT NULL,
            PRIMARY KEY (tenant, day, currency)
        )
        """,
    ),
]

# Where a migration's SQL is SQLite's own (JSON functions over rows an old store held), the
# version a store born on PostgreSQL runs instead: it has no such rows to fix. A store moved up
# from SQLite (`kravsync store copy`) arrives fully migrated.
POSTGRES_MIGRATIONS: dict[int, str] = {
    5: """
        CREATE TABLE malformed_records (
            tenant TEXT NOT NULL REFERENCES tenants(name),
            kind TEXT NOT NULL,
            record_id TEXT NOT NULL,
            message TEXT NOT NULL,
            first_seen TEXT NOT NULL,
            last_seen TEXT NOT NULL,
            PRIMARY KEY (tenant, kind, record_id)
        );
        DELETE FROM cursors WHERE stream = 'customers'
        """,
}
