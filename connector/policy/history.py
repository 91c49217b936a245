"""What the engine is told about actions already taken on an invoice (from the journal)."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date
from decimal import Decimal

from connector.models import ActionStage, ReminderAction

ZERO = Decimal("0")


@dataclass(frozen=True, slots=True)
class TakenAction:
    """One action kravsync took on an invoice: the letter's facts as sent."""

    stage: ActionStage
    sent_on: date
    deadline: date | None = None
    fee: Decimal = ZERO
    compensation: Decimal = ZERO
    sequence: int = 1

    @property
    def is_letter(self) -> bool:
        return self.stage is not ActionStage.HANDOVER

    @classmethod
    def from_action(cls, action: ReminderAction, sent_on: date | None = None) -> TakenAction:
        """From a journalled (done) action; ``sent_on`` if it went out on another day than
        planned."""
        return cls(
            stage=action.stage,
            sent_on=sent_on or action.planned_on,
            deadline=action.deadline,
            fee=action.fee,
            compensation=action.compensation,
            sequence=action.sequence,
        )
