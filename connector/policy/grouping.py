"""One message per customer × stage × currency: the letter a customer actually receives."""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from datetime import date
from decimal import Decimal

from connector.models import ActionStage, ReminderAction

_ZERO = Decimal("0")


@dataclass(frozen=True, slots=True)
class Message:
    tenant: str
    customer_id: str | None
    customer_number: str | None
    stage: ActionStage
    currency: str
    actions: tuple[ReminderAction, ...]

    @property
    def invoice_numbers(self) -> tuple[str, ...]:
        return tuple(a.invoice_number for a in self.actions)

    @property
    def planned_on(self) -> date:
        return min(a.planned_on for a in self.actions)

    @property
    def deadline(self) -> date | None:
        """The latest deadline of its invoices, so every claim keeps at least its own."""
        days = [a.deadline for a in self.actions if a.deadline is not None]
        return max(days) if days else None

    @property
    def outstanding(self) -> Decimal:
        return sum((a.outstanding for a in self.actions), _ZERO)

    @property
    def fee(self) -> Decimal:
        return sum((a.fee for a in self.actions), _ZERO)

    @property
    def interest(self) -> Decimal:
        return sum((a.interest for a in self.actions), _ZERO)

    @property
    def compensation(self) -> Decimal:
        return sum((a.compensation for a in self.actions), _ZERO)

    @property
    def total(self) -> Decimal:
        return self.outstanding + self.fee + self.interest + self.compensation


def group_actions(actions: Iterable[ReminderAction]) -> list[Message]:
    """Actions grouped per tenant × customer × stage × currency, in first-seen order. Actions
    without a customer id are never merged (one message each)."""
    groups: dict[tuple[str, str, ActionStage, str], list[ReminderAction]] = {}
    for a in actions:
        who = f"c:{a.customer_id}" if a.customer_id is not None else f"i:{a.invoice_id}"
        groups.setdefault((a.tenant, who, a.stage, a.currency), []).append(a)
    return [
        Message(
            tenant=tenant,
            customer_id=items[0].customer_id,
            customer_number=items[0].customer_number,
            stage=stage,
            currency=currency,
            actions=tuple(items),
        )
        for (tenant, _, stage, currency), items in groups.items()
    ]
