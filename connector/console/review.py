"""The review queue: the plan grouped as letters (customer × stage × currency), each with what a
person decided about it, and the decisions themselves (approve, skip, hold)."""

from __future__ import annotations

from dataclasses import dataclass, replace
from datetime import date, datetime, timedelta
from decimal import Decimal
from typing import Any

from connector.clock import Clock
from connector.config import TenantConfig
from connector.console.refresh import Background, Refreshing, Served
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
    """The tenant's planned letters with what was decided about them: void approvals first,
    then those to review, approved, skipped; the largest first within each."""
    if decisions is None:
        decisions = plan_tenant(tenant, store, today)
    return with_decisions(planned_letters(tenant, decisions), store.latest_decisions(tenant.name))


def planned_letters(tenant: TenantConfig, decisions: list[Decision]) -> list[Letter]:
    """The plan as letters, nothing decided yet, the largest first (names not filled in)."""
    due = {d.action.idempotency_key: d.invoice.due_date for d in decisions if d.action}
    names = STAGE_NAMES.get(tenant.country, {})
    out: list[Letter] = []
    for message in group_actions(d.action for d in decisions if d.action is not None):
        lines = tuple(
            Line(
                action=a,
                due_date=due[a.idempotency_key],
                fingerprint=fingerprint(a, due[a.idempotency_key]),
                decision=None,
            )
            for a in message.actions
        )
        out.append(
            Letter(
                tenant=tenant.name,
                customer_id=message.customer_id,
                customer_name="",
                customer_number=message.customer_number,
                stage=message.stage.value,
                stage_name=names.get(message.stage.value, message.stage.value),
                currency=message.currency,
                lines=lines,
            )
        )
    out.sort(key=lambda m: (-m.total, m.customer_id or "", m.stage, m.currency))
    return out


def with_decisions(planned: list[Letter], latest: dict[str, ReviewDecision]) -> list[Letter]:
    """``planned`` with the latest decisions on their lines, ordered by state (stable)."""
    groups: dict[str, list[Letter]] = {"void": [], "review": [], "approved": [], "skipped": []}
    for m in planned:
        if latest and any(ln.action.idempotency_key in latest for ln in m.lines):
            m = replace(
                m,
                lines=tuple(
                    replace(ln, decision=latest.get(ln.action.idempotency_key)) for ln in m.lines
                ),
            )
        groups[m.state].append(m)
    return [m for state in ("void", "review", "approved", "skipped") for m in groups[state]]


def named(store: Store, tenant: str, chosen: list[Letter]) -> list[Letter]:
    """``chosen`` with their customers' names and numbers filled in (one store read)."""
    ids = [m.customer_id for m in chosen if m.customer_id]
    names = store.customer_names(tenant, ids)
    out = []
    for m in chosen:
        number, name = names.get(m.customer_id or "", (None, "(unknown customer)"))
        out.append(replace(m, customer_name=name, customer_number=m.customer_number or number))
    return out


def _held_since(letter: Letter, since: datetime) -> bool:
    return all(
        ln.decision is not None
        and ln.decision.decision == "held"
        and ln.decision.decided_at >= since
        for ln in letter.lines
    )


def _planned(tenant: TenantConfig, store: Store, today: date) -> list[Letter]:
    return planned_letters(tenant, plan_tenant(tenant, store, today))


def _receivables(tenant: TenantConfig, store: Store, today: date) -> Any:
    from connector.console.pages import receivables

    return receivables(tenant, store, today)


def _collection(tenant: TenantConfig, store: Store, today: date) -> Any:
    from connector.console.pages import collection

    return collection(tenant, store, today)


class ReviewCache:
    """Per tenant the plan as letters, the collection trends and the overview's sums: worked
    out again only when the store changed under them, and then in the background (see
    ``refresh.py``)."""

    def __init__(self, clock: Clock) -> None:
        # one thread for all (pages compete with one piece of background work at a time):
        # the overview's sums first (a tenth of a second), then trends, then plans (seconds)
        background = Background()
        self.sums: Refreshing[Any] = Refreshing(_receivables, clock, background, urgency=0)
        self.trends: Refreshing[Any] = Refreshing(_collection, clock, background, urgency=1)
        self.plans: Refreshing[list[Letter]] = Refreshing(_planned, clock, background, urgency=2)

    def letters(self, tenant: TenantConfig, store: Store, today: date) -> list[Letter]:
        served = self.served_letters(tenant, store, today)
        assert served is not None  # waited for
        return served.value

    def served_letters(
        self, tenant: TenantConfig, store: Store, today: date, *, wait: bool = True
    ) -> Served[list[Letter]] | None:
        """The letters with the latest decisions on them (decisions are never stale); without
        ``wait``, None while the tenant's first plan is being worked out."""
        served = (
            self.plans.get(tenant, store, today) if wait else self.plans.peek(tenant, store, today)
        )
        if served is None:
            return None
        letters = with_decisions(served.value, store.latest_decisions(tenant.name))
        if served.stale_since is not None:  # letters held since: the new plan drops them
            since = served.stale_since - timedelta(seconds=1)  # decisions are stamped to the second
            letters = [m for m in letters if not _held_since(m, since)]
        return Served(letters, served.stale_since)

    def collection(self, tenant: TenantConfig, store: Store, today: date) -> Served[Any] | None:
        """``pages.collection`` for the tenant; None while the first is being worked out."""
        return self.trends.peek(tenant, store, today)

    def receivables(self, tenant: TenantConfig, store: Store, today: date) -> Served[Any]:
        """``pages.receivables`` for the tenant (the overview's sums and aging chart)."""
        return self.sums.get(tenant, store, today)

    def wait_idle(self, timeout: float = 60.0) -> bool:
        return all(r.wait_idle(timeout) for r in (self.plans, self.trends, self.sums))


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
