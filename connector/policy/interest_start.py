"""When interest starts on a claim, and which rule says so.

- The due date was agreed in advance (forsinkelsesrenteloven § 2, räntelagen 3 §): interest runs
  from the due date, after any move off a closed day (gjeldsbrevloven § 5, skuldebrevslagen 5 §).
  kravsync counts from the day after, since paying on the due date is on time.
- Otherwise interest runs from 30 days after a written demand (forsinkelsesrenteloven § 2,
  räntelagen 4 §): the invoice's sending day where the tenant says its invoices are that demand
  (``interest_demand = "invoice"``), else kravsync's first letter on the claim.

Whether the due date was agreed is a fact per customer (``PolicySettings.agreement``); the
tenant's default is ``false``, which never starts interest earlier than the law allows.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date, timedelta

from connector.models import Invoice
from connector.policy.history import TakenAction
from connector.policy.rules import CountryRules
from connector.policy.settings import Agreement

_DAY = timedelta(days=1)


@dataclass(frozen=True, slots=True)
class InterestStart:
    first_day: date  # the first day interest accrues
    why: str


def invoice_sent_on(invoice: Invoice) -> date | None:
    """The day the invoice itself was first sent, where the accounting system says so."""
    days = [d.on for d in invoice.dispatches if d.kind == "invoice"]
    return min(days) if days else None


def interest_start(
    rules: CountryRules,
    *,
    due: date,
    deferred: date,
    agreed: Agreement,
    demand: str,
    invoice_sent: date | None,
    history: Sequence[TakenAction],
    sending_on: date,
) -> InterestStart:
    """The first interest day of a claim due ``due`` (moved to ``deferred``), for a letter sent
    on ``sending_on`` after the letters in ``history``."""
    if agreed.agreed:
        moved = (
            f" (due {due} moved to {deferred}: {rules.due_date_rule})" if deferred != due else ""
        )
        return InterestStart(
            deferred + _DAY,
            f"interest from {deferred + _DAY}, the day after the due date {deferred}{moved}; "
            f"{agreed.describe('due date in advance')}: {rules.interest_rule_agreed}",
        )
    letters = [h.sent_on for h in history if h.is_letter]
    first_letter = min(letters) if letters else None
    if demand == "invoice" and invoice_sent is not None:
        demanded, what = invoice_sent, "the invoice, sent"
    elif first_letter is not None:
        demanded, what = first_letter, "kravsync's first letter, sent"
        if demand == "invoice":
            what = "kravsync's first letter (the invoice's sending day is unknown), sent"
    else:
        demanded, what = sending_on, "this letter, the first written demand, sent"
    days = rules.interest_after_demand_days.at(demanded).value
    if days is None:  # a rule table that starts later than the demand: the first figure
        days = rules.interest_after_demand_days.periods[0].value
    assert days is not None
    first = demanded + timedelta(days=days)
    return InterestStart(
        first,
        f"interest from {first}, {days} days after {what} {demanded}; "
        f"{agreed.describe('due date in advance')}: {rules.interest_rule_demand}",
    )
