"""kravsync's own traces are not a second sender.

Some route steps leave a reminder in the provider's own reminder record: Fortnox registers one
for every ``printreminder`` kravsync asks for, Tripletex lists the reminders kravsync had it
create. The step journal (``connector.store.steps``) records each as kravsync's own
(``own_reminder``). Before the policy looks at an invoice, those are taken out of its facts: a
reminder dispatch on a day kravsync's own step registered one, and each own registration whose
action the history does not count as a letter (one that failed, was skipped, or is the pending
action being decided again). "Someone else reminded" is then concluded only from the rest.
"""

from __future__ import annotations

from collections.abc import Collection, Iterable

from connector.models import Invoice
from connector.store.steps import OwnReminder


def without_own(invoice: Invoice, own: Iterable[OwnReminder], counted: Collection[str]) -> Invoice:
    """``invoice`` without the reminders kravsync's own steps registered. ``counted``: keys of
    the actions the history already counts as letters (their registrations match those)."""
    mine = [o for o in own if o.invoice_id == invoice.provider_id]
    if not mine:
        return invoice
    days = {o.on for o in mine}
    dispatches = tuple(d for d in invoice.dispatches if not (d.kind == "reminder" and d.on in days))
    uncounted = sum(1 for o in mine if o.key not in counted)
    left = [d.on for d in dispatches if d.kind == "reminder"]
    last = invoice.last_reminded
    if last is not None and last in days:
        last = max(left, default=None)
    return invoice.model_copy(
        update={
            "dispatches": dispatches,
            "reminders_sent": max(invoice.reminders_sent - uncounted, 0),
            "last_reminded": last,
        }
    )
