"""The reminder plan of one tenant, from the store: invoices, customers, journal, notes, findings."""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Sequence
from datetime import date

from connector.config import TenantConfig
from connector.models import ActionStage, ActionState, Invoice
from connector.policy import Decision, PolicySettings, TakenAction, decide, plan
from connector.store import Store


def tenant_policy(tenant: TenantConfig, today: date) -> PolicySettings:
    return PolicySettings.for_country(tenant.country, tenant.policy, on=today)


def history(store: Store, tenant: str) -> dict[str, list[TakenAction]]:
    """What kravsync already did per invoice. Pending actions count as taken: until they are
    reconciled nobody may plan the same letter again."""
    out: dict[str, list[TakenAction]] = defaultdict(list)
    for entry in store.journal(tenant, states=(ActionState.DONE, ActionState.PENDING)):
        out[entry.action.invoice_id].append(TakenAction.from_action(entry.action, entry.sent_on))
    return out


def blocking(store: Store, tenant: str) -> dict[str, dict[ActionStage, Sequence[str]]]:
    """Per customer, per stage, the error findings that block it."""
    out: dict[str, dict[ActionStage, list[str]]] = defaultdict(lambda: defaultdict(list))
    for row in store.findings(tenant):
        if row["severity"] != "error" or not row["customer_id"]:
            continue
        for stage in row["blocks"]:
            out[row["customer_id"]][ActionStage(stage)].append(row["code"])
    return {cid: dict(stages) for cid, stages in out.items()}


def plan_tenant(tenant: TenantConfig, store: Store, today: date) -> list[Decision]:
    customers = {c.provider_id: c for c in store.customers(tenant.name)}
    return plan(
        store.invoices(tenant.name, open_only=True),
        tenant=tenant.name,
        country=tenant.country,
        settings=tenant_policy(tenant, today),
        today=today,
        customers=customers,
        history=history(store, tenant.name),
        notes=store.notes(tenant.name),
        blocking=blocking(store, tenant.name),
    )


def decide_one(tenant: TenantConfig, store: Store, invoice: Invoice, today: date) -> Decision:
    """The decision for one invoice with fresh facts (right before a push)."""
    customer = store.customer(tenant.name, invoice.customer_id) if invoice.customer_id else None
    notes = [
        n
        for n in store.notes(tenant.name)
        if n.invoice_id == invoice.provider_id
        or (
            n.invoice_id is None
            and n.customer_id is not None
            and n.customer_id == invoice.customer_id
        )
    ]
    blocked = blocking(store, tenant.name).get(invoice.customer_id or "", {})
    return decide(
        invoice,
        tenant=tenant.name,
        country=tenant.country,
        settings=tenant_policy(tenant, today),
        today=today,
        customer=customer,
        history=history(store, tenant.name).get(invoice.provider_id, []),
        notes=notes,
        blocking=blocked,
    )
