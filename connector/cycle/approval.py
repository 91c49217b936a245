"""`push = "approve"`: only letters a person approved in the console are pushed.

An approval is kept with a fingerprint of the facts it was given on (invoice, stage, sequence,
currency, outstanding, fee, compensation, due date). Right before a push the action is planned
again on fresh facts; when its fingerprint differs the approval is void and the letter waits in
the review queue to be decided again. Interest and the deadline move with the day and are not
part of the fingerprint."""

from __future__ import annotations

import hashlib
from dataclasses import dataclass
from datetime import date

from connector.models import ReminderAction
from connector.store import Store


def fingerprint(action: ReminderAction, due_date: date | None) -> str:
    facts = "|".join(
        str(part)
        for part in (
            action.tenant,
            action.invoice_id,
            action.customer_id or "",
            action.stage.value,
            action.sequence,
            action.currency,
            action.outstanding.normalize(),
            action.fee.normalize(),
            action.compensation.normalize(),
            due_date.isoformat() if due_date else "",
        )
    )
    return hashlib.sha256(facts.encode()).hexdigest()[:32]


@dataclass(frozen=True)
class ApprovalGate:
    """The approved fingerprints of one tenant, read once per cycle."""

    # ``<invoice>:<stage>:<sequence>`` → fingerprint. The gate is one tenant's, so the key's tail
    # names the letter whether it was decided on a plan's key (no provider account yet) or is
    # asked about with the account the push stamps on it.
    approved: dict[str, str]

    @classmethod
    def load(cls, store: Store, tenant: str) -> ApprovalGate:
        latest = store.latest_decisions(tenant)
        return cls(
            {_tail(k): d.fingerprint for k, d in latest.items() if d.decision == "approved"}
        )

    def considered(self, action: ReminderAction) -> bool:
        """Approved at all (whatever the facts): worth a fresh read before the push."""
        return action.action_tail in self.approved

    def allows(self, action: ReminderAction, due_date: date | None) -> bool:
        return self.approved.get(action.action_tail) == fingerprint(action, due_date)


def _tail(key: str) -> str:
    return ":".join(key.rsplit(":", 3)[-3:])
