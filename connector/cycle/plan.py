"""The reminder plan of one tenant, from the store: invoices, customers, journal, notes, findings."""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field, replace
from datetime import date
from decimal import Decimal

from connector.config import TenantConfig, manual_rows
from connector.cycle.backlog import plan_complete
from connector.models import ActionStage, ActionState, Customer, Invoice, Note, ReminderAction
from connector.policy import CountryRules, Decision, PolicySettings, TakenAction, plan
from connector.policy.rates import effective_rules, from_store
from connector.store import Store


def tenant_policy(tenant: TenantConfig, today: date) -> PolicySettings:
    return PolicySettings.for_country(tenant.country, tenant.policy, on=today)


def tenant_rules(tenant: TenantConfig, store: Store) -> CountryRules:
    """The tenant's country's rules with the figures fetched into the store and those set by
    hand in the config merged into the built-in tables."""
    fetched = tuple(from_store(r) for r in store.stored_rates(tenant.country))
    return effective_rules(tenant.country, fetched + manual_rows(tenant))


def history(store: Store, tenant: str) -> dict[str, list[TakenAction]]:
    """What kravsync already did per invoice. Pending actions count as taken: until they are
    reconciled nobody may plan the same letter again."""
    out: dict[str, list[TakenAction]] = defaultdict(list)
    for entry in store.journal(tenant, states=(ActionState.DONE, ActionState.PENDING)):
        out[entry.action.invoice_id].append(TakenAction.from_action(entry.action, entry.sent_on))
    return out


def mark_fee_invoice(tenant: TenantConfig, invoice: Invoice) -> Invoice:
    """``invoice`` flagged as a fee invoice when the tenant's ``[tenants.fee_invoices]`` marks
    it (kravsync's own are flagged by the mapping, from their marker)."""
    if invoice.is_fee_invoice or not tenant.fee_invoices.marks(invoice.number, invoice.text):
        return invoice
    return invoice.model_copy(update={"fee_for": ""})


def open_fees(store: Store, tenant: str) -> dict[tuple[str, str], Decimal]:
    """Per (original invoice id, currency): what is still open on the fee invoices that
    kravsync's letters about it created."""
    out: dict[tuple[str, str], Decimal] = defaultdict(Decimal)
    for invoice in store.invoices(tenant, open_only=True):
        if invoice.fee_for and invoice.outstanding > 0:
            out[(invoice.fee_for, invoice.currency)] += invoice.outstanding
    return dict(out)


def blocking(store: Store, tenant: str) -> dict[str, dict[ActionStage, Sequence[str]]]:
    """Per customer, per stage, the error findings that block it."""
    out: dict[str, dict[ActionStage, list[str]]] = defaultdict(lambda: defaultdict(list))
    for row in store.findings(tenant):
        if row["severity"] != "error" or not row["customer_id"]:
            continue
        for stage in row["blocks"]:
            out[row["customer_id"]][ActionStage(stage)].append(row["code"])
    return {cid: dict(stages) for cid, stages in out.items()}


@dataclass(frozen=True)
class PlanContext:
    """Everything but the invoices that a tenant's decisions depend on, read from the store
    once per cycle (so a decision right before each push costs no store scan)."""

    tenant: TenantConfig
    today: date
    settings: PolicySettings
    customers: dict[str, Customer]
    history: dict[str, list[TakenAction]]
    notes: list[Note]
    blocking: dict[str, dict[ActionStage, Sequence[str]]]
    rules: CountryRules | None = None  # None: the built-in tables
    # (original invoice id, currency) → still open on its fee invoices (rides along on letters)
    fees: dict[tuple[str, str], Decimal] = field(default_factory=dict)

    @classmethod
    def load(cls, tenant: TenantConfig, store: Store, today: date) -> PlanContext:
        return cls(
            tenant=tenant,
            today=today,
            settings=tenant_policy(tenant, today),
            customers={c.provider_id: c for c in store.customers(tenant.name)},
            history=history(store, tenant.name),
            notes=store.notes(tenant.name),
            blocking=blocking(store, tenant.name),
            rules=tenant_rules(tenant, store),
            fees=open_fees(store, tenant.name),
        )

    def plan(self, invoices: Iterable[Invoice]) -> list[Decision]:
        decisions = plan(
            (mark_fee_invoice(self.tenant, i) for i in invoices),
            tenant=self.tenant.name,
            country=self.tenant.country,
            settings=self.settings,
            today=self.today,
            customers=self.customers,
            history=self.history,
            notes=self.notes,
            blocking=self.blocking,
            rules=self.rules,
        )
        return [self._with_fees(d) for d in decisions] if self.fees else decisions

    def _with_fees(self, decision: Decision) -> Decision:
        """An action on an invoice whose earlier fee invoices are still open carries their
        amount (shown on the letter; nothing new is charged on it)."""
        action = decision.action
        if action is None:
            return decision
        earlier = self.fees.get((action.invoice_id, action.currency))
        if not earlier:
            return decision
        action = action.model_copy(
            update={
                "earlier_fees": earlier,
                "reason": f"{action.reason}; {earlier} open on earlier fee invoices rides along",
            }
        )
        return replace(decision, action=action, reason=action.reason)

    def decide(self, invoice: Invoice, pending: ReminderAction | None = None) -> Decision:
        """The decision for one invoice with fresh facts (right before a push). ``pending``:
        the action about to be pushed, which the history must not already count as taken."""
        taken = self.history.get(invoice.provider_id, [])
        if pending is not None:
            taken = [
                t for t in taken if (t.stage, t.sequence) != (pending.stage, pending.sequence)
            ]
        return replace(self, history={invoice.provider_id: taken}).plan([invoice])[0]


def plan_tenant(tenant: TenantConfig, store: Store, today: date) -> list[Decision]:
    """The plan over every open invoice whose facts are complete; the others wait for details."""
    context = PlanContext.load(tenant, store, today)
    return plan_complete(context.plan, store, tenant.name, store.invoices(tenant.name, open_only=True))
