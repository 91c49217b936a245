"""The review queue: the plan grouped as letters (customer × stage × currency), each with what a
person decided about it, and the decisions themselves (approve, skip, hold)."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime, timedelta
from decimal import Decimal

from connector.config import TenantConfig
from connector.cycle.approval import fingerprint
from connector.cycle.plan import plan_tenant
from connector.models import Note, NoteKind, ReminderAction
from connector.policy import Decision, group_actions
from connector.render.views import STAGE_NAMES
from connector.store import Store
from connector.store.console import ReviewDecision

HOLD_DAYS = 14  # "hold" in the queue: do not remind this letter's invoices for two weeks

# What a letter's state means, for people.
STATES = {
    "review": "to review",
    "approved": "approved",
    "void": "approval void: the facts changed",
    "skipped": "skipped",
}


@dataclass(frozen=True)
class Line:
    action: ReminderAction
    due_date: date
    fingerprint: str
    decision: ReviewDecision | None

    @property
    def total(self) -> Decimal:
        a = self.action
        return a.outstanding + a.fee + a.interest + a.compensation


@dataclass(frozen=True)
class Letter:
    tenant: str
    customer_id: str | None
    customer_name: str
    customer_number: str | None
    stage: str
    stage_name: str
    currency: str
    lines: tuple[Line, ...]

    @property
    def id(self) -> str:
        return f"{self.tenant}|{self.customer_id or ''}|{self.stage}|{self.currency}"

    @property
    def total(self) -> Decimal:
        return sum((ln.total for ln in self.lines), Decimal(0))

    @property
    def fees(self) -> Decimal:
        return sum((ln.action.fee for ln in self.lines), Decimal(0))

    @property
    def interest(self) -> Decimal:
        return sum((ln.action.interest for ln in self.lines), Decimal(0))

    @property
    def deadline(self) -> date | None:
        days = [ln.action.deadline for ln in self.lines if ln.action.deadline]
        return max(days) if days else None

    @property
    def state(self) -> str:
        decided = [ln.decision for ln in self.lines]
        if all(d is not None and d.decision == "approved" for d in decided):
            if all(ln.decision and ln.decision.fingerprint == ln.fingerprint for ln in self.lines):
                return "approved"
            return "void"
        if any(d is not None and d.decision == "approved" for d in decided):
            return "void"
        if all(
            ln.decision is not None
            and ln.decision.decision == "skipped"
            and ln.decision.fingerprint == ln.fingerprint
            for ln in self.lines
        ):
            return "skipped"
        return "review"

    @property
    def decided_by(self) -> tuple[str, datetime] | None:
        last = max(
            (ln.decision for ln in self.lines if ln.decision is not None),
            key=lambda d: d.decided_at,
            default=None,
        )
        return (last.author, last.decided_at) if last else None


def letters(
    tenant: TenantConfig, store: Store, today: date, decisions: list[Decision] | None = None
) -> list[Letter]:
    """The tenant's planned letters, most urgent (largest) first within each state."""
    if decisions is None:
        decisions = plan_tenant(tenant, store, today)
    due = {d.action.idempotency_key: d.invoice.due_date for d in decisions if d.action}
    latest = store.latest_decisions(tenant.name)
    names = STAGE_NAMES.get(tenant.country, {})
    out: list[Letter] = []
    for message in group_actions(d.action for d in decisions if d.action is not None):
        customer = store.customer(tenant.name, message.customer_id) if message.customer_id else None
        lines = tuple(
            Line(
                action=a,
                due_date=due[a.idempotency_key],
                fingerprint=fingerprint(a, due[a.idempotency_key]),
                decision=latest.get(a.idempotency_key),
            )
            for a in message.actions
        )
        out.append(
            Letter(
                tenant=tenant.name,
                customer_id=message.customer_id,
                customer_name=customer.name if customer else "(unknown customer)",
                customer_number=message.customer_number or (customer.number if customer else None),
                stage=message.stage.value,
                stage_name=names.get(message.stage.value, message.stage.value),
                currency=message.currency,
                lines=lines,
            )
        )
    order = {"void": 0, "review": 1, "approved": 2, "skipped": 3}
    out.sort(key=lambda m: (order[m.state], -m.total, m.customer_name))
    return out


def decide(
    store: Store,
    tenant: TenantConfig,
    chosen: list[Letter],
    decision: str,
    author: str,
    now: datetime,
) -> int:
    """Record ``decision`` ("approved", "skipped", "held") on every line of the chosen letters;
    "held" also puts a do-not-remind hold on their invoices. Returns the letters decided."""
    rows = [
        (ln.action.idempotency_key, ln.action.invoice_id, ln.action.customer_id, ln.fingerprint)
        for m in chosen
        for ln in m.lines
    ]
    if not rows:
        return 0
    store.add_decisions(tenant.name, rows, decision, author)
    if decision == "held":
        store.ensure_tenant(tenant.name, tenant.provider, tenant.country)
        for m in chosen:
            for ln in m.lines:
                store.add_note(
                    Note(
                        tenant=tenant.name,
                        invoice_id=ln.action.invoice_id,
                        kind=NoteKind.DO_NOT_REMIND,
                        text=f"held in the review queue ({m.stage_name})",
                        author=author,
                        created_at=now,
                        until=now.date() + timedelta(days=HOLD_DAYS),
                    )
                )
    return len(chosen)
