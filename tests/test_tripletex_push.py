"""Tripletex's native reminders: type and charges per action, the charge check, at most once."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import date, timedelta
from decimal import Decimal
from pathlib import Path
from typing import Any

import pytest
from backends import MakeStore

from connector.config import TenantConfig
from connector.models import ActionStage, ActionState, Invoice, ReminderAction
from connector.policy.rules import rules_for
from connector.runtime import run_tenant
from connector.secrets import MemoryCredentials
from connector.store import Store
from connector.validation import fixture_register
from providers.base import Letter, registry
from providers.http import ClientError
from providers.tripletex.adapter import TripletexProvider
from providers.tripletex.auth import forget_sessions
from providers.tripletex.push import Request, Terms, learn_terms, request_for
from providers.tripletex.sandbox import TripletexSandbox
from providers.tripletex.sandbox import reminders as desk
from providers.tripletex.sandbox import seed as s

pytestmark = [pytest.mark.e2e, pytest.mark.backends]
TODAY = date(2026, 11, 23)
CREATE = "InvoiceCreateReminder_createReminder"


@pytest.fixture(autouse=True)
def fresh_sessions() -> Iterator[None]:
    forget_sessions()
    yield


@pytest.fixture
def sandbox() -> Iterator[TripletexSandbox]:
    with TripletexSandbox(today=TODAY, rate_limit=False) as sb:
        yield sb


def tenant(sb: TripletexSandbox, company: int | None = None, **extra: Any) -> TenantConfig:
    settings = sb.tenant_settings()
    if company is not None:
        settings["company"] = str(company)
    return TenantConfig.model_validate(
        {
            "name": "fjell",
            "provider": "tripletex",
            "country": "NO",
            "push": True,
            **settings,
            **extra,
        }
    )


def provider(sb: TripletexSandbox, t: TenantConfig) -> TripletexProvider:
    p = registry()["tripletex"].create(
        t, MemoryCredentials({t.name: sb.demo_secret()}), clock=sb.clock
    )
    assert isinstance(p, TripletexProvider)
    return p


def cycle(sb: TripletexSandbox, t: TenantConfig, store: Store) -> Any:
    return run_tenant(
        t,
        store,
        clock=sb.clock,
        credentials=MemoryCredentials({t.name: sb.demo_secret()}),
        postcodes=lambda _t: fixture_register(),
    )


def action_for(
    inv: Invoice, stage: ActionStage = ActionStage.REMINDER, **over: Any
) -> ReminderAction:
    data: dict[str, Any] = {
        "tenant": "fjell",
        "invoice_id": inv.provider_id,
        "invoice_number": inv.number,
        "customer_id": inv.customer_id,
        "stage": stage,
        "planned_on": TODAY,
        "deadline": TODAY + timedelta(days=14),
        "currency": inv.currency,
        "outstanding": inv.outstanding,
        **over,
    }
    return ReminderAction.model_validate(data)


def letter(action: ReminderAction, inv: Invoice) -> Letter:
    return Letter(
        tenant="fjell", customer=None, stage=action.stage, currency=action.currency,
        actions=(action,), invoices=(inv,), subject="s", text="t", pdf=b"%PDF-", filename="x.pdf",
    )  # fmt: skip


def tagged(sb: TripletexSandbox, p: TripletexProvider, tag: str) -> Invoice:
    book = sb.book()
    assert isinstance(book, s.ListBook)
    return p.get_invoice(str(book.invoice_id(book.tags[tag])))


def test_a_push_cycle_makes_native_reminders_with_the_plans_charges(
    sandbox, tmp_path: Path, make_store: MakeStore
) -> None:
    # Due dates agreed in advance: interest runs from the due date (forsinkelsesrenteloven § 2),
    # so the letters carry interest for Tripletex's own settings to be checked against.
    t = tenant(sandbox, policy={"due_dates_agreed": True})
    store = make_store(sandbox.clock, "s")
    result = cycle(sandbox, t, store)
    assert result.ok and result.pushed is not None
    done = [e for e in store.journal(t.name) if e.state is ActionState.DONE]
    made = sandbox.received(CREATE, status=200)
    assert len(made) == len(done) >= 8
    for entry in done:
        a = entry.action
        (reminder,) = sandbox.reminders_of(int(a.invoice_id))
        assert reminder.kind == request_for(a).kind and reminder.on == a.planned_on
        assert reminder.charge_currency == a.fee and reminder.interests == a.interest
        assert reminder.dispatch == "EMAIL"
    # The oldest invoice's interest was planned over a rate change: Tripletex's one rate differs.
    failed = [e for e in store.journal(t.name) if e.state is ActionState.FAILED]
    assert [e.action.invoice_number for e in failed] == ["10001"]
    assert "Tripletex would charge interest" in (failed[0].message or "")
    again = cycle(sandbox, t, store)
    assert again.ok and len(sandbox.received(CREATE, status=200)) == len(made)  # nothing twice


def test_tripletex_own_reminder_is_a_second_sender(sandbox, tmp_path: Path, make_store: MakeStore) -> None:
    t = tenant(sandbox, push=False)
    store = make_store(sandbox.clock, "s")
    result = cycle(sandbox, t, store)
    book = sandbox.book()
    assert isinstance(book, s.ListBook)
    reminded = str(book.invoice_id(book.tags["fiken_reminder"]))
    decision = next(d for d in result.decisions if d.invoice.provider_id == reminded)
    assert decision.action is None and "sent its own reminder" in decision.reason


def test_a_lost_answer_is_confirmed_from_the_invoice_not_sent_again(sandbox) -> None:
    p = provider(sandbox, tenant(sandbox))
    inv = tagged(sandbox, p, "overdue_20")
    a = action_for(inv, fee=Decimal("38"))
    sandbox.inject(":createReminder", status=502, after=True)
    result = p.push(letter(a, inv), None)[a.idempotency_key]
    assert result.ok and "confirmed from the invoice" in result.message
    assert len(sandbox.reminders_of(int(inv.provider_id))) == 1
    again = p.push(letter(a, inv), None)[a.idempotency_key]
    assert again.ok and len(sandbox.reminders_of(int(inv.provider_id))) == 1
    found = p.lookup_action(a)
    assert found is not None and found.ok and found.reference == result.reference


def test_lookup_finds_nothing_before_and_the_reminder_after(sandbox) -> None:
    p = provider(sandbox, tenant(sandbox))
    inv = tagged(sandbox, p, "overdue_10_dup")
    a = action_for(inv)  # no fee, no interest: a betalingspåminnelse
    assert p.lookup_action(a) is None
    assert p.push(letter(a, inv), None)[a.idempotency_key].ok
    (made,) = sandbox.reminders_of(int(inv.provider_id))
    assert made.kind == "SOFT_REMINDER" and made.charge == 0
    found = p.lookup_action(a)
    assert found is not None and found.ok and found.details["type"] == "SOFT_REMINDER"


def test_a_company_with_its_own_fee_is_refused_naming_the_difference(sandbox) -> None:
    p = provider(sandbox, tenant(sandbox, company=s.FIXED_FEE_COMPANY_ID))
    book = sandbox.book(s.FIXED_FEE_COMPANY_ID)
    inv = p.get_invoice(str(book.invoice_id(0)))
    a = action_for(inv, fee=Decimal("38"))
    with pytest.raises(ClientError) as err:
        p.push(letter(a, inv), None)
    text = str(err.value)
    assert "Tripletex would charge a fee of 70.00 NOK, the plan says 38.00" in text
    assert "the company's own fixed reminder fee" in text
    assert book.reminders.get(book.invoice_id(0)) is None  # nothing was made
    without_fee = action_for(inv)  # the plan asks for no fee: nothing to disagree about
    assert p.push(letter(without_fee, inv), None)[without_fee.idempotency_key].ok


def test_compensation_cannot_ride_on_a_tripletex_reminder(sandbox) -> None:
    p = provider(sandbox, tenant(sandbox))
    inv = tagged(sandbox, p, "overdue_20")
    a = action_for(inv, stage=ActionStage.COLLECTION_NOTICE, compensation=Decimal("430"))
    with pytest.raises(ClientError, match="B2B compensation 430.00 NOK"):
        p.push(letter(a, inv), None)


def test_the_dispatch_type_comes_from_the_tenant(sandbox) -> None:
    p = provider(sandbox, tenant(sandbox, dispatch_type="OWN_PRINTER"))
    inv = tagged(sandbox, p, "overdue_3_noemail")  # no e-mail: EMAIL would be refused
    a = action_for(inv)
    assert p.push(letter(a, inv), None)[a.idempotency_key].ok
    assert sandbox.reminders_of(int(inv.provider_id))[0].dispatch == "OWN_PRINTER"
    (seen,) = sandbox.received(CREATE)
    assert seen.query["dispatchType"] == ["OWN_PRINTER"]


def test_handover_goes_to_the_debt_collector(sandbox) -> None:
    p = provider(sandbox, tenant(sandbox))
    inv = tagged(sandbox, p, "overdue_40")
    a = action_for(inv, stage=ActionStage.HANDOVER, deadline=None, interest=Decimal("100"))
    assert p.push(letter(a, inv), None)[a.idempotency_key].ok
    (made,) = sandbox.reminders_of(int(inv.provider_id))
    assert made.kind == "DEBT_COLLECTION" and made.charge == made.interests == 0
    assert p.get_invoice(inv.provider_id).handled_by == "tripletex_debt_collection"


def test_a_refusal_of_one_invoice_does_not_stop_the_others(sandbox) -> None:
    p = provider(sandbox, tenant(sandbox))
    good, bad = tagged(sandbox, p, "overdue_20"), tagged(sandbox, p, "overdue_40")
    a_good = action_for(good, fee=Decimal("38"))
    a_bad = action_for(bad, fee=Decimal("35"))  # the statutory fee in 2026 is 38
    two = Letter(
        tenant="fjell", customer=None, stage=ActionStage.REMINDER, currency="NOK",
        actions=(a_good, a_bad), invoices=(good, bad), subject="s", text="t", pdf=b"", filename="x",
    )  # fmt: skip
    results = p.push(two, None)
    assert results[a_good.idempotency_key].ok
    assert not results[a_bad.idempotency_key].ok
    assert "fee of 38.00 NOK, the plan says 35.00" in results[a_bad.idempotency_key].message


@pytest.mark.parametrize(
    ("stage", "fee", "interest", "expected"),
    [
        (ActionStage.REMINDER, "0", "0", Request("SOFT_REMINDER", False, False)),
        (ActionStage.REMINDER, "38", "0", Request("REMINDER", True, False)),
        (ActionStage.REMINDER, "0", "12.50", Request("REMINDER", False, True)),
        (
            ActionStage.COLLECTION_NOTICE,
            "38",
            "12.50",
            Request("NOTICE_OF_DEBT_COLLECTION", True, True),
        ),
        (ActionStage.HANDOVER, "0", "12.50", Request("DEBT_COLLECTION", False, False)),
    ],
)
def test_stage_to_tripletex_type(
    stage: ActionStage, fee: str, interest: str, expected: Request
) -> None:
    a = ReminderAction(
        tenant="t", invoice_id="1", invoice_number="1", customer_id="1", stage=stage,
        planned_on=TODAY, fee=Decimal(fee), interest=Decimal(interest), currency="NOK",
        outstanding=Decimal("100"),
    )  # fmt: skip
    assert request_for(a) == expected


def test_charge_settings_are_learnt_from_the_companys_reminders() -> None:
    rules = rules_for("NO")
    none = learn_terms([], rules)
    assert none == Terms(None, none.charge_source, None, none.rate_source)
    assert "documented default" in none.charge_source
    statutory = learn_terms(
        [{"id": 1, "reminderDate": "2025-12-01", "charge": 35, "interestRate": Decimal("12.25")}],
        rules,
    )
    assert statutory.charge is None and statutory.rate is None  # followed the law on its day
    assert statutory.charge_on(date(2026, 2, 1), rules)[0] == Decimal("38")  # so: 2026's figure
    fixed = learn_terms(
        [
            {"id": 1, "reminderDate": "2025-12-01", "charge": 35, "interestRate": Decimal("12.25")},
            {"id": 2, "reminderDate": "2026-03-01", "charge": 70, "interestRate": Decimal("8.5")},
        ],
        rules,
    )
    assert fixed.charge == Decimal("70") and fixed.rate == Decimal("8.5")
    assert "reminder 2 of 2026-03-01" in fixed.charge_source


def test_a_cycle_through_the_pusher_after_a_crash_completes_from_evidence(
    sandbox, tmp_path: Path, make_store: MakeStore
) -> None:
    """A reminder made but never journalled done (a crash): the next cycle reconciles it."""
    t = tenant(sandbox)
    store = make_store(sandbox.clock, "s")
    assert cycle(sandbox, tenant(sandbox, push=False), store).ok
    p = provider(sandbox, t)
    inv = tagged(sandbox, p, "overdue_20")
    decision = next(
        d for d in cycle(sandbox, tenant(sandbox, push=False), store).decisions
        if d.invoice.provider_id == inv.provider_id
    )  # fmt: skip
    assert decision.action is not None
    assert store.journal_begin(decision.action)  # journalled pending, then "crashed" mid-push
    p.push(letter(decision.action, inv), None)
    result = cycle(sandbox, t, store)
    # journalled under the legacy key (tenant name first): re-keyed onto the company id
    assert decision.action.account is None
    rekeyed = decision.action.model_copy(update={"account": f"tripletex:{p.account_id}"})
    assert rekeyed.idempotency_key in result.pushed.reconciled
    assert len(sandbox.reminders_of(int(inv.provider_id))) == 1


def test_other_charges_than_planned_are_reported_with_the_result(
    sandbox, caplog: pytest.LogCaptureFixture
) -> None:
    p = provider(sandbox, tenant(sandbox))
    inv = tagged(sandbox, p, "overdue_20_b2c")
    book = sandbox.book()
    i = book.invoice_index(int(inv.provider_id))
    assert i is not None
    for days in (5, 4):  # two fee-bearing reminders already: Tripletex adds no third fee
        query = {"type": "REMINDER", "date": str(TODAY - timedelta(days=days)),
                 "dispatchType": "EMAIL", "includeCharge": "true"}  # fmt: skip
        desk.create(book, i, query, TODAY, sandbox.world.ids)
    a = action_for(inv, fee=Decimal("38"))
    result = p.push(letter(a, inv), None)[a.idempotency_key]
    assert result.ok and "Tripletex charged fee 0.00" in result.message
    assert "the plan said 38.00" in caplog.text
