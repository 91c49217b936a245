"""Builders shared by the policy tests (kept beside them; holds a sanity test of its own)."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import UTC, date, datetime
from decimal import Decimal
from typing import Any

from connector.models import (
    ActionStage,
    Customer,
    CustomerKind,
    Dispatch,
    Invoice,
    InvoiceStatus,
    Note,
    NoteKind,
)
from connector.policy import CountryRules, Decision, PolicySettings, TakenAction, decide

R, N, H = ActionStage.REMINDER, ActionStage.COLLECTION_NOTICE, ActionStage.HANDOVER
D = Decimal


def customer(kind: CustomerKind = CustomerKind.COMPANY, cid: str = "c1") -> Customer:
    return Customer(
        provider="fiken", provider_id=cid, number="10001", name="Blåbær & Søn AS", kind=kind
    )


COMPANY = customer()
PERSON = customer(CustomerKind.PERSON)


def invoice(
    due: date,
    outstanding: str = "1000.00",
    currency: str = "NOK",
    iid: str = "i1",
    cid: str | None = "c1",
    issue: date | None = None,
    number: str = "10001",
    **kw: Any,
) -> Invoice:
    return Invoice(
        provider="fiken",
        provider_id=iid,
        number=f"N{iid}",
        customer_id=cid,
        customer_number=number if cid else None,
        customer_name="Blåbær & Søn AS",
        issue_date=issue or date.fromordinal(due.toordinal() - 14),
        due_date=due,
        currency=currency,
        gross=D(outstanding),
        outstanding=D(outstanding),
        status=kw.pop("status", InvoiceStatus.OPEN),
        **kw,
    )


def taken(
    stage: ActionStage,
    sent: date,
    deadline: date | None = None,
    fee: str = "0",
    compensation: str = "0",
    sequence: int = 1,
) -> TakenAction:
    return TakenAction(stage, sent, deadline, D(fee), D(compensation), sequence)


def note(
    kind: NoteKind,
    *,
    until: date | None = None,
    invoice_id: str | None = "i1",
    customer_id: str | None = None,
    text: str = "ringte",
    resolved: date | None = None,
    created: date = date(2025, 1, 1),
) -> Note:
    return Note(
        tenant="t",
        invoice_id=invoice_id,
        customer_id=customer_id,
        kind=kind,
        text=text,
        author="Åse Ødegård",
        created_at=datetime(created.year, created.month, created.day, tzinfo=UTC),
        until=until,
        resolved_at=datetime(resolved.year, resolved.month, resolved.day, 12, tzinfo=UTC)
        if resolved
        else None,
    )


def run(
    inv: Invoice,
    today: date,
    *,
    country: str = "NO",
    cust: Customer | None = PERSON,
    history: Sequence[TakenAction] = (),
    notes: Sequence[Note] = (),
    blocking: Sequence[str] = (),
    rules: CountryRules | None = None,
    **policy: Any,
) -> Decision:
    """``decide`` on one invoice with the policy given as keywords (checked against the law)."""
    settings = PolicySettings.for_country(country, policy, on=today)
    return decide(
        inv,
        tenant="t",
        country=country,
        settings=settings,
        today=today,
        customer=cust,
        history=history,
        notes=notes,
        blocking=blocking,
        rules=rules,
    )


def reminder_dispatch(on: date) -> Dispatch:
    return Dispatch(on=on, channel="email", kind="reminder")


def test_builders_round_trip_nordic_names() -> None:
    inv = invoice(date(2026, 2, 3))
    assert inv.customer_name == "Blåbær & Søn AS"
    assert note(NoteKind.CONTACT).author == "Åse Ødegård"
