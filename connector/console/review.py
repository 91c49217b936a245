"""The review queue: the plan grouped as letters (customer × stage × currency), each with what a
person decided about it, and the decisions themselves (approve, skip, hold)."""

from __future__ import annotations

import threading
from collections import defaultdict
from dataclasses import dataclass, field, replace
from datetime import date, datetime, timedelta
from decimal import Decimal
from typing import Any

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


@dataclass
class _Cached:
    generation: tuple[object, ...]
    today: date
    planned: list[Letter]


@dataclass
class ReviewCache:
    """The plan as letters per tenant, computed again only when the store changed under it
    (a cycle, a note, a push): planning 100 000 invoices takes seconds, a page must not."""

    _by_tenant: dict[str, _Cached] = field(default_factory=dict)
    _locks: dict[str, threading.Lock] = field(default_factory=lambda: defaultdict(threading.Lock))
    _trends: dict[str, tuple[Any, Any]] = field(default_factory=dict)

    def letters(self, tenant: TenantConfig, store: Store, today: date) -> list[Letter]:
        with self._locks[tenant.name]:
            generation = store.plan_generation(tenant.name)
            cached = self._by_tenant.get(tenant.name)
            if cached is None or cached.generation != generation or cached.today != today:
                planned = planned_letters(tenant, plan_tenant(tenant, store, today))
                cached = _Cached(generation, today, planned)
                self._by_tenant[tenant.name] = cached
        return with_decisions(cached.planned, store.latest_decisions(tenant.name))

    def collection(self, tenant: TenantConfig, store: Store, today: date) -> Any:
        """``pages.collection`` for the tenant, kept until the store changes under it."""
        from connector.console.pages import collection

        key = (tenant.name, today, store.plan_generation(tenant.name))
        if self._trends.get(tenant.name, (None, None))[0] != key:
            self._trends[tenant.name] = (key, collection(tenant, store, today))
        return self._trends[tenant.name][1]


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
