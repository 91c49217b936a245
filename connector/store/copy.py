"""`kravsync store copy SRC DST`: a whole store moved to another back-end, verified.

Every table the migrations create is copied row by row, in the order the migrations create them
(a table is created after the ones it references), inside one transaction on the destination:
a copy that fails leaves the destination as it was. Afterwards each table is counted and
checksummed on both sides, independently: the checksum is the sum of a SHA-256 per row over a
canonical text of its values, so it does not depend on row order, and SQLite's and PostgreSQL's
types (REAL and DOUBLE PRECISION, BLOB and BYTEA) give the same value for the same data.
"""

from __future__ import annotations

import hashlib
import re
from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from typing import Any

from connector.store.migrations import MIGRATIONS

BATCH = 2000
_CREATE = re.compile(r"CREATE TABLE (?:IF NOT EXISTS )?(\w+)", re.IGNORECASE)


class CopyError(Exception):
    """The copy cannot start (one line)."""


@dataclass(frozen=True)
class TableCheck:
    table: str
    source_rows: int
    copied_rows: int
    source_checksum: str
    copied_checksum: str

    @property
    def ok(self) -> bool:
        return (self.source_rows, self.source_checksum) == (self.copied_rows, self.copied_checksum)


def store_tables() -> list[str]:
    """Every table of the schema, referenced tables first."""
    seen: list[str] = []
    for _version, _description, sql in MIGRATIONS:
        for name in _CREATE.findall(sql):
            if name not in seen:
                seen.append(name)
    return seen


def _canonical(value: Any) -> str:
    if value is None:
        return "\x00N"
    if isinstance(value, bytes | bytearray | memoryview):
        return "\x00B" + bytes(value).hex()
    if isinstance(value, float):
        return "\x00F" + repr(value)
    if isinstance(value, bool):
        return "\x00I" + str(int(value))
    if isinstance(value, int):
        return "\x00I" + str(value)
    return "\x00S" + str(value)


def checksum(rows: Iterable[Iterable[Any]]) -> tuple[int, str]:
    """(row count, order-independent checksum) of ``rows``."""
    count, total = 0, 0
    for row in rows:
        digest = hashlib.sha256("\x1f".join(_canonical(v) for v in row).encode()).digest()
        total = (total + int.from_bytes(digest, "big")) % (1 << 256)
        count += 1
    return count, f"{total:064x}"[:16]


def _columns(store: Any, table: str) -> list[str]:
    if store.dialect == "sqlite":
        return [r[1] for r in store._conn().execute(f"PRAGMA table_info({table})")]
    rows = store._conn().execute(
        "SELECT column_name FROM information_schema.columns WHERE table_name=? "
        "AND table_schema=current_schema() ORDER BY ordinal_position",
        (table,),
    )
    return [r[0] for r in rows]


def _rows(store: Any, table: str, columns: list[str]) -> Iterator[Any]:
    yield from store._conn().execute(f"SELECT {', '.join(columns)} FROM {table}")


def _is_empty(store: Any, tables: list[str]) -> bool:
    return all(
        store._conn().execute(f"SELECT COUNT(*) FROM {t}").fetchone()[0] == 0 for t in tables
    )


def copy_store(source: Any, target: Any) -> list[TableCheck]:
    """Copy every table of ``source`` into the empty, migrated ``target``; then verify."""
    tables = store_tables()
    if source.schema_version() != target.schema_version():
        raise CopyError(
            f"schema versions differ ({source.schema_version()} and {target.schema_version()})"
        )
    if not _is_empty(target, tables):
        raise CopyError(f"{target.path} is not empty: copy only into a new store")
    plan = []
    for table in tables:
        columns = _columns(source, table)
        if set(columns) != set(_columns(target, table)):
            raise CopyError(f"table {table}: the two stores' columns differ")
        plan.append((table, columns))
    with target.transaction() as tx:
        for table, columns in plan:
            insert = (
                f"INSERT INTO {table} ({', '.join(columns)}) "
                f"VALUES ({', '.join('?' * len(columns))})"
            )
            batch: list[tuple[Any, ...]] = []
            for row in _rows(source, table, columns):
                batch.append(tuple(row))
                if len(batch) >= BATCH:
                    tx.executemany(insert, batch)
                    batch = []
            if batch:
                tx.executemany(insert, batch)
        if target.dialect == "postgresql":
            for table, columns in plan:
                if "id" not in columns:
                    continue
                sequence = tx.execute("SELECT pg_get_serial_sequence(?, 'id')", (table,)).fetchone()
                if sequence[0] is not None:  # identity columns continue after the copied ids
                    tx.execute(
                        f"SELECT setval(?, COALESCE((SELECT MAX(id) FROM {table}), 0) + 1, false)",
                        (sequence[0],),
                    )
    checks = []
    for table, columns in plan:
        n_source, sum_source = checksum(_rows(source, table, columns))
        n_target, sum_target = checksum(_rows(target, table, columns))
        checks.append(TableCheck(table, n_source, n_target, sum_source, sum_target))
    return checks
