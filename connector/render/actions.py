"""`kravsync actions`: the action journal, one row per action (what was sent, failed or waits).

Every text cell may quote a provider or a customer (a refusal message, an invoice number):
terminal cells go through ``safe_message`` (control characters escaped, person numbers masked,
secrets scrubbed); JSON values are masked and scrubbed, and ``json.dumps`` escapes the rest.
"""

from __future__ import annotations

from collections.abc import Iterable
from datetime import datetime, timedelta
from typing import Any

from connector.models import ActionState
from connector.render.status import age
from connector.scrub import safe_message, scrub
from connector.store.records import JournalEntry
from connector.validation.identifiers import mask_person_numbers

HEADER = ("tenant", "key", "invoice", "stage", "state", "tries", "since", "fee", "message")


def shown_state(entry: JournalEntry, now: datetime, stuck_after: timedelta) -> str:
    """The entry's state, ``stuck`` for a pending one unmoved for ``stuck_after``."""
    if entry.state is ActionState.PENDING and now - entry.updated_at >= stuck_after:
        return "stuck"
    return entry.state.value


def _json_text(value: str | None) -> str | None:
    return None if value is None else mask_person_numbers(scrub(value))


def entry_json(tenant: str, entry: JournalEntry, state: str, now: datetime) -> dict[str, Any]:
    a = entry.action
    return {
        "tenant": tenant,
        "key": _json_text(a.idempotency_key),
        "invoice": _json_text(a.invoice_number),
        "invoice_id": _json_text(a.invoice_id),
        "customer_number": _json_text(a.customer_number),
        "stage": a.stage.value,
        "sequence": a.sequence,
        "state": state,
        "attempts": entry.attempts,
        "updated_at": entry.updated_at.isoformat(),
        "age_seconds": int((now - entry.updated_at).total_seconds()),
        "planned_on": a.planned_on.isoformat(),
        "sent_on": entry.sent_on.isoformat() if entry.sent_on else None,
        "currency": a.currency,
        "outstanding": str(a.outstanding),
        "fee": str(a.fee),
        "interest": str(a.interest),
        "compensation": str(a.compensation),
        "reference": _json_text(entry.reference),
        "message": _json_text(entry.message),
    }


def actions_table(rows: Iterable[tuple[str, JournalEntry, str]], now: datetime) -> str:
    """``rows``: (tenant, entry, shown state)."""
    lines: list[tuple[str, ...]] = [HEADER]
    for tenant, entry, state in rows:
        a = entry.action
        lines.append(
            (
                safe_message(tenant, 63),
                safe_message(a.idempotency_key, 120),
                safe_message(a.invoice_number, 40),
                f"{a.stage.value} {a.sequence}",
                state,
                str(entry.attempts),
                age(now - entry.updated_at),
                f"{a.fee:.2f} {a.currency}" if a.fee else "-",
                safe_message(entry.message or "", 160),
            )
        )
    if len(lines) == 1:
        return "no actions\n"
    widths = [max(len(r[i]) for r in lines) for i in range(len(HEADER) - 1)]
    out = []
    for r in lines:
        cells = [c.ljust(widths[i]) for i, c in enumerate(r[:-1])] + [r[-1]]
        out.append("  ".join(cells).rstrip())
    out.insert(1, "  ".join("-" * w for w in widths) + "  -------")
    return "\n".join(out) + "\n"
