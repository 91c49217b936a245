"""What `kravsync store copy` prints: a line per table, its rows and checksums on both sides."""

from __future__ import annotations

from collections.abc import Iterator

from connector.render.textsafe import printable
from connector.store.copy import TableCheck


def copy_lines(source: str, target: str, checks: list[TableCheck]) -> Iterator[str]:
    yield f"copied {printable(source)} -> {printable(target)}"
    width = max((len(c.table) for c in checks), default=5)
    yield f"{'table':<{width}}  {'rows':>9}  {'copied':>9}  {'checksum':<16}  {'copied':<16}  ok"
    for c in checks:
        yield (
            f"{c.table:<{width}}  {c.source_rows:>9}  {c.copied_rows:>9}  "
            f"{c.source_checksum:<16}  {c.copied_checksum:<16}  {'yes' if c.ok else 'NO'}"
        )
    bad = [c.table for c in checks if not c.ok]
    rows = sum(c.copied_rows for c in checks)
    if bad:
        yield f"verification FAILED for {', '.join(bad)}: do not use the copy"
    else:
        yield f"verified: {len(checks)} tables, {rows} rows, every count and checksum equal"
