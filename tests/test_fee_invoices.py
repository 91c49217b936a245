"""Never dun a fee: kravsync's own fee invoices (and those the tenant marks) are never reminded,
charged a fee or interest; what is open on them rides along on the original's next letter. And
no fee letter for a balance smaller than its fee (minimum_amount's default)."""

from __future__ import annotations

import json
from datetime import date
from decimal import Decimal
from pathlib import Path

import pytest
from conftest import TOKEN, fiken_config
from test_policy_support import PERSON, D, invoice, run

from connector.cli import main
from connector.clock import Clock
from connector.config import TenantConfig
from connector.cycle.plan import PlanContext, mark_fee_invoice
from connector.models import ActionStage, ActionState, Customer, CustomerKind
from connector.policy import Outcome
from connector.render.notices import Creditor, render_letter
from connector.store import SqliteStore
from mappings.common import own_fee_invoice_for
from providers.fiken.push import fee_invoice_request
from providers.fiken.sandbox import FikenSandbox

DAY = date(2026, 3, 16)  # 41 days after the due date below: a reminder with a fee is due
DUE = date(2026, 2, 3)


def tenant(**kw: object) -> TenantConfig:
    return TenantConfig.model_validate(
        {"name": "t", "provider": "fiken", "country": "NO", "company": "x", **kw}
    )


def test_the_fee_invoice_kravsync_creates_carries_a_marker_the_mapping_reads_back() -> None:
    plain = run(invoice(DUE, iid="2888000"), DAY)
    assert plain.action is not None and plain.action.fee > 0
    request = fee_invoice_request(plain.action, 1, "acct", "8050")
    assert own_fee_invoice_for(request["invoiceText"]) == "2888000"
    # any key before the invoice id (the tenant, or a provider account) is fine
    assert own_fee_invoice_for("x [kravsync:fiken:acme:77:collection_notice:2]") == "77"
    assert own_fee_invoice_for("Purregebyr for faktura 10031") is None
    assert own_fee_invoice_for("[kravsync:broken]") is None


@pytest.mark.parametrize("country, currency", [("NO", "NOK"), ("SE", "SEK")])
def test_a_fee_invoice_is_never_reminded_charged_or_given_interest(
    country: str, currency: str
) -> None:
    fee = invoice(DUE, "38.00", currency=currency, iid="fee1", fee_for="i1")
    d = run(fee, DAY, country=country, reminder_fee_agreed=True) if country == "SE" else run(
        fee, DAY
    )
    assert d.outcome is Outcome.FEE_INVOICE and d.action is None
    assert "never reminded" in d.reason and "i1" in d.reason
    # long after: still nothing (no notice, no interest, no handover)
    later = run(fee, date(2027, 1, 20), country=country)
    assert later.outcome is Outcome.FEE_INVOICE and later.action is None


def test_invoices_the_tenant_marks_are_fee_invoices_too() -> None:
    t = tenant(fee_invoices={"text": ["purregebyr"], "numbers": ["N77"]})
    by_text = mark_fee_invoice(t, invoice(DUE, text="Purregebyr faktura 1001"))
    by_number = mark_fee_invoice(t, invoice(DUE, iid="77"))
    other = mark_fee_invoice(t, invoice(DUE, iid="78", text="Konsulenttimer"))
    assert by_text.is_fee_invoice and by_number.is_fee_invoice and not other.is_fee_invoice
    assert run(by_text, DAY).outcome is Outcome.FEE_INVOICE


def test_the_open_fee_rides_along_on_the_originals_next_letter(tmp_path: Path) -> None:
    t = tenant()
    original = invoice(DUE, "1000.00", iid="i1")
    fee = invoice(DUE, "38.00", iid="fee1", fee_for="i1")
    store = SqliteStore(str(tmp_path / "s.db"), Clock.starting_at(DAY))
    store.ensure_tenant("t", "fiken", "NO")
    store.upsert_invoices("t", [original, fee])
    context = PlanContext.load(t, store, DAY)
    decisions = {d.invoice.provider_id: d for d in context.plan([original, fee])}
    assert decisions["fee1"].action is None
    action = decisions["i1"].action
    assert action is not None and action.earlier_fees == D("38.00")
    assert action.interest == context.plan([original])[0].action.interest  # type: ignore[union-attr]
    letter = render_letter(
        tenant="t",
        country="NO",
        creditor=Creditor(name="Kreditor AS"),
        customer=Customer(provider="fiken", provider_id="c1", name="Kari", kind=CustomerKind.PERSON),
        stage=ActionStage.REMINDER,
        currency="NOK",
        actions=[action],
        invoices=[original],
        today=DAY,
    )
    assert "Ubetalte gebyr fra tidligere brev" in letter.text
    total = action.outstanding + action.fee + action.interest + Decimal("38.00")
    assert f"{total:.2f}".replace(".", ",") in letter.text.replace("\u00a0", " ").replace(" ", "")
    # the original paid: nothing rides anywhere, and the fee invoice is still not dunned
    store.upsert_invoices("t", [original.model_copy(update={"outstanding": D("0")})])
    context = PlanContext.load(t, store, DAY)
    assert context.fees == {("i1", "NOK"): D("38.00")}
    assert context.plan([fee])[0].outcome is Outcome.FEE_INVOICE


def test_no_fee_letter_for_a_balance_smaller_than_the_fee() -> None:
    d = run(invoice(DUE, "0.50"), DAY)
    assert d.outcome is Outcome.BELOW_MINIMUM and d.action is None
    assert "statutory reminder fee" in d.reason
    # SE: a collection notice would charge 180 kr on a 100 kr balance (above the 60 kr floor)
    se = run(
        invoice(DUE, "100.00", currency="SEK"),
        DAY,
        country="SE",
        stages=["collection_notice"],
    )
    assert se.outcome is Outcome.BELOW_MINIMUM and "180" in se.reason
    # a balance above the fee: the letter goes out
    assert run(invoice(DUE, "500.00"), DAY).has_action


def test_minimum_amount_set_by_hand_wins() -> None:
    assert run(invoice(DUE, "0.50"), DAY, minimum_amount="0").has_action
    assert run(invoice(DUE, "40.00"), DAY, minimum_amount="50").outcome is Outcome.BELOW_MINIMUM


def test_a_person_customer_gets_no_fee_letter_for_a_tiny_balance_either() -> None:
    assert run(invoice(DUE, "10.00"), DAY, cust=PERSON).outcome is Outcome.BELOW_MINIMUM


def test_plan_never_reminds_the_fee_invoices_a_push_created(
    tmp_path: Path, sandbox: FikenSandbox, clock: Clock, monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
) -> None:
    """The case from the issue: after a push, `plan --today 2027-01-20` planned a purring with a
    fee on kravsync's own purregebyr invoice."""
    monkeypatch.setenv("FIKEN_E2E_TOKEN", TOKEN)
    config = fiken_config(
        tmp_path / "kravsync.toml",
        sandbox,
        token_env="FIKEN_E2E_TOKEN",
        extra='push = true\n\n[tenants.validation]\npostcode_register_source = "fixture"\n',
    )

    def cli(*args: str) -> int:
        return main(["--config", str(config), *args], clock=clock)

    assert cli("sync") == 0
    created = sandbox.created_invoices()
    assert created, "the push created fee invoices"
    assert cli("sync") == 0  # pulls them back
    capsys.readouterr()
    store = SqliteStore(str(tmp_path / "state.db"), clock)
    fees = [i for i in store.invoices("fjord", open_only=True) if i.is_fee_invoice]
    assert len(fees) == len(created) and all(i.fee_for for i in fees)
    assert cli("plan", "--today", "2027-01-20", "--format", "json") == 0
    document = json.loads(capsys.readouterr().out)
    fee_ids = {i.provider_id for i in fees}
    assert {a["invoice_id"] for a in document["actions"]}.isdisjoint(fee_ids)
    outcomes = {i["invoice_id"]: i["outcome"] for i in document["skipped"]}
    assert {outcomes[i] for i in fee_ids} == {"fee_invoice"}
    riding = [a for a in document["actions"] if "earlier_fees" in a]
    assert riding and all(a["invoice_id"] in {i.fee_for for i in fees} for a in riding)


def test_fortnox_remarks_let_the_tenant_mark_fee_invoices_and_never_break_a_record() -> None:
    from test_fortnox_mappings import INVOICE_LIST_ITEM

    from mappings import fortnox

    t = TenantConfig.model_validate(
        {"name": "s", "provider": "fortnox", "country": "SE", "fee_invoices": {"text": ["avgift"]}}
    )
    marked = fortnox.invoice(dict(INVOICE_LIST_ITEM, Remarks="Påminnelseavgift faktura 1001"))
    assert mark_fee_invoice(t, marked).is_fee_invoice
    odd = fortnox.invoice(dict(INVOICE_LIST_ITEM, Remarks={"not": "text"}))  # still maps
    assert odd.text is None and not mark_fee_invoice(t, odd).is_fee_invoice


def test_migration_9_relists_the_open_invoices_once(tmp_path: Path) -> None:
    import sqlite3

    path = tmp_path / "old.db"
    store = SqliteStore(str(path), Clock.starting_at(DAY))
    store.ensure_tenant("t", "fiken", "NO")
    store.ensure_tenant("nofee", "fiken", "NO")
    for name in ("t", "nofee"):
        store.set_cursor(name, "customers", "2026-03-01T00:00:00+00:00")
        store.set_cursor(name, "invoices", "2026-03-01T00:00:00+00:00")
    charged = run(invoice(DUE, iid="5"), DAY).action
    assert charged is not None and charged.fee > 0
    for a in (charged, charged.model_copy(update={"tenant": "nofee", "fee": D("0")})):
        store.journal_begin(a)
        store.journal_finish(a.idempotency_key, ActionState.DONE)
    store.close()
    db = sqlite3.connect(path)  # as version 6 left it
    with db:
        db.execute("DELETE FROM schema_version WHERE version > 6")
    db.close()
    store = SqliteStore(str(path), Clock.starting_at(DAY))
    assert store.get_cursor("t", "invoices") is None  # the next pull re-maps every open invoice
    assert store.get_cursor("t", "customers") is not None
    assert store.get_cursor("nofee", "invoices") is not None  # made no fee invoice: no re-list
    store.set_cursor("t", "invoices", "2026-03-02T00:00:00+00:00")
    store.close()
    again = SqliteStore(str(path), Clock.starting_at(DAY))
    assert again.get_cursor("t", "invoices") is not None  # once only
