"""Planning from the store: a pending action counts as taken, except when deciding to push it."""

from __future__ import annotations

from datetime import date
from decimal import Decimal
from pathlib import Path

from connector.clock import Clock
from connector.config import TenantConfig
from connector.cycle.plan import PlanContext
from connector.models import ActionStage, Customer, CustomerKind, Invoice, InvoiceStatus
from connector.store import SqliteStore

CLOCK = Clock.starting_at(date(2026, 11, 23))  # the tests' clock; never the real date

TODAY = date(2026, 11, 23)
TENANT = TenantConfig(name="t", provider="fiken", country="NO", company="x")


def test_pending_action_blocks_a_new_plan_but_not_its_own_push(tmp_path: Path) -> None:
    store = SqliteStore(str(tmp_path / "s.db"), CLOCK)
    store.ensure_tenant("t", "fiken", "NO")
    store.upsert_customers("t", [Customer(provider="fiken", provider_id="c", name="Ærlig AS", kind=CustomerKind.COMPANY, org_number="923609016")])
    invoice = Invoice(provider="fiken", provider_id="1", number="1", customer_id="c", issue_date=date(2026, 9, 1),
                      due_date=date(2026, 10, 1), currency="NOK", gross=Decimal("1000.00"),
                      outstanding=Decimal("1000.00"), status=InvoiceStatus.OPEN)
    store.upsert_invoices("t", [invoice])
    first = PlanContext.load(TENANT, store, TODAY).decide(invoice)
    assert first.action is not None and first.action.stage is ActionStage.REMINDER
    store.journal_begin(first.action)  # journalled, then the process died before the provider answered

    context = PlanContext.load(TENANT, store, TODAY)
    again = context.decide(invoice)
    assert again.action is None  # nobody may plan the same letter while it is pending
    for_push = context.decide(invoice, pending=first.action)
    assert for_push.action is not None
    assert for_push.action.idempotency_key == first.action.idempotency_key
