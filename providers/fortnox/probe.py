"""Which overdue invoices Fortnox cannot have reminded: a proof cheaper than one read each.

The invoice list lacks ``Reminders`` and ``LastRemindDate``. Fortnox makes a reminder only from
an invoice's due date on (its reminder settings count "days after the due date") and records it
on the invoice (``Reminders``, ``LastRemindDate``), which moves the invoice's ``lastmodified``.
So an invoice that the list does not return for ``lastmodified`` = its due date carries no
reminder, and its list row is complete. ``fromdate`` / ``todate`` (invoice date) are global
parameters that combine with ``filter`` and ``lastmodified`` (fortnox.se, "Parameters"), so one
request answers for a week of invoices instead of one request per invoice.

The days at both ends of a week are asked one day wider than needed, so an exclusive reading of
``fromdate``/``todate`` by the server can only return more invoices (fewer proven), never fewer.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime, time, timedelta

from connector.models import Invoice
from providers.fortnox.client import STOCKHOLM, FortnoxClient, lastmodified

BUCKET_DAYS = 7
# A week with fewer candidates than this is cheaper to read one by one.
MIN_BUCKET = 3


def _buckets(invoices: Sequence[Invoice]) -> list[list[Invoice]]:
    weeks: dict[int, list[Invoice]] = {}
    for inv in invoices:
        weeks.setdefault(inv.issue_date.toordinal() // BUCKET_DAYS, []).append(inv)
    return [weeks[k] for k in sorted(weeks)]


def unreminded(client: FortnoxClient, invoices: Sequence[Invoice]) -> set[str]:
    """Document numbers of ``invoices`` not modified since their due date (so never reminded)."""
    proven: set[str] = set()
    for bucket in _buckets(invoices):
        if len(bucket) < MIN_BUCKET:
            continue
        low = min(i.issue_date for i in bucket) - timedelta(days=1)
        high = max(i.issue_date for i in bucket) + timedelta(days=1)
        since = datetime.combine(min(i.due_date for i in bucket), time(0), STOCKHOLM)
        params = {
            "filter": "unpaid",
            "fromdate": low.isoformat(),
            "todate": high.isoformat(),
            "lastmodified": lastmodified(since),
        }
        touched = {str(row.get("DocumentNumber")) for page in client.invoices(params) for row in page}
        proven.update(i.provider_id for i in bucket if i.provider_id not in touched)
    return proven
