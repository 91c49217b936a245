"""The push engine against a fake provider: journal first, done only when confirmed, never twice."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import date, datetime
from decimal import Decimal
from pathlib import Path

import pytest
from backends import MakeStore

from connector.clock import Clock
from connector.config import TenantConfig
from connector.cycle.push import Pusher
from connector.models import (
    ActionStage,
    ActionState,
    Customer,
    CustomerKind,
    Invoice,
    InvoiceStatus,
    ReminderAction,
)
from connector.policy import Decision, Outcome
from connector.store import Store
from providers.base import (
    Capabilities,
    Letter,
    MessageChannel,
    PushResult,
    RecordError,
    StepRecorder,
)
from providers.http import ClientError, ServerError

CLOCK = Clock.starting_at(date(2026, 11, 23))  # the tests' clock; never the real date

TODAY = date(2026, 11, 23)


def invoice(n: str, outstanding: str = "1000.00", customer: str = "c1", status: InvoiceStatus = InvoiceStatus.OPEN) -> Invoice:
    return Invoice(provider="fake", provider_id=n, number=n, customer_id=customer, issue_date=date(2026, 9, 1),
                   due_date=date(2026, 10, 1), currency="NOK", gross=Decimal("1000.00"),
                   outstanding=Decimal(outstanding), status=status)


def action(n: str, customer: str = "c1", outstanding: str = "1000.00", stage: ActionStage = ActionStage.REMINDER) -> ReminderAction:
    return ReminderAction(tenant="t", invoice_id=n, invoice_number=n, customer_id=customer, stage=stage,
                          planned_on=TODAY, deadline=date(2026, 12, 7), fee=Decimal("38"),
                          interest=Decimal("12.50"), currency="NOK", outstanding=Decimal(outstanding))

pytestmark = pytest.mark.backends


class FakeProvider:
    name = "fake"
    account_id = "acct-1"

    def __init__(self, invoices: dict[str, Invoice]) -> None:
        self.invoices = invoices
        self.delivered: list[str] = []  # idempotency keys, one per real delivery
        self.letters: list[Letter] = []
        self.fail_with: Exception | None = None
        self.crash_after_delivery = False

    def iter_customers(self, since: datetime | None) -> Iterator[Customer | RecordError]:
        return iter(())

    def iter_invoices(self, since: datetime | None, open_only: bool) -> Iterator[Invoice | RecordError]:
        return iter(())

    def get_invoice(self, provider_id: str) -> Invoice:
        return self.invoices[provider_id]

    def capabilities(self) -> Capabilities:
        return Capabilities(countries=("NO",))

    def push(self, letter: Letter, channel: MessageChannel | None, steps: StepRecorder | None = None) -> dict[str, PushResult]:
        if self.fail_with is not None:
            raise self.fail_with
        self.letters.append(letter)
        out = {}
        for a in letter.actions:
            if a.idempotency_key not in self.delivered:  # idempotent per action, like the routes
                self.delivered.append(a.idempotency_key)
            out[a.idempotency_key] = PushResult(ok=True, reference=f"ref-{a.invoice_id}")
        if self.crash_after_delivery:
            raise ServerError("fake", "timed out after delivering")
        return out

    def lookup_action(self, action: ReminderAction) -> PushResult | None:
        return PushResult(ok=True, reference="found") if action.idempotency_key in self.delivered else None

    def close(self) -> None:
        pass


@pytest.fixture
def store(tmp_path: Path, make_store: MakeStore) -> Store:
    s = make_store(CLOCK, "p")
    s.ensure_tenant("t", "fake", "NO")
    s.upsert_customers("t", [Customer(provider="fake", provider_id="c1", name="Ærlig Bakeri AS", kind=CustomerKind.COMPANY, email="post@aerlig.no"),
                             Customer(provider="fake", provider_id="c2", name="Bjørg Løvås", kind=CustomerKind.PERSON)])
    return s


TENANT = TenantConfig(name="t", provider="fiken", country="NO", company="x", push=True)


def decisions(*actions: ReminderAction) -> list[Decision]:
    return [Decision(invoice=invoice(a.invoice_id), outcome=Outcome.ACTION, reason="due", action=a) for a in actions]


def pusher(store: Store, provider: FakeProvider, replan=None) -> Pusher:  # type: ignore[no-untyped-def]
    def same_plan(inv: Invoice, pending: ReminderAction) -> Decision:  # the policy, asked again, agrees
        return Decision(inv, Outcome.ACTION, "due", action(inv.provider_id, customer=inv.customer_id or "", outstanding=str(inv.outstanding)))

    return Pusher(tenant=TENANT, provider=provider, store=store, today=TODAY,  # type: ignore[arg-type]
                  replan=replan or same_plan)


def states(store: Store) -> dict[str, ActionState]:
    return {e.action.idempotency_key: e.state for e in store.journal("t")}


def test_one_letter_per_customer_stage_currency_and_done_after_confirmation(store: Store) -> None:
    provider = FakeProvider({n: invoice(n, customer=c) for n, c in [("1", "c1"), ("2", "c1"), ("3", "c2")]})
    report = pusher(store, provider).run(decisions(action("1"), action("2"), action("3", customer="c2")))
    assert sorted(len(letter.actions) for letter in provider.letters) == [1, 2]
    assert set(states(store).values()) == {ActionState.DONE}
    assert len(report.done) == 3
    journal = {e.action.invoice_id: e for e in store.journal("t")}
    assert journal["1"].sent_on == TODAY and journal["1"].reference == "ref-1"


def test_a_second_run_with_the_same_plan_sends_nothing(store: Store) -> None:
    provider = FakeProvider({"1": invoice("1")})
    pusher(store, provider).run(decisions(action("1")))
    report = pusher(store, provider).run(decisions(action("1")))
    assert provider.delivered == ["fake:acct-1:1:reminder:1"] and len(provider.letters) == 1
    assert report.done == []


def test_paid_before_push_is_skipped_and_logged(store: Store) -> None:
    provider = FakeProvider({"1": invoice("1", outstanding="0.00", status=InvoiceStatus.PAID)})
    report = pusher(store, provider).run(decisions(action("1")))
    assert provider.letters == []
    assert states(store) == {"fake:acct-1:1:reminder:1": ActionState.SKIPPED}
    assert report.skipped == ["fake:acct-1:1:reminder:1"]
    entry = next(iter(store.journal("t")))
    assert entry.message is not None and "paid" in entry.message


def test_part_payment_is_planned_again_with_the_fresh_balance(store: Store) -> None:
    provider = FakeProvider({"1": invoice("1", outstanding="400.00")})
    replanned = action("1", outstanding="400.00")
    p = pusher(store, provider, replan=lambda inv, _a: Decision(inv, Outcome.ACTION, "due", replanned))
    p.run(decisions(action("1")))
    assert provider.letters[0].actions[0].outstanding == Decimal("400.00")


def test_4xx_marks_failed_with_the_providers_message(store: Store) -> None:
    provider = FakeProvider({"1": invoice("1")})
    provider.fail_with = ClientError("fake", "request refused: customer has no e-mail", status=400)
    report = pusher(store, provider).run(decisions(action("1")))
    assert states(store) == {"fake:acct-1:1:reminder:1": ActionState.FAILED}
    assert report.failed == ["fake:acct-1:1:reminder:1"]
    assert "no e-mail" in (next(iter(store.journal("t"))).message or "")


def test_5xx_leaves_pending_and_reconciliation_never_resends(store: Store) -> None:
    provider = FakeProvider({"1": invoice("1")})
    provider.crash_after_delivery = True  # delivered, but the answer never came back
    report = pusher(store, provider).run(decisions(action("1")))
    assert states(store) == {"fake:acct-1:1:reminder:1": ActionState.PENDING} and report.pending
    provider.crash_after_delivery = False
    report = pusher(store, provider).run(decisions(action("1")))
    assert report.reconciled == ["fake:acct-1:1:reminder:1"]
    assert states(store) == {"fake:acct-1:1:reminder:1": ActionState.DONE}
    assert provider.delivered == ["fake:acct-1:1:reminder:1"] and len(provider.letters) == 1


def test_pending_without_trace_is_pushed_once(store: Store) -> None:
    provider = FakeProvider({"1": invoice("1")})
    store.journal_begin(action("1"))  # crashed after journalling, before any provider call
    report = pusher(store, provider).run(decisions(action("1")))
    assert provider.delivered == ["fake:acct-1:1:reminder:1"]
    assert report.done == ["fake:acct-1:1:reminder:1"]


def test_fresh_facts_that_change_the_decision_skip_the_push(store: Store) -> None:
    provider = FakeProvider({"1": invoice("1")})
    second = lambda inv, _a: Decision(inv, Outcome.SECOND_SENDER, "the accounting system sent its own reminder")  # noqa: E731
    report = pusher(store, provider, replan=second).run(decisions(action("1")))
    assert provider.letters == [] and report.skipped == ["fake:acct-1:1:reminder:1"]
    entry = next(iter(store.journal("t")))
    assert entry.state is ActionState.SKIPPED and "own reminder" in (entry.message or "")


def test_failed_actions_are_retried_a_bounded_number_of_times(store: Store) -> None:
    provider = FakeProvider({"1": invoice("1")})
    provider.fail_with = ClientError("fake", "refused", status=422)
    for _ in range(5):
        pusher(store, provider).run(decisions(action("1")))
    entry = next(iter(store.journal("t")))
    assert entry.state is ActionState.FAILED and entry.attempts == 3
    provider.fail_with = None
    pusher(store, provider).run(decisions(action("1")))
    assert provider.delivered == []  # out of attempts: a person must look


def test_stop_flag_finishes_nothing_new(store: Store) -> None:
    import threading

    provider = FakeProvider({"1": invoice("1")})
    stop = threading.Event()
    stop.set()
    p = pusher(store, provider)
    p.stop = stop
    report = p.run(decisions(action("1")))
    assert report.stopped and provider.letters == [] and states(store) == {}
